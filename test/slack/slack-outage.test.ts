/**
 * Slack has a bad few seconds, more than once, while a job moves: it answers
 * chat.postMessage with internal_error (ok:false, which the SDK does not
 * retry) several times in a row. Nothing the thread should say is lost: once
 * Slack recovers, every reply is there exactly once, in the order things
 * happened, under the job's one progress message.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../src/slack/blocks/index.ts';
import { dealFor, waitForStatus } from '../support/harness.ts';
import type { FakeMessage } from '../support/slack-fake.ts';
import { APPROVER, billingFails, CHANNEL, SAM, startSlackApp, type SlackTestApp, stopSlackApp } from '../support/slack-app.ts';
import { clickButton, hasButton, said, until } from '../support/slack-story.ts';
import { REQUESTER } from '../support/people.ts';

/** What the thread should say, in order: each reply recognised by what it says. */
const EXPECTED: readonly (readonly [string, (r: FakeMessage) => boolean])[] = [
  ['approval request', (r) => hasButton(r, ACTIONS.approve)],
  ['approved line', (r) => (r.text ?? '').includes(`${SAM} approved`)],
  ['billing failure', (r) => hasButton(r, ACTIONS.retry) && said(r).includes('Step *billing* failed')],
  ['retried line', (r) => (r.text ?? '').includes(`${SAM} retried step billing`)],
  ['completion', (r) => (r.text ?? '').includes(' is live at ')],
];

describe('when Slack keeps failing posts for a while', () => {
  let s: SlackTestApp | undefined;
  afterEach(async () => {
    await stopSlackApp(s);
    s = undefined;
  });

  it('every thread reply arrives exactly once, in order, after Slack recovers', { timeout: 60_000 }, async () => {
    s = await startSlackApp({ pipeline: billingFails(1) });
    const t = s;
    const { app, fake } = t;
    const failPosts = (times: number) => fake.failNext('chat.postMessage', 'internal_error', times);
    const thread = () => fake.messages(CHANNEL)[0]?.replies ?? [];
    const reply = (i: number) => {
      const [name, matches] = EXPECTED[i] ?? ['?', () => false];
      return until(name, () => thread().find(matches), 20_000);
    };

    // Slack fails the first posts: the progress message, then its thread's first reply, have to wait it out.
    failPosts(3);
    const job = (await app.service.provision(dealFor({ plan: 'growth', contractValue: 150_000 }), REQUESTER)).job;
    await waitForStatus(app, job.jobId, ['awaiting_approval']);
    const request = await reply(0);

    // Slack fails again as the approver approves and billing fails: both replies wait, neither is dropped.
    failPosts(4);
    const parent = fake.messages(CHANNEL)[0];
    await clickButton(t, APPROVER, request, ACTIONS.approve, parent?.ts);
    await waitForStatus(app, job.jobId, ['failed']);
    const failure = await reply(2);

    // And once more through the retry and the tenant going live.
    failPosts(3);
    await clickButton(t, APPROVER, failure, ACTIONS.retry, parent?.ts);
    await waitForStatus(app, job.jobId, ['live']);
    await reply(4);

    // Every failure Slack was told to give was given, and the app got past each.
    const posts = fake.callsTo('chat.postMessage');
    expect(posts.filter((c) => c.error === 'internal_error')).toHaveLength(10);
    // Let anything still in flight land, then read the thread as people see it.
    await new Promise((r) => setTimeout(r, 1000));
    expect(fake.messages(CHANNEL)).toHaveLength(1);
    const replies = thread();
    const kinds = replies.map((r) => EXPECTED.findIndex(([, matches]) => matches(r)));
    expect(kinds, replies.map((r) => r.text).join('\n')).toEqual([0, 1, 2, 3, 4]);
    // Each reply was posted once: one accepted post per reply, plus the progress message.
    expect(posts.filter((c) => c.ok)).toHaveLength(1 + EXPECTED.length);
  });
});
