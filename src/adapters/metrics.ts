/**
 * Every Prometheus series the provisioner exports, in one place, on a
 * registry of the process's own (two apps in one test process never mix).
 * The engine reports through the EngineMetrics port; figures that describe
 * the whole system (jobs by status, queue depth…) are read when scraped,
 * cached for a moment so a busy scraper costs little.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Phase } from '../domain/actions.ts';
import { silentLog, type Log } from '../ports/logger.ts';
import type { EngineMetrics, MetricsExposition, SampledFigures, StepOutcome } from '../ports/metrics.ts';

/** Step durations run from a blink (sandbox) to a DNS change settling (minutes). */
const STEP_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];
/** The recorder should keep up within a second; minutes mean it is stuck. */
const LAG_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
/** How long a sampled figure is reused: store figures cost a query, queue figures a few Redis calls. */
const STORE_TTL_MS = 5_000;
const REDIS_TTL_MS = 2_000;

/** Every series of ours: name, help and labels (the Grafana dashboard test checks its queries against these). */
export const SERIES = {
  stepDuration: {
    name: 'provisioner_step_duration_seconds',
    help: 'Time from a step starting (its first attempt) to its outcome, by step type and outcome',
    labelNames: ['step_type', 'outcome'],
  },
  stepRetries: {
    name: 'provisioner_step_retries_total',
    help: 'Attempts of a step that hit a temporary problem and were tried again, by step type',
    labelNames: ['step_type', 'phase'],
  },
  stepFailures: {
    name: 'provisioner_step_failures_total',
    help: 'Steps that failed for good (phase run) or could not be undone (phase compensate), by step type',
    labelNames: ['step_type', 'phase'],
  },
  recorderLag: {
    name: 'provisioner_recorder_lag_seconds',
    help: 'Time from a job event happening to the recorder storing it in the audit trail and job view',
    labelNames: [],
  },
  slackCalls: {
    name: 'provisioner_slack_api_calls_total',
    help: 'HTTP requests to the Slack Web API (retries included), by API method',
    labelNames: ['method'],
  },
  slackRateLimited: {
    name: 'provisioner_slack_api_rate_limited_total',
    help: 'Slack Web API requests answered 429 (rate limited), by API method',
    labelNames: ['method'],
  },
  sampleFailures: {
    name: 'provisioner_metrics_sample_failures_total',
    help: 'Scrapes that could not read a figure (the store or Redis did not answer), by figure',
    labelNames: ['figure'],
  },
  jobs: { name: 'provisioner_jobs', help: 'Provisioning jobs by status, as stored', labelNames: ['status'] },
  approvalsWaiting: { name: 'provisioner_approvals_waiting', help: 'Steps waiting for an approver', labelNames: [] },
  approvalOldestAge: {
    name: 'provisioner_approval_oldest_age_seconds',
    help: 'How long the oldest step waiting for an approver has waited (0 when none waits)',
    labelNames: [],
  },
  queueJobs: {
    name: 'provisioner_queue_jobs',
    help: 'Jobs in the BullMQ step queue by state (waiting, active, delayed, prioritized, failed…)',
    labelNames: ['queue', 'state'],
  },
  streamPending: {
    name: 'provisioner_event_stream_pending',
    help: 'Job events delivered to a consumer group (dispatcher, recorder, notifier) but not yet acknowledged',
    labelNames: ['group'],
  },
  streamLag: { name: 'provisioner_event_stream_lag', help: 'Job events not yet delivered to a consumer group', labelNames: ['group'] },
  stepSlots: {
    name: 'provisioner_step_slots',
    help: "This process's step slots (WORKER_CONCURRENCY) by state: busy (a step running in it) or free",
    labelNames: ['state'],
  },
  stepsWaitingForSlot: {
    name: 'provisioner_steps_waiting_for_slot',
    help: 'Steps waiting in this process for a free step slot: queue jobs it took, and steps it carries on',
    labelNames: [],
  },
} as const;

export type MetricsOptions = { log?: Log; now?: () => number };

export class PrometheusMetrics implements EngineMetrics, MetricsExposition {
  readonly registry = new Registry();
  private readonly log: Log;
  private readonly now: () => number;
  private figures: SampledFigures | undefined;
  private readonly stepDuration: Histogram<'step_type' | 'outcome'>;
  private readonly stepRetries: Counter<'step_type' | 'phase'>;
  private readonly stepFailures: Counter<'step_type' | 'phase'>;
  private readonly recorderLag: Histogram;
  private readonly slackCalls: Counter<'method'>;
  private readonly slackRateLimited: Counter<'method'>;
  private readonly sampleFailures: Counter<'figure'>;

  constructor(opts: MetricsOptions = {}) {
    this.log = opts.log ?? silentLog;
    this.now = opts.now ?? Date.now;
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.stepDuration = new Histogram({ ...SERIES.stepDuration, buckets: STEP_BUCKETS, registers });
    this.stepRetries = new Counter({ ...SERIES.stepRetries, registers });
    this.stepFailures = new Counter({ ...SERIES.stepFailures, registers });
    this.recorderLag = new Histogram({ ...SERIES.recorderLag, buckets: LAG_BUCKETS, registers });
    this.slackCalls = new Counter({ ...SERIES.slackCalls, registers });
    this.slackRateLimited = new Counter({ ...SERIES.slackRateLimited, registers });
    this.sampleFailures = new Counter({ ...SERIES.sampleFailures, registers });
    this.sampledGauges();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** Where the figures read at scrape time come from (the engine and store exist only after this adapter). */
  sampleFrom(figures: SampledFigures): void {
    this.figures = {
      jobsByStatus: cached(STORE_TTL_MS, () => figures.jobsByStatus()),
      approvalsWaiting: cached(STORE_TTL_MS, () => figures.approvalsWaiting()),
      queueDepth: cached(REDIS_TTL_MS, () => figures.queueDepth()),
      eventStream: cached(REDIS_TTL_MS, () => figures.eventStream()),
      stepSlots: () => figures.stepSlots(),
    };
  }

  stepFinished(step: { type: string; phase: Phase; outcome: StepOutcome; durationMs: number | undefined }): void {
    if (step.durationMs !== undefined)
      this.stepDuration.observe({ step_type: step.type, outcome: step.outcome }, Math.max(0, step.durationMs) / 1000);
    if (step.outcome === 'failed' || step.outcome === 'compensation_failed') this.stepFailures.inc({ step_type: step.type, phase: step.phase });
  }

  stepRetrying(step: { type: string; phase: Phase }): void {
    this.stepRetries.inc({ step_type: step.type, phase: step.phase });
  }

  eventsRecorded(lagsMs: readonly number[]): void {
    for (const lag of lagsMs) this.recorderLag.observe(Math.max(0, lag) / 1000);
  }

  /** One HTTP request to Slack and its status (from the Slack adapter's fetch). */
  slackCalled(method: string, status: number | 'error'): void {
    this.slackCalls.inc({ method });
    if (status === 429) this.slackRateLimited.inc({ method });
  }

  /** Gauges whose values are read when scraped; without figures (or when a read fails) they show no series. */
  private sampledGauges(): void {
    const registers = [this.registry];
    const sample = this.sample.bind(this);
    new Gauge({
      ...SERIES.jobs,
      registers,
      async collect() {
        this.reset();
        const byStatus = await sample('jobs', (f) => f.jobsByStatus());
        for (const [status, count] of Object.entries(byStatus ?? {})) this.set({ status }, count);
      },
    });
    const approvals = () => sample('approvals', (f) => f.approvalsWaiting());
    const now = this.now;
    new Gauge({
      ...SERIES.approvalsWaiting,
      registers,
      async collect() {
        this.reset();
        const waiting = await approvals();
        if (waiting) this.set(waiting.count);
      },
    });
    new Gauge({
      ...SERIES.approvalOldestAge,
      registers,
      async collect() {
        this.reset();
        const waiting = await approvals();
        if (waiting) this.set(waiting.oldestSince === undefined ? 0 : Math.max(0, now() - waiting.oldestSince) / 1000);
      },
    });
    new Gauge({
      ...SERIES.queueJobs,
      registers,
      async collect() {
        this.reset();
        const depth = await sample('queue', (f) => f.queueDepth());
        for (const [state, count] of Object.entries(depth ?? {})) this.set({ queue: 'steps', state }, count);
      },
    });
    const slots = () => sample('step_slots', (f) => f.stepSlots());
    new Gauge({
      ...SERIES.stepSlots,
      registers,
      async collect() {
        this.reset();
        const figures = await slots();
        if (figures) for (const state of ['busy', 'free'] as const) this.set({ state }, figures[state]);
      },
    });
    new Gauge({
      ...SERIES.stepsWaitingForSlot,
      registers,
      async collect() {
        this.reset();
        const figures = await slots();
        if (figures) this.set(figures.waiting);
      },
    });
    const stream = () => sample('event_stream', (f) => f.eventStream());
    new Gauge({
      ...SERIES.streamPending,
      registers,
      async collect() {
        this.reset();
        for (const g of (await stream()) ?? []) this.set({ group: g.group }, g.pending);
      },
    });
    new Gauge({
      ...SERIES.streamLag,
      registers,
      async collect() {
        this.reset();
        for (const g of (await stream()) ?? []) if (g.lag !== undefined) this.set({ group: g.group }, g.lag);
      },
    });
  }

  /** Reads one figure; a failure is counted and logged, and the scrape goes on without it. */
  private async sample<T>(figure: string, read: (figures: SampledFigures) => Promise<T>): Promise<T | undefined> {
    if (!this.figures) return undefined;
    try {
      return await read(this.figures);
    } catch (err) {
      this.sampleFailures.inc({ figure });
      this.log.warn({ err, figure }, 'could not read a figure for the metrics scrape');
      return undefined;
    }
  }
}

/** The last answer of `read`, reused for `ttlMs`; a failed read is not kept. */
function cached<T>(ttlMs: number, read: () => Promise<T>): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    const now = Date.now();
    if (last && now - last.at < ttlMs) return last.value;
    const value = read();
    const entry = { at: now, value };
    last = entry;
    value.catch(() => {
      if (last === entry) last = undefined;
    });
    return value;
  };
}
