/**
 * A grace period before something that cannot be undone (decommissioning):
 * the step waits until its deadline without holding a worker (each poll is
 * a delayed BullMQ job) and reminds people in the job's thread at each
 * reminder interval, saying when it ends and how to stop it. Cancelling the
 * job stops it; nothing has been removed yet.
 */
import { z } from 'zod';
import { defineStep, type CheckResult } from './step.ts';

const input = z.strictObject({
  graceMs: z.int().nonnegative(),
  remindEveryMs: z.int().min(1000),
  /** What happens when the grace period ends, as a sentence's subject: "Acme Corp (acme) will be decommissioned". */
  what: z.string().trim().min(1).max(300),
  /** How to stop it, said in every reminder. */
  howToStop: z.string().trim().min(1).max(300),
});
type Input = z.output<typeof input>;

const Deadline = z.object({ deadline: z.number() });

function untilDeadline(cfg: Input, deadline: number, now: number): CheckResult {
  const left = deadline - now;
  if (left <= 0) return { status: 'done' };
  return {
    status: 'pending',
    pollAfterMs: Math.min(cfg.remindEveryMs, left),
    reminder: `Reminder: ${cfg.what} at ${new Date(deadline).toISOString()} (in ${duration(left)}). ${cfg.howToStop}`,
  };
}

/** "3 days 4 hours", "12 minutes", "40 seconds": how long is left, roughly. */
function duration(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
    [1000, 'second'],
  ];
  const parts: string[] = [];
  let rest = ms;
  for (const [size, name] of units) {
    const count = Math.floor(rest / size);
    if (count > 0 && parts.length < 2) parts.push(`${count} ${name}${count === 1 ? '' : 's'}`);
    if (count > 0) rest -= count * size;
  }
  return parts.length > 0 ? parts.join(' ') : 'a moment';
}

export const gracePeriodStep = defineStep({
  type: 'grace_period',
  description: 'Waits out a grace period (without holding a worker), reminding people in the thread until it ends.',
  input,
  async run(ctx) {
    const deadline = Date.now() + ctx.input.graceMs;
    if (ctx.input.graceMs === 0) return { status: 'done', outputs: { deadline } };
    return { status: 'pending', pollAfterMs: Math.min(ctx.input.remindEveryMs, ctx.input.graceMs), outputs: { deadline } };
  },
  async check(ctx) {
    const recorded = Deadline.safeParse(ctx.outputs);
    // No deadline recorded: the run never got as far as starting the clock, so it starts now.
    if (!recorded.success) return { status: 'missing', reason: 'the grace period has not started' };
    return untilDeadline(ctx.input, recorded.data.deadline, Date.now());
  },
  async rollback() {
    // Waiting changed nothing.
  },
  plan(cfg) {
    const reminders = cfg.graceMs > cfg.remindEveryMs ? `, reminding in the thread every ${duration(cfg.remindEveryMs)}` : '';
    const wait = cfg.graceMs === 0 ? 'at once: no grace period' : `after a grace period of ${duration(cfg.graceMs)}${reminders}`;
    return { summary: `${cfg.what} ${wait}. ${cfg.howToStop}`, resources: [] };
  },
  describe(cfg, outputs) {
    const recorded = Deadline.safeParse(outputs);
    return `Grace period over${recorded.success ? ` (${new Date(recorded.data.deadline).toISOString()})` : ''}: ${cfg.what} now`;
  },
});
