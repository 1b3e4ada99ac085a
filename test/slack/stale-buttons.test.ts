/**
 * A Retry button belongs to one failure. Billing fails, the approver retries
 * it from Slack, it fails again: the first failure's Retry and Override are
 * now out of date, and clicking them changes nothing (the clicker alone is
 * told why, and the audit trail stays as it was). The new failure's Retry
 * works, and the tenant goes live.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ACTIONS, DIALOG_BLOCKS } from '../../src/slack/blocks/index.ts';
import { auditOf, dealFor, stepStates, waitForStatus } from '../support/harness.ts';
import type { ChannelMessage, FakeMessage } from '../support/slack-fake.ts';
import { APPROVER, billingFails, CHANNEL, SAM, startSlackApp, type SlackTestApp, stopSlackApp } from '../support/slack-app.ts';
import { clickButton, hasButton, openedModal, said, submitModal, until } from '../support/slack-story.ts';
import { person, REQUESTER } from '../support/people.ts';

async function progressOf(s: SlackTestApp, slug: string): Promise<ChannelMessage> {
  return until(`the progress message of ${slug}`, () => s.fake.messages(CHANNEL).find((m) => said(m).includes(slug)));
}

/** The failure replies in the job's thread (the ones with a Retry button), oldest first, once there are `count`. */
async function failureReplies(s: SlackTestApp, parentTs: string, count: number): Promise<FakeMessage[]> {
  return until(`${count} failure replies`, () => {
    const replies =
      s.fake
        .messages(CHANNEL)
        .find((m) => m.ts === parentTs)
        ?.replies.filter((r) => hasButton(r, ACTIONS.retry)) ?? [];
    return replies.length >= count ? replies : undefined;
  });
}

const retriedLines = (lines: readonly string[]) => lines.filter((l) => l.includes(`${SAM} retried step billing`));

describe('Retry and Override from an earlier failure', () => {
  let s: SlackTestApp | undefined;
  afterEach(async () => {
    await stopSlackApp(s);
    s = undefined;
  });

  it('fail → Retry → fail again: the old Retry and Override are refused privately, the new Retry works', async () => {
    s = await startSlackApp({ pipeline: billingFails(2) });
    const t = s;
    const job = (await t.app.service.provision(dealFor(), REQUESTER)).job;
    await waitForStatus(t.app, job.jobId, ['failed']);
    const parent = await progressOf(t, job.tenant.slug);
    const [first] = await failureReplies(t, parent.ts, 1);
    if (!first) throw new Error('no first failure reply');
    expect(said(first)).toContain('(run 1)');

    // The approver retries; billing fails again, and the thread gets a second failure reply with its own buttons.
    await clickButton(t, APPROVER, first, ACTIONS.retry, parent.ts);
    const [, second] = await failureReplies(t, parent.ts, 2);
    if (!second) throw new Error('no second failure reply');
    expect(said(second)).toContain('(run 2)');
    const failedAgain = await waitForStatus(t.app, job.jobId, ['failed']);
    expect(retriedLines((await auditOf(t.app, failedAgain)).lines)).toHaveLength(1);

    // The first failure's Retry: nothing changes, and only the approver is told which button to use instead.
    const ephemeralsBefore = t.fake.ephemerals(CHANNEL).length;
    await clickButton(t, APPROVER, first, ACTIONS.retry, parent.ts);
    const refused = await until('the stale Retry answer', () =>
      t.fake
        .ephemerals(CHANNEL)
        .slice(ephemeralsBefore)
        .find((e) => e.user === APPROVER.id),
    );
    expect(refused.text).toContain('Nothing changed: this button is for an earlier failure of step billing');
    expect(refused.text).toContain('latest failure message');
    expect(t.fake.ephemerals(CHANNEL).slice(ephemeralsBefore)).toHaveLength(1);

    // Its Override opens no modal: nobody is asked for a reason for a failure that is gone.
    await clickButton(t, APPROVER, first, ACTIONS.override, parent.ts);
    const noModal = await until('the stale Override answer', () => {
      const answers = t.fake.ephemerals(CHANNEL).slice(ephemeralsBefore);
      return answers.length === 2 ? answers[1] : undefined;
    });
    expect(noModal.text).toContain('earlier failure of step billing');
    expect(t.fake.callsTo('views.open')).toEqual([]);

    // Nothing moved: no event was appended (every event bumps the seq), billing is still failed, the trail has one retry.
    const after = await t.app.engine.view(job.jobId);
    expect(after?.seq).toBe(failedAgain.seq);
    expect(after?.steps.find((step) => step.id === 'billing')?.state).toBe('failed');
    expect(retriedLines((await auditOf(t.app, failedAgain)).lines)).toHaveLength(1);

    // The latest failure's Retry works: billing runs a third time and the tenant goes live.
    await clickButton(t, APPROVER, second, ACTIONS.retry, parent.ts);
    const live = await waitForStatus(t.app, job.jobId, ['live']);
    expect(stepStates(live)).toEqual({ database: 'succeeded', billing: 'succeeded', welcome_email: 'succeeded' });
    const { lines } = await auditOf(t.app, live);
    expect(retriedLines(lines)).toHaveLength(2);
    // Now that billing is done, even the latest failure's buttons are out of date, and say so.
    await clickButton(t, APPROVER, second, ACTIONS.retry, parent.ts);
    const done = await until('the answer on a dealt-with failure', () => {
      const answers = t.fake.ephemerals(CHANNEL).slice(ephemeralsBefore);
      return answers.length === 3 ? answers[2] : undefined;
    });
    expect(done.text).toContain('already dealt with; the step is done now');
  });

  it('an Override modal opened on a failure that is retried and fails again before it is submitted changes nothing', async () => {
    s = await startSlackApp({ pipeline: billingFails(2) });
    const t = s;
    const job = (await t.app.service.provision(dealFor(), REQUESTER)).job;
    await waitForStatus(t.app, job.jobId, ['failed']);
    const parent = await progressOf(t, job.tenant.slug);
    const [first] = await failureReplies(t, parent.ts, 1);
    if (!first) throw new Error('no first failure reply');
    await clickButton(t, APPROVER, first, ACTIONS.override, parent.ts);
    const modal = await openedModal(t, 0);

    // Meanwhile someone retries billing from the terminal, and it fails again.
    await t.app.service.retry(job.tenant.slug, person('ops.oncall'), 'billing');
    await failureReplies(t, parent.ts, 2);
    const failedAgain = await waitForStatus(t.app, job.jobId, ['failed']);

    const reason = 'created the customer by hand in Stripe';
    expect((await submitModal(t, APPROVER, modal, { [DIALOG_BLOCKS.reason.blockId]: { [DIALOG_BLOCKS.reason.actionId]: reason } })).status).toBe(200);
    const refused = await until('the stale Override answer', () => t.fake.ephemerals(CHANNEL).find((e) => e.user === APPROVER.id));
    expect(refused.text).toContain('earlier failure of step billing');
    const after = await t.app.engine.view(job.jobId);
    expect(after?.seq).toBe(failedAgain.seq);
    expect(after?.steps.find((step) => step.id === 'billing')?.state).toBe('failed');
    expect((await auditOf(t.app, failedAgain)).lines.join('\n')).not.toContain('overrode');
  });
});
