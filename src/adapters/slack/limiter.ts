/**
 * A token bucket shared by every job in the process: however many jobs run,
 * calls to one Slack method stay within its budget. Waiting here delays a
 * Slack message, never a provisioning step.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export class RateLimiter {
  private readonly perSecond: number;
  private readonly burst: number;
  private tokens: number;
  private last = Date.now();
  private queue: Promise<void> = Promise.resolve();

  constructor(perSecond: number, burst = Math.max(1, Math.ceil(perSecond))) {
    this.perSecond = perSecond;
    this.burst = burst;
    this.tokens = burst;
  }

  /** Resolves when the caller may make one call; callers are served in order. */
  take(): Promise<void> {
    const turn = this.queue.then(() => this.waitForToken());
    this.queue = turn;
    return turn;
  }

  private async waitForToken(): Promise<void> {
    for (;;) {
      const now = Date.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
      this.last = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await sleep(Math.ceil(((1 - this.tokens) / this.perSecond) * 1000));
    }
  }
}
