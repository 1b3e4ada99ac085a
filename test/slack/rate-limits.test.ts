/**
 * When Slack pushes back, only Slack waits. The notifier follows jobs in a
 * consumer group of its own, so a storm of 429s slows the app's messages
 * while the jobs run at full speed; once Slack lets up, every job ends with
 * exactly one progress message, edited about once a second at most, showing
 * it live. A post Slack refuses outright does not hold the notifier up either.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CALLBACKS } from '../../src/slack/blocks/index.ts';
import { dealFor, stopTestApp, waitForStatus } from '../support/harness.ts';
import type { ChannelMessage } from '../support/slack-fake.ts';
import { AE, APPROVER, CHANNEL, intakeValues, startSlackApp, type SlackTestApp } from '../support/slack-app.ts';
import { interactionBody, viewSubmissionPayload } from '../support/slack-signing.ts';
import { said, sender, until, type SlackUser } from '../support/slack-story.ts';
import { person, REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';

const JOBS = 50;

const FAST_PIPELINE = pipelineOf(
  sandbox('database', { latencyMs: 20, resource: 'database' }),
  sandbox('dns', { latencyMs: 20, resource: '${tenant.dnsName}' }),
  sandbox('billing', { latencyMs: 20, resource: 'stripe customer' }, { needs: ['database'] }),
  sandbox('welcome_email', { latencyMs: 20, resource: 'email' }, { needs: ['billing', 'dns'], criticality: 'notification' }),
);

/** The progress message shows the job live: every step done. */
const showsLive = (m: { text?: string; blocks?: unknown[] }): boolean => (m.text ?? '').includes(': Live (') && /(\d+)\/\1 steps/.test(said(m));
const isCompletion = (r: { text?: string }): boolean => (r.text ?? '').includes(' is live at ');

/** Submits the intake modal as `user`; returns how long the app took to answer Slack. */
async function submitIntake(s: SlackTestApp, user: SlackUser, deal: Record<string, unknown>): Promise<{ status: number; body: string; ms: number }> {
  const payload = viewSubmissionPayload({
    userId: user.id,
    userName: user.name,
    callbackId: CALLBACKS.intake,
    privateMetadata: JSON.stringify({ channel: 'C0SALES' }),
    values: intakeValues(deal),
  });
  return sender(s)(interactionBody(payload));
}

describe('when Slack pushes back', () => {
  let s: SlackTestApp | undefined;
  afterEach(async () => {
    if (s) {
      // Let calls still retrying through the storm finish, so the app can stop.
      s.fake.clearRateLimits();
      await stopTestApp(s.app);
      await s.fake.close();
    }
    s = undefined;
  });

  it('a 429 storm with 50 concurrent jobs: the app slows down, provisioning does not', { timeout: 150_000 }, async () => {
    // The app's budgets (20 posts and 20 edits a second) are more than Slack takes right now: 15 posts a
    // second in the channel and 10 edits, and the first edits are refused outright. Every 429 says Retry-After: 1.
    // (Big one-shot bursts are avoided on purpose: the SDK backs off exponentially when one call meets 429 after
    // 429, which would make this test measure the SDK's patience rather than the app.)
    s = await startSlackApp({ pipeline: FAST_PIPELINE, env: { SLACK_POSTS_PER_SECOND: '20', SLACK_UPDATES_PER_SECOND: '20' } });
    const { app, fake } = s;
    fake.limitPerSecond('chat.postMessage', 15);
    fake.limitPerSecond('chat.update', 10);
    fake.rateLimit('chat.update', { times: 3, retryAfterS: 1 });

    const started = Date.now();
    // Two deals come through the modal (one once the storm is on), the rest straight to the service.
    const modalDeals = [dealFor({ companyName: 'Modal One' }), dealFor({ companyName: 'Modal Two' })];
    const first = await submitIntake(s, AE, modalDeals[0] ?? {});
    const direct = await Promise.all(Array.from({ length: JOBS - 2 }, () => app.service.provision(dealFor(), REQUESTER)));
    await until('the storm to start', () => (fake.rateLimited > 0 ? true : undefined));
    const second = await submitIntake(s, APPROVER, modalDeals[1] ?? {});
    // Slack gets its answer in time, storm or not.
    for (const submitted of [first, second]) {
      expect(submitted.status).toBe(200);
      expect(submitted.body).toBe('');
      expect(submitted.ms).toBeLessThan(3000);
    }
    const viaModal = await until('the two modal jobs', async () => {
      const found = await Promise.all(modalDeals.map((d) => app.store.findJobs({ search: String(d['slug']), limit: 1 })));
      const ids = found.flatMap((records) => records.map((r) => r.view.jobId));
      return ids.length === 2 ? ids : undefined;
    });
    const jobIds = [...direct.map((r) => r.job.jobId), ...viaModal];
    expect(new Set(jobIds).size).toBe(JOBS);

    // Provisioning runs at its own speed: every job is live within a bound that owes nothing to Slack
    // (about 2 s here; Slack takes several times that to catch up), and Slack is still behind then.
    const lives = await Promise.all(jobIds.map((id) => waitForStatus(app, id, ['live', 'failed'], 15_000)));
    const allLiveMs = Date.now() - started;
    expect(lives.map((l) => l.status)).toEqual(jobIds.map(() => 'live'));
    expect(allLiveMs).toBeLessThan(15_000);
    const shownLiveThen = fake.messages(CHANNEL).filter(showsLive).length;
    expect(shownLiveThen).toBeLessThan(JOBS);

    // Slack catches up: one progress message per job, showing it live, and one completion reply in its thread.
    const slugs = lives.map((l) => l.tenant.slug);
    const messageOf = (slug: string, msgs: ChannelMessage[]) => msgs.filter((m) => said(m).includes(`\`${slug}\``));
    await until(
      'every job shown live in #onboarding',
      () => {
        const msgs = fake.messages(CHANNEL);
        return slugs.every((slug) => messageOf(slug, msgs).some((m) => showsLive(m) && m.replies.some(isCompletion))) ? true : undefined;
      },
      120_000,
    );
    const caughtUpMs = Date.now() - started;
    expect(caughtUpMs).toBeGreaterThan(allLiveMs);
    // Slack said 429 along the way, and the app waited it out.
    expect(fake.rateLimited).toBeGreaterThan(0);
    expect(fake.callsTo('chat.update').some((c) => c.status === 429)).toBe(true);
    // Let any edit still due land, then look at the final state.
    await new Promise((r) => setTimeout(r, 1500));
    const msgs = fake.messages(CHANNEL);
    expect(msgs).toHaveLength(JOBS);
    for (const slug of slugs) {
      const mine = messageOf(slug, msgs);
      expect(mine, `progress messages for ${slug}`).toHaveLength(1);
      const [m] = mine;
      expect(m && showsLive(m), `the progress message of ${slug} shows it live`).toBe(true);
      expect(m?.replies.filter(isCompletion), `completion replies for ${slug}`).toHaveLength(1);
    }

    // Edits stay within about one a second per message, counting the ones Slack refused.
    const updates = fake.callsTo('chat.update');
    for (const m of msgs) {
      const calls = updates.filter((c) => c.args['ts'] === m.ts);
      if (calls.length === 0) continue;
      const postedAt = Number(m.ts) * 1000;
      const spanMs = Math.max(...calls.map((c) => c.at)) - postedAt;
      expect(calls.length, `chat.update calls for ${m.ts} over ${spanMs} ms`).toBeLessThanOrEqual(1 + Math.floor(spanMs / 1000));
    }
    // And no message was edited needlessly: a message posted showing the job live is not edited again.
    for (const m of msgs) {
      const posted = m.versions[0] ?? m;
      if (showsLive(posted)) expect(m.updates, `edits of ${m.ts}, posted already live`).toBe(0);
    }

    console.info(
      `modal acks ${Math.round(first.ms)} ms and ${Math.round(second.ms)} ms (mid-storm); ` +
        `${JOBS} jobs live after ${allLiveMs} ms (${shownLiveThen} shown live in Slack then); Slack caught up after ${caughtUpMs} ms; ` +
        `${fake.rateLimited} 429s (${updates.filter((c) => c.status === 429).length} on chat.update); ` +
        `${fake.callsTo('chat.postMessage').length} posts, ${updates.length} updates`,
    );
  });

  it('a progress post Slack refuses does not hold the notifier up: the job’s next event posts it', async () => {
    s = await startSlackApp({ pipeline: FAST_PIPELINE });
    const { app, fake } = s;
    fake.failNext('chat.postMessage', 'internal_error');

    // A big deal waits for approval; Slack refuses its progress message.
    const held = (await app.service.provision(dealFor({ plan: 'growth', contractValue: 150_000 }), REQUESTER)).job;
    await waitForStatus(app, held.jobId, ['awaiting_approval']);
    await until('the refused post', () => (fake.callsTo('chat.postMessage')[0]?.error === 'internal_error' ? true : undefined));

    // The approver approves (from the CLI, say) and another deal comes in: both show up in #onboarding promptly.
    await app.service.approve(held.tenant.slug, person('sam.approver'));
    const other = (await app.service.provision(dealFor(), REQUESTER)).job;
    await Promise.all([held, other].map((j) => waitForStatus(app, j.jobId, ['live'])));
    const started = Date.now();
    for (const job of [held, other]) {
      const shown = await until(
        `${job.tenant.slug} shown live`,
        () => fake.messages(CHANNEL).find((m) => said(m).includes(`\`${job.tenant.slug}\``) && showsLive(m) && m.replies.some(isCompletion)),
        10_000,
      );
      expect(shown.replies.filter(isCompletion)).toHaveLength(1);
    }
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(fake.messages(CHANNEL)).toHaveLength(2);
  });
});
