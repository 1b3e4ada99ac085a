/**
 * Every job event as it happens, for the pages that show jobs live: one
 * reader per process tails the event stream (from "now", or from where it was
 * before a reconnect) and hands each event to whoever subscribed. A listener
 * that throws never stops the others, and a slow one never holds the reader:
 * listeners are told, they do their own work.
 */
import type { Redis } from 'ioredis';
import type { JobEvent } from '../domain/events.ts';
import { eventOf } from './stream-consumer.ts';

export type FeedListener = (event: JobEvent) => void;

export class EventFeed {
  private readonly redis: Redis;
  private readonly stream: string;
  private readonly listeners = new Set<FeedListener>();
  private readonly onError: (err: unknown) => void;
  private running = false;
  private loop: Promise<void> | undefined;

  /** `redis` is a connection of the feed's own (XREAD BLOCK holds it), closed by its owner. */
  constructor(redis: Redis, stream: string, onError: (err: unknown) => void) {
    this.redis = redis;
    this.stream = stream;
    this.onError = onError;
  }

  subscribe(listener: FeedListener): () => void {
    this.listeners.add(listener);
    if (!this.running) this.start();
    return () => this.listeners.delete(listener);
  }

  private start(): void {
    this.running = true;
    this.loop = this.read();
  }

  private async read(): Promise<void> {
    let last = '$';
    while (this.running) {
      try {
        const reply = await this.redis.xread('COUNT', 500, 'BLOCK', 1000, 'STREAMS', this.stream, last);
        for (const [, entries] of reply ?? []) {
          for (const [id, fields] of entries) {
            last = id;
            const event = eventOf(fields);
            if (event) this.tell(event);
          }
        }
      } catch (err) {
        if (!this.running) return;
        this.onError(err);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  private tell(event: JobEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.onError(err);
      }
    }
  }

  /** Stops within one read (a second at most); the engine closes the connection afterwards. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}
