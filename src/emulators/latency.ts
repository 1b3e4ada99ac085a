/**
 * Injected latency: a real vendor takes tens to hundreds of milliseconds per
 * call, the emulators answer at once. With latency on, each request waits a
 * random time before it is carried out and again before it is answered, so a
 * worker killed mid-step dies either before the vendor acted or after the
 * vendor acted but before it heard back, as it would in production.
 */

/** Milliseconds, drawn uniformly from minMs..maxMs for each wait. */
export type Latency = { minMs: number; maxMs: number };

/** Parses "50-300" (or "100" for a fixed delay) as typed on a command line; undefined when it is not a range. */
export function parseLatency(text: string): Latency | undefined {
  const match = /^(\d+)(?:-(\d+))?$/.exec(text.trim());
  if (!match) return undefined;
  const minMs = Number(match[1]);
  const maxMs = Number(match[2] ?? match[1]);
  return maxMs >= minMs ? { minMs, maxMs } : undefined;
}

/** Waits one random delay of the range; at once when there is no latency. */
export function pause(latency: Latency | undefined): Promise<void> {
  if (latency === undefined || latency.maxMs <= 0) return Promise.resolve();
  const ms = latency.minMs + Math.random() * (latency.maxMs - latency.minMs);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
