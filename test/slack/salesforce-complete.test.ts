/**
 * A deal Salesforce sends with a plan nobody mapped: Salesforce is answered
 * (so it stops redelivering), #onboarding is told once, with "Complete in
 * Slack"; the AE opens the modal prefilled with what Salesforce sent, picks
 * the plan, and the tenant is provisioned as hers, the deal marked completed
 * in the notice and the audit trail.
 */
import { MongoClient } from 'mongodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../src/slack/blocks/index.ts';
import { auditOf } from '../support/harness.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';
import { ACK, GLOBEX, postEnvelope, salesforceEnv, sample, today } from '../support/salesforce.ts';
import { AE, CHANNEL, intakeValues, JANE, startSlackApp, stopSlackApp, type SlackTestApp } from '../support/slack-app.ts';
import { clickButton, hasButton, openedModal, said, submitModal, until } from '../support/slack-story.ts';

describe('a Salesforce deal that needs a person is completed in Slack', () => {
  let s: SlackTestApp | undefined;
  afterEach(async () => {
    await stopSlackApp(s);
    s = undefined;
  });

  it('notice once → Complete in Slack → prefilled modal → submitted → job, notice and audit say who completed it', async () => {
    s = await startSlackApp({ pipeline: pipelineOf(sandbox('database')), env: salesforceEnv() });
    const { fake, app } = s;
    const base = s.eventsUrl.replace(/\/slack\/events$/, '');
    const platinum = sample('one-opportunity', { '<sf:Plan__c>Growth</sf:Plan__c>': '<sf:Plan__c>Platinum</sf:Plan__c>' });

    // Salesforce is answered at once, and again when it delivers the same notification again.
    expect((await postEnvelope(base, platinum)).body).toBe(ACK);
    const notice = await until('the notice in #onboarding', () => fake.messages(CHANNEL).find((m) => hasButton(m, ACTIONS.completeIntake)));
    expect(said(notice)).toContain('Platinum');
    expect(said(notice)).toContain(GLOBEX.opportunityId);
    expect(said(notice)).not.toContain('fake.session');
    expect((await postEnvelope(base, platinum)).body).toBe(ACK);
    await sleep(500);
    expect(fake.messages(CHANNEL).filter((m) => hasButton(m, ACTIONS.completeIntake))).toHaveLength(1);
    expect(await app.store.findByOpportunity(GLOBEX.opportunityId)).toBeNull();

    // The AE opens the modal: prefilled with what Salesforce sent, the plan left for her to choose.
    await clickButton(s, AE, notice, ACTIONS.completeIntake);
    const modal = await openedModal(s, 0);
    const shown = JSON.stringify(modal.view);
    for (const sent of ['Globex & Sons Inc', 'it-admin@globex.example', '150000', GLOBEX.opportunityId, today()]) expect(shown).toContain(sent);
    expect(shown).toContain('"initial_option":{"text":{"type":"plain_text","text":"EU"');
    expect(modal.privateMetadata).toContain(GLOBEX.notificationId);

    const answer = await submitModal(
      s,
      AE,
      modal,
      intakeValues({
        companyName: 'Globex & Sons Inc',
        slug: 'globex-sons',
        adminEmail: 'it-admin@globex.example',
        plan: 'growth',
        contractStartDate: today(),
        contractValue: '150000',
        dataResidency: 'eu',
        crmOpportunityId: GLOBEX.opportunityId,
      }),
    );
    expect(answer).toMatchObject({ status: 200, body: '' });

    // One job, asked for by the AE in Slack.
    const job = await until('the job', () => app.store.findByOpportunity(GLOBEX.opportunityId).then((j) => j ?? undefined));
    expect(job.definition.intake).toMatchObject({ plan: 'growth', slug: 'globex-sons', requestedBy: JANE });
    expect((await app.store.jobSummaries()).map((j) => j.crmOpportunityId)).toEqual([GLOBEX.opportunityId]);

    // The pending intake is completed, the notice says so (without its button), and the trail names her.
    const mongo = new MongoClient(app.config.mongoUri);
    const stored = await mongo.db(app.dbName).collection('pending_intakes').findOne({ opportunityId: GLOBEX.opportunityId });
    await mongo.close();
    expect(stored?.['completed']).toMatchObject({ by: JANE, jobId: job.definition.jobId, slug: 'globex-sons' });
    const edited = await until('the notice edited', () => {
      const now = fake.message(CHANNEL, notice.ts);
      return now && !hasButton(now, ACTIONS.completeIntake) ? now : undefined;
    });
    expect(said(edited)).toContain('completed the deal Salesforce sent');
    expect(said(edited)).toContain('globex-sons');
    const { text } = await auditOf(app, job.view);
    expect(text).toContain(`${JANE} completed in Slack the deal Salesforce sent for opportunity ${GLOBEX.opportunityId}`);

    // A second click on the old button changes nothing and says why.
    await clickButton(s, AE, notice, ACTIONS.completeIntake);
    const told = await until('the refusal', () => fake.ephemerals().find((e) => e.user === AE.id && said(e).includes('already completed')));
    expect(said(told)).toContain('globex-sons');
    expect(fake.callsTo('views.open')).toHaveLength(1);
  });

  it('a notice Slack refused is posted later by the overdue sweep, once', async () => {
    const errors: unknown[] = [];
    s = await startSlackApp({ pipeline: pipelineOf(sandbox('database')), env: salesforceEnv(), onError: (err) => errors.push(err) });
    const { fake, app } = s;
    const base = s.eventsUrl.replace(/\/slack\/events$/, '');
    const platinum = sample('one-opportunity', { '<sf:Plan__c>Growth</sf:Plan__c>': '<sf:Plan__c>Platinum</sf:Plan__c>' });
    // Slack refuses the post in a way retrying would not change at that moment (the channel was archived, say).
    fake.failNext('chat.postMessage', 'is_archived');
    expect((await postEnvelope(base, platinum)).body).toBe(ACK);
    await fake.waitFor('chat.postMessage');
    await sleep(300);
    expect(fake.messages(CHANNEL).filter((m) => hasButton(m, ACTIONS.completeIntake))).toHaveLength(0);
    expect(errors.map(String)).toEqual([expect.stringContaining('Slack refused the notice of Salesforce opportunity')]);

    // The sweep `provisioner serve` runs every minute posts it, and a second sweep finds nothing left to post.
    await app.crm.postOverdueNotices(20, 0);
    await app.crm.postOverdueNotices(20, 0);
    const notices = fake.messages(CHANNEL).filter((m) => hasButton(m, ACTIONS.completeIntake));
    expect(notices).toHaveLength(1);
    expect(said(notices[0])).toContain(GLOBEX.opportunityId);
  });
});
