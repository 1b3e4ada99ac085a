/**
 * The peer a BullMQ user would pick instead of our engine: BullMQ's own
 * FlowProducer running the bench graph (conventions:
 * /work/shared/reference/benchmarks.md). A flow is a tree whose children
 * finish before their parent, so the DAG runs by levels: level k's steps are
 * the children of a no-op barrier job whose processor adds level k+1 as a new
 * flow. The 10-step, 4-level graph costs 10 step jobs and 4 barrier jobs per
 * job; only step jobs count in steps/s.
 *
 * One queue holds both kinds of job, served by one Worker with the engine's
 * concurrency, so steps and barriers share the same 50 slots as the engine's
 * steps do. Step processors are empty (the engine's zero-latency sandbox step
 * still writes its ledger key in Redis): the flow is not handicapped.
 *
 * A round: every job's first level is added (one flow each) with the queue
 * paused; the clock runs from resuming it until the last step job completed,
 * as the engine's runs until the last job's sink step finished. The round
 * then waits for the last barriers and checks that every job ran each of its
 * ten steps exactly once, so the figure cannot come from work not done.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { FlowProducer, type FlowJob, type Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { cpuMeter, GRAPH, STEPS_PER_JOB } from './lib.ts';

/** The graph's steps by level: a step's level is one more than its deepest need's. */
export const LEVELS: readonly (readonly string[])[] = levelsOf(GRAPH);

function levelsOf(graph: readonly { id: string; needs: readonly string[] }[]): string[][] {
  const level = new Map<string, number>();
  const levelOf = (id: string): number => {
    const known = level.get(id);
    if (known !== undefined) return known;
    const step = graph.find((s) => s.id === id);
    if (!step) throw new Error(`the bench graph has no step ${id}`);
    const own = step.needs.length === 0 ? 0 : 1 + Math.max(...step.needs.map(levelOf));
    level.set(id, own);
    return own;
  };
  const depth = Math.max(...graph.map((s) => levelOf(s.id)));
  return Array.from({ length: depth + 1 }, (_, k) => graph.filter((s) => levelOf(s.id) === k).map((s) => s.id));
}

type FlowData = { round: number; job: number; level: number; step?: string };

export type FlowRound = {
  stepsPerS: number;
  windowMs: number;
  /** CPU µs per step job, this process and redis-server, over the window. */
  cpu: { nodeUs: number; redisUs: number };
};

export type FlowPeer = { round(jobs: number): Promise<FlowRound>; close(): Promise<void> };

export async function startFlowPeer(opts: {
  redisUrl: string;
  /** The bench's own connection: redis-server's CPU is read through it. */
  redis: Redis;
  prefix: string;
  concurrency: number;
  removeOnComplete: { age: number; count: number };
  onError: (err: unknown) => void;
}): Promise<FlowPeer> {
  const { prefix, removeOnComplete } = opts;
  const QUEUE = 'flow';
  const connection = () => new Redis(opts.redisUrl, { maxRetriesPerRequest: null });
  const queueConnection = connection();
  const flowConnection = connection();
  const workerConnection = connection();
  const queue = new Queue(QUEUE, { connection: queueConnection, prefix });
  const flows = new FlowProducer({ connection: flowConnection, prefix });
  flows.on('error', opts.onError);

  /** Level `level` of one job: its steps as the children of the barrier that adds the next level. */
  const levelFlow = (round: number, job: number, level: number): FlowJob => ({
    name: 'barrier',
    queueName: QUEUE,
    data: { round, job, level } satisfies FlowData,
    opts: { removeOnComplete },
    children: (LEVELS[level] ?? []).map((step) => ({
      name: 'step',
      queueName: QUEUE,
      data: { round, job, level, step } satisfies FlowData,
      opts: { removeOnComplete },
    })),
  });

  const worker = new Worker<FlowData>(
    QUEUE,
    async (job: Job<FlowData>) => {
      if (job.name !== 'barrier') return;
      const { round, job: n, level } = job.data;
      if (level + 1 < LEVELS.length) await flows.add(levelFlow(round, n, level + 1));
    },
    { connection: workerConnection, prefix, concurrency: opts.concurrency },
  );
  worker.on('error', opts.onError);
  await worker.waitUntilReady();

  // What completed in the current round: each job's steps, and its last barrier (the flow is over).
  let ran = new Map<number, string[]>();
  let lastBarriers = 0;
  let lastStepAt = 0;
  let current = 0;
  worker.on('completed', (job: Job<FlowData>) => {
    const { round, job: n, level, step } = job.data;
    if (round !== current) return;
    if (step === undefined) {
      if (level === LEVELS.length - 1) lastBarriers += 1;
      return;
    }
    lastStepAt = performance.now();
    const steps = ran.get(n) ?? [];
    steps.push(step);
    ran.set(n, steps);
  });

  return {
    async round(jobs) {
      current += 1;
      ran = new Map();
      lastBarriers = 0;
      await queue.pause();
      const numbers = Array.from({ length: jobs }, (_, i) => i);
      for (let i = 0; i < jobs; i += 100) await flows.addBulk(numbers.slice(i, i + 100).map((n) => levelFlow(current, n, 0)));
      const cpu = await cpuMeter(opts.redis);
      const t0 = performance.now();
      await queue.resume();
      const deadline = Date.now() + 60_000;
      const stepsDone = () => [...ran.values()].reduce((sum, steps) => sum + steps.length, 0);
      while (stepsDone() < jobs * STEPS_PER_JOB || lastBarriers < jobs) {
        if (Date.now() > deadline) throw new Error(`FlowProducer: ${stepsDone()} of ${jobs * STEPS_PER_JOB} step jobs ran within 60 s`);
        await sleep(5);
      }
      const used = await cpu.stop();
      checkEveryStepRanOnce(ran, jobs);
      const windowMs = lastStepAt - t0;
      const steps = jobs * STEPS_PER_JOB;
      return {
        stepsPerS: (steps * 1000) / windowMs,
        windowMs,
        cpu: { nodeUs: (used.nodeMs * 1000) / steps, redisUs: (used.redisMs * 1000) / steps },
      };
    },
    async close() {
      await worker.close();
      await flows.close();
      await queue.close();
      await Promise.all([queueConnection, flowConnection, workerConnection].map((c) => c.quit()));
    },
  };
}

/** Every job ran each step of the graph exactly once, or the round's figure is not worth printing. */
function checkEveryStepRanOnce(ran: ReadonlyMap<number, readonly string[]>, jobs: number): void {
  const expected = GRAPH.map((s) => s.id).sort();
  for (let n = 0; n < jobs; n++) {
    const steps = [...(ran.get(n) ?? [])].sort();
    if (steps.join() !== expected.join())
      throw new Error(`FlowProducer: job ${n} ran steps [${steps.join(', ')}], not each of [${expected.join(', ')}] once`);
  }
}
