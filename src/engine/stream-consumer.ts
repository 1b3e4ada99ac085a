/**
 * Reads the job event stream as one member of a consumer group: at least
 * once, in batches, acknowledging only what its handler finished. Entries a
 * crashed member left unacknowledged are claimed after `claimIdleMs`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { parseEvent, type JobEvent } from '../domain/events.ts';

export type StreamEntry = { id: string; event: JobEvent };

/**
 * A gathering consumer reads again once no entry has been added for this long: steps a burst runs add
 * entries far more often, and a person's click (or a burst's end) is stored without waiting for gatherMs.
 */
const QUIET_MS = 50;

/** The job event a stream entry's fields carry (the state scripts append it as field "e"), or null if none parses. */
export function eventOf(fields: readonly unknown[]): JobEvent | null {
  const at = fields.indexOf('e');
  const text = at < 0 ? undefined : fields[at + 1];
  return typeof text === 'string' ? parseEvent(text) : null;
}

export type ConsumerOptions = {
  /** A dedicated connection: XREADGROUP BLOCK holds it. */
  redis: Redis;
  stream: string;
  group: string;
  consumer: string;
  handle(entries: readonly StreamEntry[]): Promise<void>;
  onError(err: unknown): void;
  batchSize?: number;
  blockMs?: number;
  /**
   * After a batch smaller than batchSize, wait up to this long while events keep arriving before reading
   * again, so a burst is handled in a few large batches rather than many small ones (the recorder writes
   * each job's view once per batch). The wait ends as soon as the stream has been quiet for QUIET_MS: the
   * end of a burst, or a lone change, is read at once. Default 0 (read again at once).
   */
  gatherMs?: number;
  claimIdleMs?: number;
};

export class StreamConsumer {
  private readonly opts: ConsumerOptions;
  private running = false;
  private loop: Promise<void> | undefined;
  private lastClaim = 0;
  /** Failed handlings in a row, for the back-off. */
  private failures = 0;
  /**
   * Handle this member's own unacknowledged entries before reading new ones: after a failure, and after
   * every (re)connection. A connection that drops can lose the reply to an XREADGROUP Redis already
   * answered: its entries are then this member's pending ones, and ioredis re-sends the read, which hands
   * over newer entries. Without this they would wait for a claim (claimIdleMs), after newer ones.
   */
  private ownFirst = true;
  private readonly reconnected = (): void => {
    this.ownFirst = true;
  };

  constructor(opts: ConsumerOptions) {
    this.opts = opts;
  }

  async start(): Promise<void> {
    await this.createGroup();
    this.running = true;
    this.opts.redis.on('ready', this.reconnected);
    this.loop = this.run();
  }

  /** From the stream's start, so nothing already in it is skipped; a no-op when the group exists. */
  private async createGroup(): Promise<void> {
    try {
      await this.opts.redis.xgroup('CREATE', this.opts.stream, this.opts.group, '0', 'MKSTREAM');
    } catch (err) {
      if (!(err instanceof Error) || !err.message.includes('BUSYGROUP')) throw err;
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    this.opts.redis.off('ready', this.reconnected);
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.claimAbandoned();
        if (this.ownFirst) {
          // Until none are left: each batch handled is acknowledged, so the next read starts past it.
          const own = await this.readOwnPending();
          if (own.length > 0) await this.process(own);
          else this.ownFirst = false;
        } else {
          const entries = await this.read();
          // Reconnected while reading: ioredis re-sent the read, so these may be newer than entries a lost
          // reply held. All are this member's pending ones now; handle them from the oldest instead.
          if (this.ownFirst) continue;
          if (entries.length > 0) await this.process(entries);
          if (entries.length > 0 && entries.length < (this.opts.batchSize ?? 200) && (this.opts.gatherMs ?? 0) > 0) await this.gather();
        }
        this.failures = 0;
      } catch (err) {
        if (!this.running) return;
        this.opts.onError(err);
        this.failures += 1;
        this.ownFirst = true;
        // A store or Redis that is away comes back: try the same entries again soon, then less often.
        await new Promise((resolve) => setTimeout(resolve, Math.min(200 * 2 ** (this.failures - 1), 5_000)));
        // The group is gone (a Redis that came back without its data, or deleted by hand): make it again
        // rather than fail every read from now on. Handlers are idempotent, so reading from the start is safe.
        if (err instanceof Error && err.message.includes('NOGROUP')) await this.createGroup().catch(this.opts.onError);
      }
    }
  }

  /** Waits while entries keep arriving, for up to gatherMs (see ConsumerOptions.gatherMs). */
  private async gather(): Promise<void> {
    const until = Date.now() + (this.opts.gatherMs ?? 0);
    let newest = await this.newestId();
    while (this.running && Date.now() < until) {
      await sleep(Math.min(QUIET_MS, until - Date.now()));
      const now = await this.newestId();
      if (now === newest) return;
      newest = now;
    }
  }

  /** The id of the stream's newest entry ('' for none): it moves on every entry added, trimmed or not. */
  private async newestId(): Promise<string> {
    const newest = await this.opts.redis.xrevrange(this.opts.stream, '+', '-', 'COUNT', 1);
    return newest[0]?.[0] ?? '';
  }

  private async read(): Promise<StreamEntry[]> {
    const { redis, stream, group, consumer } = this.opts;
    const reply = await redis.xreadgroup(
      'GROUP',
      group,
      consumer,
      'COUNT',
      this.opts.batchSize ?? 200,
      'BLOCK',
      this.opts.blockMs ?? 500,
      'STREAMS',
      stream,
      '>',
    );
    return parseReply(reply);
  }

  /**
   * The entries this member was handed and has not acknowledged (those its handler failed on), in order:
   * retried at once rather than left until another member claims them as abandoned.
   */
  private async readOwnPending(): Promise<StreamEntry[]> {
    const { redis, stream, group, consumer } = this.opts;
    const reply = await redis.xreadgroup('GROUP', group, consumer, 'COUNT', this.opts.batchSize ?? 200, 'STREAMS', stream, '0');
    return parseReply(reply);
  }

  private async claimAbandoned(): Promise<void> {
    const idle = this.opts.claimIdleMs ?? 15_000;
    if (Date.now() - this.lastClaim < Math.min(idle, 5_000)) return;
    this.lastClaim = Date.now();
    const { redis, stream, group, consumer } = this.opts;
    const reply = await redis.xautoclaim(stream, group, consumer, idle, '0-0', 'COUNT', this.opts.batchSize ?? 200);
    const claimed = Array.isArray(reply) ? reply[1] : undefined;
    const entries = parseEntries(claimed);
    if (entries.length > 0) await this.process(entries);
  }

  private async process(entries: StreamEntry[]): Promise<void> {
    await this.opts.handle(entries);
    await this.opts.redis.xack(this.opts.stream, this.opts.group, ...entries.map((e) => e.id));
  }
}

function parseReply(reply: unknown): StreamEntry[] {
  if (!Array.isArray(reply)) return [];
  return reply.flatMap((streamReply: unknown) => (Array.isArray(streamReply) ? parseEntries(streamReply[1]) : []));
}

function parseEntries(raw: unknown): StreamEntry[] {
  if (!Array.isArray(raw)) return [];
  const out: StreamEntry[] = [];
  for (const item of raw) {
    if (!Array.isArray(item) || typeof item[0] !== 'string' || !Array.isArray(item[1])) continue;
    const event = eventOf(item[1]);
    if (event) out.push({ id: item[0], event });
  }
  return out;
}
