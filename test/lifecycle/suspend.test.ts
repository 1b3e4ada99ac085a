/**
 * Suspending and reactivating a tenant that signs in through Okta, on the Okta
 * emulator: sign-in is blocked (the tenant's app deactivated and taken from
 * its admin group) and allowed again; its data and people are kept. Asked
 * from Slack with a confirmation modal, and by a billing source.
 */
import { describe, expect, it } from 'vitest';
import type { Identity } from '../../src/domain/policy.ts';
import { LIFECYCLE_BLOCKS, LIFECYCLE_CALLBACK } from '../../src/slack/blocks/index.ts';
import { appPerTest, dealFor, stepStates, waitForRecord, waitForStatus, type TestApp } from '../support/harness.ts';
import { person, REQUESTER } from '../support/people.ts';
import { AE, APPROVER, CHANNEL, startSlackApp, stopSlackApp, type SlackTestApp } from '../support/slack-app.ts';
import { interactionBody, slashCommandBody, viewSubmissionPayload } from '../support/slack-signing.ts';
import { openedModal, said, sender, until } from '../support/slack-story.ts';

/** Only what sign-in needs: the tenant's Okta group, admin and app. */
const SSO_ONLY = `version: 1
steps:
  - id: sso
    type: sso
    config:
      enabled: \${tenant.features.sso}
      tenantId: \${tenant.tenantId}
      companyName: \${intake.companyName}
      adminEmail: \${intake.adminEmail}
      mode: okta_oidc
      redirectUri: \${tenant.tenantUrl}/auth/callback
`;

const STRIPE: Identity = { door: 'api', id: 'stripe', name: 'Stripe', roles: new Set() };
const DANA = person('dana.admin', 'admin');

/** The tenant's Okta app as the emulator holds it. */
function oktaApp(app: TestApp, companyName: string) {
  const [found, ...more] = app.emulators?.okta.appsLabelled(companyName) ?? [];
  if (!found || more.length > 0) throw new Error(`expected one Okta app labelled ${companyName}`);
  return found;
}

async function liveGrowthTenant(app: TestApp, companyName: string): Promise<{ slug: string; groupId: string }> {
  const { job } = await app.service.provision(dealFor({ plan: 'growth', companyName }), REQUESTER);
  await waitForStatus(app, job.jobId, ['live']);
  await waitForRecord(app, job.jobId);
  const [group] = app.emulators?.okta.groupsNamed(`tenant-${job.tenant.slug}-`) ?? [];
  if (!group) throw new Error('no admin group');
  expect(oktaApp(app, companyName)).toMatchObject({ status: 'ACTIVE', groupIds: [group.id] });
  return { slug: job.tenant.slug, groupId: group.id };
}

describe('suspending and reactivating on Okta', () => {
  const start = appPerTest();

  it('blocks sign-in at Okta when a billing source suspends, keeps the group and admin, and reactivating lets people back in', async () => {
    const app = await start({ pipeline: SSO_ONLY, emulators: true });
    const { slug, groupId } = await liveGrowthTenant(app, 'Globex Okta');

    const { job } = await app.service.lifecycle.suspend(slug, STRIPE, { reason: 'invoice unpaid', requestKey: 'evt_1' });
    const done = await waitForStatus(app, job.jobId, ['live', 'failed']);
    expect(stepStates(done)).toEqual({ sign_in: 'succeeded', tenant_status: 'succeeded' });
    expect(oktaApp(app, 'Globex Okta')).toMatchObject({ status: 'INACTIVE', groupIds: [] });
    expect(app.emulators?.okta.groupsNamed(`tenant-${slug}-`).map((g) => g.id)).toEqual([groupId]);
    expect(app.emulators?.okta.usersWithLogin('it-admin@acme.example').map((u) => u.status)).toEqual(['PROVISIONED']);
    expect((await app.service.lifecycle.tenant(slug)).status).toBe('suspended');

    const back = await app.service.lifecycle.reactivate(slug, STRIPE, { reason: 'invoice paid', requestKey: 'evt_2' });
    await waitForStatus(app, back.job.jobId, ['live']);
    expect(oktaApp(app, 'Globex Okta')).toMatchObject({ status: 'ACTIVE', groupIds: [groupId] });
    expect((await app.service.lifecycle.tenant(slug)).status).toBe('live');
  });

  it('a rolled-back suspension lets people sign in again', async () => {
    const app = await start({ pipeline: SSO_ONLY, emulators: true });
    const { slug, groupId } = await liveGrowthTenant(app, 'Initech Okta');
    const { job } = await app.service.lifecycle.suspend(slug, STRIPE, { reason: 'invoice unpaid', requestKey: 'evt_3' });
    await waitForStatus(app, job.jobId, ['live']);
    await app.service.rollback(job.jobId, DANA, 'suspended the wrong customer');
    await waitForStatus(app, job.jobId, ['rolled_back']);
    expect(oktaApp(app, 'Initech Okta')).toMatchObject({ status: 'ACTIVE', groupIds: [groupId] });
    expect((await app.service.lifecycle.tenant(slug)).status).toBe('live');
  });
});

describe('suspending from Slack', () => {
  let s: SlackTestApp | undefined;

  /** Types `/provision <text>` in #onboarding as `user`. */
  async function slash(t: SlackTestApp, user: { id: string; name: string }, text: string) {
    return sender(t)(
      slashCommandBody({ command: '/provision', text, userId: user.id, userName: user.name, channelId: CHANNEL, triggerId: t.fake.issueTrigger() }),
    );
  }

  /** Submits the lifecycle modal as `user`, as the modal with id `viewId`. */
  async function confirm(t: SlackTestApp, user: { id: string; name: string }, privateMetadata: string, reason: string, viewId: string) {
    const payload = viewSubmissionPayload({
      userId: user.id,
      userName: user.name,
      callbackId: LIFECYCLE_CALLBACK,
      privateMetadata,
      viewId,
      values: { [LIFECYCLE_BLOCKS.reason.blockId]: { [LIFECYCLE_BLOCKS.reason.actionId]: reason } },
    });
    return sender(t)(interactionBody(payload));
  }

  it('`/provision suspend <slug>` opens a confirmation; submitted by an approver (twice) it is one job, approved by another, and sign-in is blocked', async () => {
    try {
      s = await startSlackApp({ pipeline: SSO_ONLY, emulators: true, env: { SLACK_ADMINS: 'U0ADMIN01' } });
      const t = s;
      const { slug } = await liveGrowthTenant(t.app, 'Umbrella Okta');

      expect((await slash(t, APPROVER, `suspend ${slug}`)).status).toBe(200);
      const modal = await openedModal(t, 0);
      expect(modal.callbackId).toBe(LIFECYCLE_CALLBACK);
      expect(said({ blocks: modal.view['blocks'] as unknown[] })).toContain(`Suspending \`${slug}\` blocks sign-in`);

      // No reason: the modal stays open with the error on the reason field.
      const blank = await confirm(t, APPROVER, modal.privateMetadata, ' ', 'V0SUSPEND1');
      expect(JSON.parse(blank.body)).toMatchObject({ response_action: 'errors', errors: { [LIFECYCLE_BLOCKS.reason.blockId]: expect.any(String) } });

      expect((await confirm(t, APPROVER, modal.privateMetadata, 'customer asked for a pause', 'V0SUSPEND1')).status).toBe(200);
      expect((await confirm(t, APPROVER, modal.privateMetadata, 'customer asked for a pause', 'V0SUSPEND1')).status).toBe(200);
      const answers = await until('two private answers', () => {
        const mine = t.fake.ephemerals(CHANNEL).filter((e) => e.user === APPROVER.id);
        return mine.length >= 2 ? mine : undefined;
      });
      const jobIds = answers.map((a) => /job (\S+)\./.exec(a.text ?? '')?.[1]);
      expect(jobIds[0]).toBeDefined();
      expect(jobIds[1]).toBe(jobIds[0]);
      expect(answers.map((a) => a.text?.split(':')[0]).sort()).toEqual([`Already asked to suspend ${slug}`, `Asked to suspend ${slug}`]);
      const jobId = jobIds[0] ?? '';

      // The job has its own progress message, in its kind's words, and waits for another approver.
      await waitForStatus(t.app, jobId, ['awaiting_approval']);
      await until('the suspension’s progress message', () =>
        t.fake.messages(CHANNEL).find((m) => said(m).includes('Waiting for approval') && said(m).includes(jobId)),
      );
      await t.app.service.approve(slug, person('dana.admin', 'admin'));
      await waitForStatus(t.app, jobId, ['live']);
      expect(oktaApp(t.app, 'Umbrella Okta')).toMatchObject({ status: 'INACTIVE', groupIds: [] });
      await until('the progress message saying it is suspended', () => t.fake.messages(CHANNEL).find((m) => said(m).includes(`Suspended ${slug}`)));

      // An AE may not suspend: the modal opens (it costs nothing), the submission is refused in words.
      expect((await slash(t, AE, `reactivate ${slug}`)).status).toBe(200);
      const second = await openedModal(t, 1);
      await confirm(t, AE, second.privateMetadata, 'they paid', 'V0REACT01');
      const refused = await until('the refusal', () => t.fake.ephemerals(CHANNEL).find((e) => e.user === AE.id));
      expect(refused.text).toContain('Only approvers can reactivate tenants');
      expect((await t.app.service.lifecycle.tenant(slug)).status).toBe('suspended');
    } finally {
      await stopSlackApp(s);
      s = undefined;
    }
  });
});
