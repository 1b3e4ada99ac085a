/**
 * The people and accidents of a chaos run, each a loop that runs until told
 * to stop: the account executives who submit deals (retrying while a server
 * is down, as a person clicks again), the approver who approves every job
 * waiting for approval through the same service the Slack button calls, and
 * the monkey that SIGKILLs workers, aimed at steps just started.
 */
import type { Identity } from '../../src/domain/policy.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { App } from '../../src/compose.ts';
import { ActionRefusedError, InvalidInputError } from '../../src/domain/errors.ts';
import { parseEvent } from '../../src/domain/events.ts';
import type { Deal } from './deals.ts';
import type { WorkerPool } from './workers.ts';

/** The run's cast, acting as CLI operators would: an AE who asks for tenants, an approver who approves them. */
const CHAOS_AE: Identity = { door: 'cli', id: 'chaos.ae', name: 'chaos.ae', roles: new Set(['requester']) };
const CHAOS_APPROVER: Identity = { door: 'cli', id: 'chaos.approver', name: 'chaos.approver', roles: new Set(['approver']) };

export const say = (line: string): void => void process.stderr.write(`[chaos] ${line}\n`);

const lastSaid = new Map<string, number>();

/** Says it at most every 30 s for the same `about`: a server that stays down must not drown the rest. */
function sayNow(about: string, line: string): void {
  if (Date.now() - (lastSaid.get(about) ?? 0) < 30_000) return;
  lastSaid.set(about, Date.now());
  say(line);
}

/** A call that fails while Redis or the store restarts is tried again, for up to `forMs`. */
export async function persist<T>(what: string, call: () => Promise<T>, forMs = 60_000): Promise<T> {
  const deadline = Date.now() + forMs;
  for (;;) {
    try {
      return await call();
    } catch (err) {
      if (err instanceof InvalidInputError || Date.now() > deadline) throw err;
      sayNow(what, `${what} failed (${err instanceof Error ? err.message : String(err)}); trying again`);
      await sleep(500);
    }
  }
}

const GIVE_UP_AFTER = 3;

/** Submits the deals `perSecond` at a time, adding each job to `jobIds`; calls `afterEach(n)` with the count submitted so far. */
export async function submitDeals(
  app: App,
  deals: readonly Deal[],
  perSecond: number,
  jobIds: string[],
  afterEach: (submitted: number) => Promise<void>,
): Promise<{ refused: string[] }> {
  const refused: string[] = [];
  let failedInARow = 0;
  for (const [i, deal] of deals.entries()) {
    const started = Date.now();
    // An app that refused three deals in a row for a minute each will refuse the rest: say so and stop trying.
    if (failedInARow >= GIVE_UP_AFTER) {
      refused.push(`${deal.slug}: not tried, the app refused the ${GIVE_UP_AFTER} deals before it`);
      continue;
    }
    try {
      const { job } = await persist(`provisioning ${deal.slug}`, () => app.service.provision(deal, CHAOS_AE));
      jobIds.push(job.jobId);
      failedInARow = 0;
    } catch (err) {
      refused.push(`${deal.slug}: ${err instanceof Error ? err.message : String(err)}`);
      failedInARow += 1;
    }
    await afterEach(i + 1);
    await sleep(Math.max(0, 1000 / perSecond - (Date.now() - started)));
  }
  return { refused };
}

/** Approves every job of the run that waits for approval, until `stop` is aborted; returns how many it approved. */
export async function approveWaiting(app: App, jobIds: () => readonly string[], stop: AbortSignal): Promise<number> {
  let approved = 0;
  while (!stop.aborted) {
    for (const jobId of jobIds()) {
      try {
        const view = await app.engine.view(jobId);
        if (view?.status !== 'awaiting_approval') continue;
        await app.service.approve(jobId, CHAOS_APPROVER);
        approved += 1;
      } catch (err) {
        // A double click or a server restarting: the next round looks again.
        if (!(err instanceof ActionRefusedError)) sayNow(`approving ${jobId}`, `approving ${jobId} failed (${String(err)}); will look again`);
      }
    }
    await sleep(1000, undefined, { signal: stop }).catch(() => undefined);
  }
  return approved;
}

export type MonkeyOptions = {
  pool: WorkerPool;
  redis: Redis;
  stream: string;
  kills: number;
  /** Seconds between kills, drawn from this range. */
  gapS: { min: number; max: number };
  /** How long after a step started its owner is killed, at most (ms). */
  aimWithinMs: number;
  random: () => number;
  stop: AbortSignal;
};

/** Kills workers until its quota is used or `stop` is aborted: every other kill is aimed at the owner of a step that just started. */
export async function killWorkers(o: MonkeyOptions): Promise<void> {
  for (let n = 1; n <= o.kills && !o.stop.aborted; n += 1) {
    const gap = (o.gapS.min + o.random() * (o.gapS.max - o.gapS.min)) * 1000;
    await sleep(gap, undefined, { signal: o.stop }).catch(() => undefined);
    if (o.stop.aborted) return;
    // Never the last worker standing: the run is about crashes, not an outage.
    while (o.pool.alive().length < 2 && !o.stop.aborted) await sleep(200);
    const aimed = n % 2 === 1 ? await ownerOfStartingStep(o) : undefined;
    const victims = o.pool.alive();
    const pid = aimed?.pid ?? victims[Math.floor(o.random() * victims.length)];
    if (pid === undefined || o.stop.aborted) continue;
    await o.pool.killAndReplace(pid);
    say(`kill ${o.pool.kills()}: SIGKILL worker ${pid}${aimed ? ` while it ran ${aimed.step}` : ' (at random)'}`);
  }
}

/** Waits for a step to start, then (a moment later, inside its first calls) finds which worker runs it. */
async function ownerOfStartingStep(o: MonkeyOptions): Promise<{ pid: number; step: string } | undefined> {
  const deadline = Date.now() + 10_000;
  let from = (await o.redis.xrevrange(o.stream, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0-0';
  while (Date.now() < deadline && !o.stop.aborted) {
    const entries = await o.redis.xrange(o.stream, `(${from}`, '+', 'COUNT', 200);
    for (const [id, fields] of entries) {
      from = id;
      const event = parseEvent(fields[fields.indexOf('e') + 1] ?? '');
      if (event?.type !== 'step.started' || event.phase !== 'run' || event.stepId === undefined) continue;
      await sleep(o.random() * o.aimWithinMs);
      const pid = await o.pool.ownerOf(event.jobId, event.stepId);
      if (pid !== undefined) return { pid, step: `${event.stepId} of ${event.jobId}` };
    }
    await sleep(50);
  }
  return undefined;
}
