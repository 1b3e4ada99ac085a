/**
 * How many steps this process runs at once (WORKER_CONCURRENCY), whoever
 * started them. A step runs in a slot: a step job from the queue waits for one
 * before its step runs. A step that finishes hands its slot to the first step
 * it carries on; each further one it starts at once needs a free slot, and the
 * rest wait here for one (first come, first served, with the queue's jobs).
 * Only a running step holds a slot, never something waiting for one, so the
 * process never runs more steps at once than the setting says and cannot
 * deadlock on its own slots.
 */

/** One slot held; giving it back twice gives it back once (it is handed down a chain of carried steps). */
export type Slot = { give(): void };

/** A process's slots now, for its metrics. */
export type SlotFigures = { busy: number; free: number; waiting: number };

export class StepSlots {
  private readonly limit: number;
  private free: number;
  private readonly waiting: ((slot: Slot) => void)[] = [];

  constructor(limit: number) {
    this.limit = Math.max(1, limit);
    this.free = this.limit;
  }

  figures(): SlotFigures {
    return { busy: this.limit - this.free, free: this.free, waiting: this.waiting.length };
  }

  /** A slot, once one is free. */
  hold(): Promise<Slot> {
    if (this.free > 0 && this.waiting.length === 0) {
      this.free -= 1;
      return Promise.resolve(this.slot());
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Up to `wanted` slots free now, never waiting (none while someone waits). */
  holdFree(wanted: number): Slot[] {
    if (this.waiting.length > 0) return [];
    const taken = Math.max(0, Math.min(wanted, this.free));
    this.free -= taken;
    return Array.from({ length: taken }, () => this.slot());
  }

  private slot(): Slot {
    let held = true;
    return {
      give: () => {
        if (!held) return;
        held = false;
        const next = this.waiting.shift();
        if (next) next(this.slot());
        else this.free += 1;
      },
    };
  }
}
