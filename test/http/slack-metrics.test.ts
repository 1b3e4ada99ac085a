/**
 * Slack is rate limiting the bot and an SRE wants to see it. Every request
 * to the Slack API (Bolt's and the notifier's, retries included) is counted
 * by API method, and every 429 too: the counts match what Slack received.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { dealFor, waitForStatus } from '../support/harness.ts';
import { httpServerPerTest } from '../support/http.ts';
import { sample, scrape, type Sample } from '../support/prometheus.ts';
import { billingFails, CHANNEL, startSlackApp, stopSlackApp, type SlackTestApp } from '../support/slack-app.ts';
import { until } from '../support/slack-story.ts';

/** Waits until Slack has heard nothing new for a while (the notifier coalesces edits over about a second). */
async function slackQuiet(s: SlackTestApp): Promise<void> {
  let seen = -1;
  await until(
    'Slack to go quiet',
    async () => {
      const now = s.fake.callsTo('chat.postMessage').length + s.fake.callsTo('chat.update').length;
      if (now === seen) return true;
      seen = now;
      await sleep(1500);
      return undefined;
    },
    30_000,
  );
}

describe('Slack API metrics', () => {
  const serve = httpServerPerTest();

  it('counts calls and 429s per API method, exactly as Slack saw them', async () => {
    let s: SlackTestApp | undefined;
    try {
      s = await startSlackApp({ pipeline: billingFails(0) });
      const { app, fake } = s;
      // The first post and the first edit are refused with 429; the SDK waits a second and tries again.
      fake.rateLimit('chat.postMessage', { times: 1, retryAfterS: 1 });
      fake.rateLimit('chat.update', { times: 1, retryAfterS: 1 });
      const url = await serve(app);
      const { job } = await app.service.provision(dealFor());
      await waitForStatus(app, job.jobId, ['live']);
      await until('the completion reply', () =>
        fake.messages(CHANNEL)[0]?.replies.some((r) => (r.text ?? '').includes(' is live at ')) ? true : undefined,
      );
      await slackQuiet(s);

      const { samples } = await scrape(url);
      // Bolt checks its token at startup; the notifier posts and edits.
      for (const method of ['auth.test', 'chat.postMessage', 'chat.update']) {
        const calls = fake.callsTo(method);
        expect(calls.length, method).toBeGreaterThan(0);
        expect(sample(samples, 'provisioner_slack_api_calls_total', { method }), method).toBe(calls.length);
        expect(rateLimited(samples, method), method).toBe(calls.filter((c) => c.status === 429).length);
      }
      expect(rateLimited(samples, 'chat.postMessage')).toBe(1);
      expect(rateLimited(samples, 'chat.update')).toBe(1);
    } finally {
      await stopSlackApp(s);
    }
  });
});

/** A counter that was never incremented has no series: that reads 0. */
function rateLimited(samples: readonly Sample[], method: string): number {
  return samples.some((x) => x.name === 'provisioner_slack_api_rate_limited_total' && x.labels['method'] === method)
    ? sample(samples, 'provisioner_slack_api_rate_limited_total', { method })
    : 0;
}
