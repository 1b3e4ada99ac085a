/**
 * The main story in Slack: an AE types /provision, fills the modal (first
 * with a mistake), the job posts its progress in #onboarding, asks the
 * approvers in the thread, a stranger's click is refused, the approver
 * approves, and the thread says the tenant is live.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ACTIONS, CALLBACKS, INTAKE_BLOCKS } from '../../src/slack/blocks/index.ts';
import { dealFor, waitForStatus } from '../support/harness.ts';
import {
  AE,
  APPROVER,
  CHANNEL,
  intakeValues,
  SIGNING_SECRET,
  startSlackApp,
  STRANGER,
  type SlackTestApp,
  stopSlackApp,
} from '../support/slack-app.ts';
import { blockActionPayload, interactionBody, signedRequest, slashCommandBody, viewSubmissionPayload } from '../support/slack-signing.ts';
import { buttonsIn, said, until } from '../support/slack-story.ts';

describe('an AE provisions a tenant from Slack', () => {
  let s: SlackTestApp | undefined;
  afterEach(async () => {
    await stopSlackApp(s);
    s = undefined;
  });

  it('modal → field error → valid submit → progress in #onboarding → approval in the thread → live', async () => {
    // The AE is an approver too, so the self-approval rule is what stops them.
    s = await startSlackApp({ env: { SLACK_APPROVERS: `${APPROVER.id},${AE.id}` } });
    const { fake, eventsUrl, app } = s;
    const send = (body: string) => signedRequest({ url: eventsUrl, signingSecret: SIGNING_SECRET, body });

    // 1. /provision opens the modal at once.
    const command = await send(
      slashCommandBody({ command: '/provision', text: '', userId: AE.id, userName: AE.name, channelId: 'C0SALES', triggerId: fake.issueTrigger() }),
    );
    expect(command.status).toBe(200);
    await fake.waitFor('views.open');
    const opened = fake.callsTo('views.open')[0];
    expect(JSON.stringify(opened?.args['view'])).toContain(CALLBACKS.intake);

    // 2. A mistyped email is shown on the email field; nothing is created.
    const deal = dealFor({ plan: 'growth', contractValue: 150_000, companyName: 'Hooli <!channel> & *Co*' });
    const submit = (values: Record<string, unknown>) =>
      send(
        interactionBody(
          viewSubmissionPayload({
            userId: AE.id,
            userName: AE.name,
            callbackId: CALLBACKS.intake,
            privateMetadata: JSON.stringify({ channel: 'C0SALES' }),
            values: intakeValues(values),
          }),
        ),
      );
    const bad = await submit({ ...deal, adminEmail: 'not-an-email' });
    expect(bad.status).toBe(200);
    expect(JSON.parse(bad.body)).toEqual({
      response_action: 'errors',
      errors: { [INTAKE_BLOCKS.adminEmail.blockId]: expect.stringContaining('valid email') },
    });
    expect(await app.store.findJobs({ limit: 5 })).toEqual([]);

    // 3. A valid submission closes the modal; the AE is told where to follow it.
    const good = await submit(deal);
    expect(good.status).toBe(200);
    expect(good.body).toBe('');
    const confirmation = await until('the AE confirmation', () => fake.ephemerals('C0SALES').find((e) => e.user === AE.id));
    expect(confirmation.text).toContain('Provisioning started');
    // With a link to the job's progress message in #onboarding.
    const posted = fake.messages(CHANNEL)[0];
    expect(JSON.stringify(confirmation.blocks)).toContain(`https://slack.com/archives/${CHANNEL}/p${posted?.ts.replace('.', '')}`);

    // 4. One progress message in #onboarding, and an approval request in its thread mentioning the approver.
    const [job] = await app.store.findJobs({ limit: 1 });
    expect(job?.view.requestedBy).toBe(`Jane Ae (${AE.id})`);
    const jobId = job?.view.jobId ?? '';
    const request = await until('the approval request', () =>
      fake.messages(CHANNEL)[0]?.replies.find((r) => JSON.stringify(r.blocks).includes(ACTIONS.approve)),
    );
    expect(fake.messages(CHANNEL)).toHaveLength(1);
    expect(JSON.stringify(request.blocks)).toContain(`<@${APPROVER.id}>`);
    // The company name was escaped everywhere: nobody got pinged.
    expect(JSON.stringify(fake.calls.map((c) => c.args))).not.toContain('<!channel>');
    const approve = buttonsIn(request.blocks).find((b) => b.actionId === ACTIONS.approve);
    if (!approve) throw new Error('no approve button');
    const parent = fake.messages(CHANNEL)[0];
    const click = (user: { id: string; name: string }) =>
      send(
        interactionBody(
          blockActionPayload({
            userId: user.id,
            userName: user.name,
            actionId: ACTIONS.approve,
            value: approve.value,
            triggerId: fake.issueTrigger(),
            channelId: CHANNEL,
            messageTs: request.ts,
            threadTs: parent?.ts ?? '',
          }),
        ),
      );

    // 5. A stranger's click and the requester's own click change nothing and are explained.
    expect((await click(STRANGER)).status).toBe(200);
    const refused = await until('the refusal', () => fake.ephemerals(CHANNEL).find((e) => e.user === STRANGER.id));
    expect(refused.text).toContain('Only approvers can approve');
    expect((await click(AE)).status).toBe(200);
    const selfApproval = await until('the self-approval refusal', () => fake.ephemerals(CHANNEL).find((e) => e.user === AE.id));
    expect(selfApproval.text).toContain('someone else has to approve or reject it');
    expect((await app.engine.view(jobId))?.status).toBe('awaiting_approval');

    // 6. The approver approves; a second (stale) click is harmless and explained; the tenant goes live.
    await click(APPROVER);
    const live = await waitForStatus(app, jobId, ['live', 'failed']);
    expect(live.status).toBe('live');
    await click(APPROVER);
    const stale = await until('the stale-click answer', () => fake.ephemerals(CHANNEL).find((e) => e.user === APPROVER.id));
    expect(stale.text).toContain('Nothing changed');

    const done = await until('the completion summary', () => fake.messages(CHANNEL)[0]?.replies.find((r) => (r.text ?? '').includes('live')));
    expect(done.text).toContain(live.tenant.slug);
    // The billing step declares its Stripe customer worth showing: verbatim, to copy into Stripe.
    expect(said(done)).toMatch(/Billing customer: `cus_\w+`/);
    // The progress message was edited in place and ends showing the job live.
    const progress = await until('the final progress edit', () => {
      const m = fake.messages(CHANNEL)[0];
      return m && JSON.stringify(m.blocks).includes('13/13') ? m : undefined;
    });
    expect(fake.messages(CHANNEL)).toHaveLength(1);
    expect(progress.updates).toBeGreaterThan(0);
    const { lines } = await app.service.audit(live.tenant.slug);
    expect(lines.join('\n')).toContain(`Sam Approver (${APPROVER.id}) approved approval gate`);
  });

  it('rejects requests that are not signed with our secret', async () => {
    s = await startSlackApp();
    const body = slashCommandBody({
      command: '/provision',
      text: 'list',
      userId: AE.id,
      userName: AE.name,
      channelId: 'C0SALES',
      triggerId: s.fake.issueTrigger(),
    });
    const forged = await signedRequest({ url: s.eventsUrl, signingSecret: 'not-our-secret', body });
    expect(forged.status).toBe(401);
    const stale = await signedRequest({ url: s.eventsUrl, signingSecret: SIGNING_SECRET, body, timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    expect(stale.status).toBe(401);
    expect(s.fake.callsTo('chat.postEphemeral')).toHaveLength(0);
  });
});
