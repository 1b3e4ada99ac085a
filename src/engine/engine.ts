/**
 * The provisioning engine: step jobs on one BullMQ queue, live state and
 * dependency bookkeeping in Redis, and consumer groups on the event stream:
 * the dispatcher queues released steps, the recorder keeps the store up to
 * date, and a notifier (when there is one) follows in a group of its own.
 * A process may run any part: `provision --no-worker` only creates jobs,
 * `worker` runs everything, `worker --roles steps` only steps (and the
 * dispatcher), `worker --roles recorder` only the recorder.
 */
import { type Job, Queue, Worker, type Telemetry } from 'bullmq';
import { Redis } from 'ioredis';
import { hostname } from 'node:os';
import { planAction, type OperatorAction } from '../domain/actions.ts';
import { ActionRefusedError } from '../domain/errors.ts';
import type { JobEvent } from '../domain/events.ts';
import type { JobPatch } from '../domain/job-patch.ts';
import type { JobDefinition } from '../domain/job-definition.ts';
import { buildJobView, type JobView } from '../domain/job-view.ts';
import { WORKER_ROLES, type WorkerRole } from '../domain/worker-roles.ts';
import type { Log, LogFields } from '../ports/logger.ts';
import { noEngineMetrics, type EngineMetrics } from '../ports/metrics.ts';
import type { JobNotifier } from '../ports/notifier.ts';
import type { StepServices } from '../ports/step-services.ts';
import type { JobStore } from '../ports/store.ts';
import type { StepType } from '../steps/step.ts';
import { DefinitionCache } from './definitions.ts';
import { dispatchReleases, queueReleases } from './dispatcher.ts';
import { queueDepth, streamGroups, type StreamGroup } from './figures.ts';
import { JobStateStore, type JobState } from './job-state.ts';
import { keysFor, type Keys } from './keys.ts';
import { liveJob } from './job-batches.ts';
import { notifyEntries } from './notifier-feed.ts';
import { recordEntries } from './recorder.ts';
import { recordAbandoned } from './abandoned-step.ts';
import { StepJobData } from './step-records.ts';
import { handBackCarried } from './carrying.ts';
import { processStepJob, type StepWorkerDeps } from './step-worker.ts';
import { StreamConsumer } from './stream-consumer.ts';
import { EventFeed } from './feed.ts';
import { watchJob } from './watch.ts';
import { startReconciler, ViewSync } from './view-sync.ts';
import { closeWithin } from './close-within.ts';
import { type SlotFigures, StepSlots } from './step-slots.ts';
import { OutageReports, reportLostConnection } from './redis-outage.ts';

export const STEP_QUEUE = 'steps';

/** Concurrency per BullMQ Worker; more is served by more workers. */
const WORKER_SLICE = 50;
/** Events the recorder handles at most in one batch: one audit insert and one write of the batch's views. */
const RECORDER_BATCH = 2000;
/** A stopping process lets running steps finish for this long (they are bounded by their own timeouts). */
const WORKER_CLOSE_MS = 30_000;

export type EngineOptions = {
  redisUrl: string;
  prefix: string;
  store: JobStore;
  stepTypes: ReadonlyMap<string, StepType>;
  services: (redis: Redis, keys: Keys) => StepServices;
  notifier?: JobNotifier;
  /** Run step workers and the stream consumers in this process. */
  runWorkers: boolean;
  /** With runWorkers, which of them (default all): a process may only run steps, or only record. */
  roles?: readonly WorkerRole[];
  concurrency?: number;
  /** After a batch smaller than a full one, how long the recorder lets events gather before reading again (default 0). */
  recorderGatherMs?: number;
  /** How often stored views left behind are looked for, and how long one must have been behind to be rewritten. */
  reconcileEveryMs?: number;
  reconcileAfterMs?: number;
  /** How soon a crashed worker's step is picked up again (BullMQ lock and stall check). */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Errors of the engine's own machinery (not of steps); default: logged. */
  onError?: (err: unknown) => void;
  log: Log;
  metrics?: EngineMetrics;
  /** BullMQ's telemetry (OpenTelemetry traces across the queue), when tracing is on. */
  telemetry?: Telemetry;
};

/** What each part started by a worker process shares: its consumer name in the stream's groups, and how errors are reported. */
type ConsumerGroupOptions = {
  consumer: string;
  claimIdleMs: number;
  report: (where: string) => (err: unknown) => void;
};

export class Engine {
  readonly keys: Keys;
  readonly state: JobStateStore;
  readonly definitions: DefinitionCache;
  readonly redis: Redis;
  private readonly queue: Queue;
  /** How many steps this process runs at once, when it runs steps. */
  private slots: StepSlots | undefined;
  private readonly closers: (() => Promise<unknown>)[] = [];
  private readonly connections: Redis[] = [];
  private readonly onError: (err: unknown) => void;
  /** BullMQ passes on every failed reconnect attempt: each of its parts reports an outage once. */
  private readonly outages: OutageReports;

  private constructor(opts: EngineOptions, redis: Redis) {
    this.onError = reporter(opts)('the engine');
    this.redis = redis;
    reportLostConnection(redis, this.onError);
    this.outages = new OutageReports(redis);
    this.keys = keysFor(opts.prefix);
    this.state = new JobStateStore(redis, this.keys);
    this.definitions = new DefinitionCache(this.state);
    this.queue = new Queue(STEP_QUEUE, { connection: redis, prefix: opts.prefix, ...telemetry(opts) });
    // Connection trouble (Redis restarting, unreachable) is reported here rather than on the console.
    this.queue.on('error', this.outages.filter('the step queue', reporter(opts)('the step queue')));
  }

  static async start(opts: EngineOptions): Promise<Engine> {
    // Auto-pipelining batches the many small commands of concurrent steps into fewer writes.
    const redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: null, enableAutoPipelining: true });
    const engine = new Engine(opts, redis);
    if (opts.runWorkers) await engine.startWorkers(opts);
    return engine;
  }

  private async startWorkers(opts: EngineOptions): Promise<void> {
    const roles = new Set(opts.roles ?? WORKER_ROLES);
    const reportAny = reporter(opts);
    const report = (where: string) => this.outages.filter(where, reportAny(where));
    const consumer = `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const claimIdleMs = Math.max(2 * (opts.lockDurationMs ?? 30_000), 5_000);
    const group = { consumer, claimIdleMs, report };
    const steps = roles.has('steps') ? this.stepWorkers(opts, group) : undefined;
    const recorder = roles.has('recorder') ? this.recorder(opts, group) : undefined;
    const notifier = roles.has('notifier') ? this.notifier(opts, group) : undefined;
    const consumers = [steps?.dispatcher, recorder?.consumer, notifier].filter((c) => c !== undefined);
    await Promise.all(consumers.map((c) => c.start()));
    const stopReconciler = recorder
      ? startReconciler(recorder.views, {
          everyMs: opts.reconcileEveryMs ?? 5_000,
          olderThanMs: opts.reconcileAfterMs ?? 5_000,
          onError: reportAny('the engine'),
        })
      : undefined;
    // Closed in this order: running steps finish first, then each consumer stops, the queue that takes releases last.
    this.closers.push(
      ...(steps ? [steps.close] : []),
      ...consumers.map((c) => () => c.stop()),
      ...(stopReconciler ? [stopReconciler] : []),
      ...(steps ? [() => steps.releases.close()] : []),
    );
  }

  /** Step workers, and the dispatcher that queues the steps released by events (root steps, and a crashed worker's). */
  private stepWorkers(opts: EngineOptions, { consumer, claimIdleMs, report }: ConsumerGroupOptions) {
    const metrics = opts.metrics ?? noEngineMetrics;
    const onError = reporter(opts)('the engine');
    // Released steps are queued on a connection of their own, off the one every processor shares.
    const releases = new Queue(STEP_QUEUE, { connection: this.connection(), prefix: opts.prefix, ...telemetry(opts) });
    releases.on('error', report('the release queue'));
    // Stored on each step it claims and each step job it takes (BullMQ's processedBy): which process holds a stuck
    // or running step.
    const name = `${hostname()}-${process.pid}`;
    // A stopping process carries nothing on: what its steps release is queued for the others.
    let stopping = false;
    const concurrency = opts.concurrency ?? 50;
    this.slots = new StepSlots(concurrency);
    // The steps' claims and finishes go over two connections, a job always over the same one (see spreadOver).
    this.state.spreadOver([this.redis, this.connection({ pipelined: true })]);
    const deps: StepWorkerDeps = {
      state: this.state,
      definitions: this.definitions,
      stepTypes: opts.stepTypes,
      services: opts.services(this.redis, this.keys),
      enqueue: (definition, released, handBack) => queueReleases(releases, definition, released, handBack),
      carrying: () => !stopping,
      slots: this.slots,
      runner: name,
      ...telemetry(opts),
      log: opts.log,
      metrics,
    };
    // Several workers, each with its own connection, fetch in parallel: one worker fetches one job per round trip.
    const count = Math.max(1, Math.ceil(concurrency / WORKER_SLICE));
    const workers = Array.from({ length: count }, () => {
      const worker = new Worker(STEP_QUEUE, (job, token) => processStepJob(deps, job, token), {
        name,
        connection: this.connection(),
        prefix: opts.prefix,
        concurrency: Math.ceil(concurrency / count),
        lockDuration: opts.lockDurationMs ?? 30_000,
        stalledInterval: opts.stalledIntervalMs ?? 30_000,
        maxStalledCount: 3,
        ...telemetry(opts),
      });
      worker.on('error', report('a step worker'));
      return worker;
    });
    // BullMQ gave up on a step job without the step recording an outcome: see recordAbandoned. Every give-up
    // passes through a worker (one that stalled too often is failed by the next worker to fetch it), which says so
    // here; a retry to come is a failure too, but leaves the job unfinished.
    const givenUp = (job: Job | undefined, err: Error) => {
      if (!job?.finishedOn || job.id === undefined) return;
      const carrier = job.id;
      void (async () => {
        await recordAbandoned(this.state, { log: opts.log, metrics, definitions: this.definitions }, job.data, err.message);
        // A job given up on may have been carrying steps its step released: they go back to the queue.
        const data = StepJobData.safeParse(job.data);
        const definition = data.success ? await this.definitions.get(data.data.jobId) : null;
        if (definition) await handBackCarried(deps, definition, carrier);
      })().catch(onError);
    };
    for (const worker of workers) worker.on('failed', givenUp);
    const dispatcher = new StreamConsumer({
      redis: this.connection(),
      stream: this.keys.events(),
      group: 'dispatcher',
      consumer,
      claimIdleMs,
      onError: report('the dispatcher'),
      handle: (entries) => dispatchReleases(releases, this.definitions, entries),
    });
    const close = async () => {
      stopping = true;
      await Promise.all(workers.map((w) => closeWithin(w, WORKER_CLOSE_MS, report('a step worker'))));
    };
    return { releases, dispatcher, close };
  }

  /** The recorder: keeps the store's views and audit trail up to date from the events. */
  private recorder(opts: EngineOptions, { consumer, claimIdleMs, report }: ConsumerGroupOptions) {
    const metrics = opts.metrics ?? noEngineMetrics;
    const views = new ViewSync({
      redis: this.redis,
      keys: this.keys,
      state: this.state,
      definitions: this.definitions,
      store: opts.store,
      recorderGroup: 'recorder',
    });
    const recorder = new StreamConsumer({
      redis: this.connection(),
      stream: this.keys.events(),
      group: 'recorder',
      consumer,
      claimIdleMs,
      // A burst recorded in a few large batches writes each job's view a few times rather than once per event.
      batchSize: RECORDER_BATCH,
      gatherMs: opts.recorderGatherMs ?? 0,
      onError: report('the recorder'),
      handle: async (entries) => {
        await recordEntries({ state: this.state, definitions: this.definitions, store: opts.store, views }, entries);
        const stored = Date.now();
        metrics.eventsRecorded(entries.map((e) => stored - e.event.at));
      },
    });
    return { views, consumer: recorder };
  }

  /** The notifier (when the process has one) follows the events in a group of its own. */
  private notifier(opts: EngineOptions, { consumer, claimIdleMs, report }: ConsumerGroupOptions): StreamConsumer | undefined {
    const notifier = opts.notifier;
    if (!notifier) return undefined;
    return new StreamConsumer({
      redis: this.connection(),
      stream: this.keys.events(),
      group: 'notifier',
      consumer,
      claimIdleMs,
      onError: report('the notifier'),
      handle: (entries) =>
        notifyEntries({ state: this.state, definitions: this.definitions, notifier, onError: reporter(opts)('the notifier') }, entries),
    });
  }

  /**
   * A connection of its own, closed with the engine. Blocking reads (BullMQ fetches, XREADGROUP BLOCK) must not be
   * pipelined behind other commands; a `pipelined` one is like the engine's own.
   */
  private connection({ pipelined = false } = {}): Redis {
    const connection = this.redis.duplicate({ enableAutoPipelining: pipelined });
    reportLostConnection(connection, this.onError);
    this.connections.push(connection);
    return connection;
  }

  /** Stores the job's live state and releases its first steps; false if it already exists. */
  async createJob(definition: JobDefinition, event: JobEvent): Promise<boolean> {
    return (await this.state.init(definition, event)) !== null;
  }

  /**
   * createJob, answered with the job's view: as just written when this call
   * created it (no read back), else as it stands; null if it exists no more.
   */
  async start(definition: JobDefinition, event: JobEvent): Promise<JobView | null> {
    const written = await this.state.init(definition, event);
    return written ? buildJobView(definition, written) : this.view(definition.jobId);
  }

  /** The BullMQ queue of step jobs, for the operators' dashboard (Bull Board); steps are queued by the dispatcher only. */
  get stepQueue(): Queue {
    return this.queue;
  }

  /** This process's step slots, when it runs steps. */
  stepSlots(): SlotFigures | undefined {
    return this.slots?.figures();
  }

  queueDepth(): Promise<Record<string, number>> {
    return queueDepth(this.queue);
  }

  /** Each consumer group of the event stream: what it has not acknowledged, and not yet read. */
  eventStreamGroups(): Promise<StreamGroup[]> {
    return streamGroups(this.redis, this.keys.events());
  }

  private eventFeed: EventFeed | undefined;

  /** Every job event as it happens, for pages that follow jobs live: one reader per process, started on first use. */
  feed(): EventFeed {
    if (!this.eventFeed) {
      const feed = new EventFeed(this.connection(), this.keys.events(), this.onError);
      this.closers.push(() => feed.stop());
      this.eventFeed = feed;
    }
    return this.eventFeed;
  }

  /** One job's events as they happen (a reader of its own on the stream), until `signal` aborts. */
  watch(jobId: string, signal: AbortSignal, onLost: (err: unknown) => void): AsyncGenerator<JobEvent> {
    return watchJob(this.redis, this.keys.events(), jobId, signal, onLost);
  }

  async read(jobId: string): Promise<{ definition: JobDefinition; state: JobState } | null> {
    return liveJob(this, jobId);
  }

  async view(jobId: string): Promise<JobView | null> {
    const current = await this.read(jobId);
    return current ? buildJobView(current.definition, current.state) : null;
  }

  /**
   * Applies an operator action. Planned on a snapshot and applied only if the
   * job has not moved since; on a race the plan is made again on the new
   * state, where a double click finds nothing left to do and is refused.
   */
  async act(jobId: string, action: OperatorAction, makeEvent: (state: JobState) => { event: JobEvent; patch?: JobPatch }): Promise<void> {
    for (let round = 0; round < 20; round++) {
      const state = await this.state.read(jobId);
      if (!state) throw new ActionRefusedError(`job ${jobId} has no live state`);
      const planned = planAction(state, action);
      if (!planned.ok) throw new ActionRefusedError(planned.reason);
      const { event, patch } = makeEvent(state);
      if (await this.state.apply(jobId, state.seq, planned.transition, event, patch ?? {})) return;
    }
    throw new ActionRefusedError(`job ${jobId} is changing too fast to apply this action; try again`);
  }

  async close(): Promise<void> {
    for (const close of this.closers) await close();
    await this.queue.close();
    await Promise.all(this.connections.map((c) => c.quit()));
    await this.redis.quit();
  }
}

function telemetry(opts: EngineOptions): { telemetry?: Telemetry } {
  return opts.telemetry ? { telemetry: opts.telemetry } : {};
}

/**
 * What to do with an error of the machinery named `where`: the caller's
 * onError when given (tests collect them), else an error line in the log,
 * with the job it concerns when known.
 */
function reporter(opts: EngineOptions): (where: string) => (err: unknown, about?: LogFields) => void {
  return (where) => (err, about) => {
    if (opts.onError) opts.onError(err);
    else opts.log.error({ err, ...about }, `error in ${where}`);
  };
}
