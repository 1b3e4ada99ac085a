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
import { REQUESTER } from '../support/people.ts';

const METHODS = ['auth.test', 'chat.postMessage', 'chat.update'];

/** Per method, the calls Slack received and how many it answered 429. */
function heard(s: SlackTestApp): string {
  return JSON.stringify(METHODS.map((m) => [m, s.fake.callsTo(m).length, s.fake.callsTo(m).filter((c) => c.status === 429).length]));
}

function counted(samples: readonly Sample[]): string {
  return JSON.stringify(
    METHODS.map((m) => [m, count(samples, 'provisioner_slack_api_calls_total', m), count(samples, 'provisioner_slack_api_rate_limited_total', m)]),
  );
}

/**
 * Scrapes until the metrics agree with what Slack heard while nothing moved (the notifier may still be
 * editing, and a call is counted once its answer is back); fails with both when they never agree.
 */
async function agreeing(s: SlackTestApp, url: string): Promise<Sample[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const before = heard(s);
    const { samples } = await scrape(url);
    if (heard(s) === before && counted(samples) === before) return samples;
    if (Date.now() > deadline) throw new Error(`Slack heard ${heard(s)}, the metrics counted ${counted(samples)}`);
    await sleep(200);
  }
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
      const { job } = await app.service.provision(dealFor(), REQUESTER);
      await waitForStatus(app, job.jobId, ['live']);
      await until('the completion reply', () =>
        fake.messages(CHANNEL)[0]?.replies.some((r) => (r.text ?? '').includes(' is live at ')) ? true : undefined,
      );
      await until('both 429s', () => (fake.rateLimited === 2 ? true : undefined));

      const samples = await agreeing(s, url);
      // Bolt checked its token at startup; the notifier posted (once refused) and edited (once refused).
      for (const method of METHODS) expect(count(samples, 'provisioner_slack_api_calls_total', method), method).toBeGreaterThan(0);
      expect(count(samples, 'provisioner_slack_api_rate_limited_total', 'chat.postMessage')).toBe(1);
      expect(count(samples, 'provisioner_slack_api_rate_limited_total', 'chat.update')).toBe(1);
      expect(count(samples, 'provisioner_slack_api_rate_limited_total', 'auth.test')).toBe(0);
    } finally {
      await stopSlackApp(s);
    }
  });
});

/** A counter that was never incremented for a method has no series: that reads 0. */
function count(samples: readonly Sample[], name: string, method: string): number {
  return samples.some((x) => x.name === name && x.labels['method'] === method) ? sample(samples, name, { method }) : 0;
}
