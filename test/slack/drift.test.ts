/**
 * Drift: a tenant pays for more (or less) than it has. `/provision drift`
 * and `provisioner drift` show it; the nightly check posts new drift in
 * #onboarding once, with Fix (an admin applies billing's truth, as a job) and
 * Ignore (a reason required, kept with the person's name).
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { driftText } from '../../src/cli/drift.ts';
import { DRIFT_ACTIONS, DRIFT_REASON_BLOCK } from '../../src/slack/blocks/index.ts';
import { tenantConfigRecords } from '../../src/steps/feature-flags/record.ts';
import { dealFor, waitForRecord, waitForStatus } from '../support/harness.ts';
import { REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';
import { AE, APPROVER, CHANNEL, startSlackApp, stopSlackApp, type SlackTestApp } from '../support/slack-app.ts';
import { slashCommandBody } from '../support/slack-signing.ts';
import { clickButton, openedModal, said, sender, submitModal, until } from '../support/slack-story.ts';

const PIPELINE = pipelineOf(sandbox('database', { latencyMs: 5, resource: '${tenant.databaseName}' }));

describe('drift between billing and tenants', () => {
  let s: SlackTestApp | undefined;
  afterEach(async () => {
    await stopSlackApp(s);
    s = undefined;
  });

  /** A live starter tenant whose configuration record has SSO on (never sold) and 10 of its users. */
  async function driftingTenant(env: Record<string, string> = {}): Promise<{ s: SlackTestApp; slug: string }> {
    s = await startSlackApp({ pipeline: PIPELINE, env: { SLACK_ADMINS: APPROVER.id, DRIFT_CHECK_CRON: 'off', ...env } });
    const { app } = s;
    const { job } = await app.service.provision(dealFor({ companyName: 'Initech', plan: 'starter' }), REQUESTER);
    await waitForStatus(app, job.jobId, ['live']);
    await waitForRecord(app, job.jobId);
    const slug = job.tenant.slug;
    const mongo = new MongoClient(app.config.mongoUri);
    const where = { tenantId: `tnt_${slug}`, database: app.config.tenant.sharedDatabaseName, isolation: 'shared' as const };
    await tenantConfigRecords(mongo, where).updateOne(
      { _id: `tnt_${slug}` },
      {
        $set: {
          features: {
            sso: true,
            audit_log: false,
            api_access: true,
            custom_roles: false,
            data_export: true,
            sandbox_env: false,
            priority_support: false,
            advanced_analytics: false,
          },
          limits: { users: 10, storage_gb: 50, api_calls_per_day: 10_000 },
        },
      },
      { upsert: true },
    );
    await mongo.close();
    return { s, slug };
  }

  it('shows the drift in the CLI and in Slack, posts it once, is ignored with a reason, and fixed by an admin', async () => {
    const { s, slug } = await driftingTenant();
    const { app, fake } = s;

    expect(driftText([await app.billing.drift(slug)], slug)).toEqual([
      `${slug} (Initech)`,
      '  Enabled but not paid (an upsell the account team may not know about):',
      '    sso',
    ]);

    // Privately, in Slack.
    const before = fake.ephemerals(CHANNEL).length;
    await sender(s)(
      slashCommandBody({
        command: '/provision',
        text: `drift ${slug}`,
        userId: AE.id,
        userName: AE.name,
        channelId: CHANNEL,
        triggerId: fake.issueTrigger(),
      }),
    );
    const answer = await until('the drift answer', () => fake.ephemerals(CHANNEL)[before]);
    expect(said(answer)).toContain('Enabled but not paid');
    expect(said(answer)).toContain('sso');

    // The nightly check posts it once; the same drift the next night is not news.
    expect(await app.billing.postNewDrift()).toBe('1 new drift posted');
    expect(await app.billing.postNewDrift()).toBe('0 new drifts posted');
    const notice = await until('the drift notice', () => fake.messages(CHANNEL).find((m) => said(m).includes('drifts from what billing pays for')));

    // Ignore asks why, and keeps the answer with the person's name.
    const opened = fake.callsTo('views.open').length;
    await clickButton(s, AE, notice, DRIFT_ACTIONS.ignore);
    const modal = await openedModal(s, opened);
    const empty = await submitModal(s, AE, modal, {
      [DRIFT_REASON_BLOCK.blockId]: { [DRIFT_REASON_BLOCK.actionId]: { type: 'plain_text_input', value: ' ' } },
    });
    expect(empty.body).toContain('Say why this drift may stay');
    await submitModal(s, AE, modal, {
      [DRIFT_REASON_BLOCK.blockId]: { [DRIFT_REASON_BLOCK.actionId]: { type: 'plain_text_input', value: 'SSO pilot agreed by sales until March' } },
    });
    await expect.poll(async () => (await app.billingStore.driftDecision(slug))?.state, { timeout: 10_000 }).toBe('ignored');
    expect(await app.billingStore.driftDecision(slug)).toMatchObject({ by: 'Jane Ae (U0AE00001)', reason: 'SSO pilot agreed by sales until March' });

    // Fix is for admins: the AE is refused in words, the admin's click applies billing's truth as a job.
    const told = fake.ephemerals(CHANNEL).length;
    await clickButton(s, AE, notice, DRIFT_ACTIONS.fix);
    expect(said(await until('the refusal', () => fake.ephemerals(CHANNEL)[told]))).toContain('Nothing changed');
    await clickButton(s, APPROVER, notice, DRIFT_ACTIONS.fix);
    await until('the fix to be asked', () => fake.ephemerals(CHANNEL).find((e) => said(e).includes('Applying what billing pays for')));
    const jobs = await app.store.findJobs({ search: slug, limit: 10 });
    const fix = jobs.find((j) => j.definition.kind === 'sync_entitlements');
    if (!fix) throw new Error('no sync_entitlements job');
    await waitForStatus(app, fix.definition.jobId, ['live']);
    expect((await app.billing.drift(slug)).drift).toEqual({ paidNotEnabled: [], enabledNotPaid: [] });
    expect(await app.billing.drifting()).toEqual([]);
  });

  it('keeps one nightly drift check scheduled, whatever the number of workers', async () => {
    const { s } = await driftingTenant({ DRIFT_CHECK_CRON: '15 2 * * *' });
    const connection = new Redis(s.app.config.redisUrl, { maxRetriesPerRequest: null });
    const queue = new Queue('billing-events', { connection, prefix: s.app.prefix });
    await expect.poll(async () => (await queue.getJobScheduler('drift-check-nightly'))?.pattern, { timeout: 5_000 }).toBe('15 2 * * *');
    expect(await queue.getJobSchedulersCount()).toBe(1);
    await queue.close();
    await connection.quit();
  });
});
