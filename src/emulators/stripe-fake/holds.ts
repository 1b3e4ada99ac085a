/**
 * Held answers: the request is processed and its result committed at once,
 * but the answer leaves only after a delay. It stands for "Stripe did it, but
 * the caller died before hearing back", the crash window that idempotency
 * (find-before-create, idempotency keys) has to cover.
 */

type Hold = { left: number; ms: number; pathPrefix: string; method: string | undefined };

export type Holds = {
  add(count: number, ms: number, pathPrefix: string, method: string | undefined): void;
  /** How long to hold this request's answer when a hold matches it (using that hold up). */
  take(method: string, path: string): number | undefined;
  /** Runs `send` after `ms`, unless the fake is closed first. */
  later(ms: number, send: () => void): void;
  /** Drops every answer still held (the fake is closing; its connections go too). */
  dropAll(): void;
};

export function createHolds(): Holds {
  const holds: Hold[] = [];
  const timers = new Set<NodeJS.Timeout>();
  return {
    add(count, ms, pathPrefix, method) {
      holds.push({ left: count, ms, pathPrefix, method: method?.toUpperCase() });
    },
    take(method, path) {
      const hold = holds.find((h) => h.left > 0 && path.startsWith(h.pathPrefix) && (h.method === undefined || h.method === method));
      if (hold === undefined) return undefined;
      hold.left -= 1;
      return hold.ms;
    },
    later(ms, send) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        send();
      }, ms);
      timers.add(timer);
    },
    dropAll() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}
