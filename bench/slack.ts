/**
 * The Slack side of the benchmark: how fast /provision is acknowledged while
 * 100 jobs run (from sending the signed request to its HTTP response, as
 * Slack would measure it), and how many Slack API calls one 10-step job
 * costs (post + edits + thread replies). Runs the real Bolt app in HTTP mode
 * against the loopback Slack fake used by the tests.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { compose, type App } from '../src/compose.ts';
import { loadConfig } from '../src/config.ts';
import { SlackFake } from '../test/support/slack-fake.ts';
import { signedRequest, slashCommandBody } from '../test/support/slack-signing.ts';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { deleteKeys, engineJobFor, manifestsDirWith, percentile, pipelineYaml, ROOT, SCHED_LATENCY_MS, starterDeal, waitForSinks } from './lib.ts';

const SECRET = 'bench-signing-secret';
const CHANNEL = 'C0BENCH01';

export type SlackFigures = { ackP50: number; ackP99: number; acks: number; callsPerJob: number; callsDetail: string };

async function startSlackApp(fake: SlackFake, runId: string, concurrency: number): Promise<{ app: App; url: string; prefix: string; db: string }> {
  const prefix = `bslack${runId}`;
  const db = `bench_slack_${runId}`;
  const config = loadConfig({
    ...process.env,
    QUEUE_PREFIX: prefix,
    MONGODB_DB: db,
    WORKER_CONCURRENCY: String(concurrency),
    MANIFESTS_DIR: manifestsDirWith(pipelineYaml((id) => SCHED_LATENCY_MS[id] ?? 50)),
    SEED_MANIFESTS_DIR: join(ROOT, 'seed-manifests'),
    SLACK_MODE: 'http',
    SLACK_BOT_TOKEN: 'xoxb-bench-token',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: fake.url,
    SLACK_ONBOARDING_CHANNEL: CHANNEL,
    SLACK_APPROVERS: 'U0APPROVE',
  });
  const app = await compose(config, { runWorkers: true, serveSlack: true, serveWeb: true, onError: () => undefined });
  if (!app.web) throw new Error('the HTTP server was not composed');
  const base = await app.web.listen(0);
  return { app, url: `${base}/slack/events`, prefix, db };
}

/** Deletes the run's Redis keys and database. */
async function removeRun(prefix: string, db: string): Promise<void> {
  const config = loadConfig();
  const redis = new Redis(config.redisUrl);
  await deleteKeys(redis, `${prefix}:*`);
  await redis.quit();
  const mongo = new MongoClient(config.mongoUri);
  await mongo.db(db).dropDatabase();
  await mongo.close();
}

/** /provision as an AE types it: acked, then the modal opens. */
async function ackOnce(fake: SlackFake, url: string): Promise<number> {
  const body = slashCommandBody({
    command: '/provision',
    text: '',
    userId: 'U0AE00001',
    userName: 'ae',
    channelId: 'C0SALES1',
    triggerId: fake.issueTrigger(),
  });
  const response = await signedRequest({ url, signingSecret: SECRET, body });
  if (response.status !== 200) throw new Error(`slash command answered ${response.status}`);
  return response.ms;
}

export async function slackScenario(log: (line: string) => void): Promise<SlackFigures> {
  const runId = randomBytes(3).toString('hex');
  const fake = await SlackFake.start({ botToken: 'xoxb-bench-token' });
  const { app, url, prefix, db } = await startSlackApp(fake, runId, 400);
  try {
    for (let i = 0; i < 20; i++) await ackOnce(fake, url); // warm-up

    // 1. One 10-step job on its own: every Slack call it causes, once the notifier is idle.
    fake.reset();
    const single = engineJobFor(app, starterDeal(runId));
    await app.engine.createJob(single.definition, single.event);
    await waitForSinks(app.engine.redis, (id) => app.engine.keys.jobState(id), [single.definition.jobId], { timeoutMs: 30_000, pollMs: 20 });
    await sleep(2500); // the last coalesced edit is at most ~1 s behind
    const posts = fake.callsTo('chat.postMessage').filter((c) => c.ok).length;
    const updates = fake.callsTo('chat.update').filter((c) => c.ok).length;
    const callsPerJob = posts + updates;

    // 2. Ack latency while 100 jobs arrive over ~1 s and run (steps 20–200 ms).
    const jobs = Array.from({ length: 100 }, () => engineJobFor(app, starterDeal(runId)));
    const acks: number[] = [];
    const arriving = (async () => {
      for (const job of jobs) {
        await app.engine.createJob(job.definition, job.event);
        await sleep(10);
      }
    })();
    const allLive = arriving.then(() =>
      waitForSinks(
        app.engine.redis,
        (id) => app.engine.keys.jobState(id),
        jobs.map((j) => j.definition.jobId),
        { timeoutMs: 60_000, pollMs: 20 },
      ),
    );
    let running = true;
    void allLive.finally(() => (running = false));
    while (running || acks.length < 50) acks.push(await ackOnce(fake, url));
    await allLive;
    log(
      `slack: ${acks.length} /provision acks while 100 jobs ran; one 10-step job cost ${posts} posts (message + thread replies) + ${updates} edits`,
    );
    return {
      ackP50: percentile(acks, 50),
      ackP99: percentile(acks, 99),
      acks: acks.length,
      callsPerJob,
      callsDetail: `${posts} chat.postMessage + ${updates} chat.update`,
    };
  } finally {
    await app.close();
    await fake.close();
    await removeRun(prefix, db);
  }
}
