/**
 * How many steps this process runs at once (WORKER_CONCURRENCY), whoever
 * started them. A step job from the queue waits for a slot before its step
 * runs; a step that finishes may carry on several of the steps it released,
 * but only the first in its own slot: each further one needs a free slot, and
 * is queued instead when there is none. So carrying never runs more steps at
 * once than the setting says, and a busy process leaves released steps to the
 * queue, where any process can take them.
 */
export class StepSlots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(limit: number) {
    this.free = Math.max(1, limit);
  }

  /** Waits for a slot (first come, first served). */
  async take(): Promise<void> {
    if (this.free > 0 && this.waiting.length === 0) {
      this.free -= 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** Takes up to `wanted` slots that are free now, never waiting (and none while someone waits); returns how many. */
  takeFree(wanted: number): number {
    if (this.waiting.length > 0) return 0;
    const taken = Math.max(0, Math.min(wanted, this.free));
    this.free -= taken;
    return taken;
  }

  /** Gives back `count` slots, each to the next one waiting if any. */
  give(count = 1): void {
    for (let i = 0; i < count; i++) {
      const next = this.waiting.shift();
      if (next) next();
      else this.free += 1;
    }
  }
}
