/**
 * A test seam, not a step for production pipelines: with no integration
 * behind it, it "creates" a named resource in the sandbox ledger, takes as
 * long as it is told to, and fails the way it is told to. The engine and Slack
 * tests and the engine benchmark run on it, and it is handy for trying graph
 * changes in the local profile; the production profile refuses to start with it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { NeedsInputError, PermanentError, TransientError } from '../domain/errors.ts';
import { defineStep, type StepContext } from './step.ts';

const input = z.strictObject({
  resource: z.string().min(1).default('sandbox resource'),
  summary: z.string().optional(),
  latencyMs: z.number().int().min(0).max(600_000).default(0),
  /** Pause after the resource exists: a worker killed here made the call but never recorded it. */
  settleMs: z.number().int().min(0).max(600_000).default(0),
  /** Fail with a transient error on the first N attempts of a run. */
  failTransientTimes: z.number().int().min(0).default(0),
  /** Fail permanently on the first N runs (0: never); `failPermanently` fails every time. */
  failPermanentTimes: z.number().int().min(0).default(0),
  failPermanently: z.boolean().default(false),
  /** Sleep this long inside run: longer than the step's timeout simulates a hang. */
  hangMs: z.number().int().min(0).default(0),
  /** An async operation that needs this many polls before it is done. */
  pollTimes: z.number().int().min(0).default(0),
  pollIntervalMs: z.number().int().min(1).default(50),
  waitForInput: z.boolean().default(false),
  inputPrompt: z.string().default("the customer's IdP metadata URL"),
  /** Fail the first N rollbacks (to exercise a failing compensation). */
  failRollbackTimes: z.number().int().min(0).default(0),
  /** Count every call of run in the ledger (key `<idempotencyKey>:starts`), to show a step really ran again. */
  countRuns: z.boolean().default(false),
});
type Input = z.output<typeof input>;
/** A sandbox step's config as a pipeline writes it (every field optional): what tests build their pipelines from. */
export type SandboxConfig = z.input<typeof input>;

async function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms > 0) await sleep(ms, undefined, { signal });
}

async function injectRunFailures(ctx: StepContext<Input>): Promise<void> {
  const { input: cfg } = ctx;
  if (cfg.failPermanently) throw new PermanentError(`${cfg.resource}: rejected by the sandbox (failPermanently)`);
  if (cfg.failPermanentTimes > 0) {
    const runs = await ctx.services.sandbox.touch(`${ctx.idempotencyKey}:runs`);
    if (runs <= cfg.failPermanentTimes) throw new PermanentError(`${cfg.resource}: rejected by the sandbox (run ${runs})`);
  }
  if (ctx.attempt <= cfg.failTransientTimes) {
    throw new TransientError(`${cfg.resource}: sandbox service unavailable (attempt ${ctx.attempt})`);
  }
}

export const sandboxStep = defineStep({
  type: 'sandbox',
  description:
    'Test seam (not for production pipelines): simulated work on a named sandbox resource, with configurable latency and failures, for tests, benchmarks and trying graph changes.',
  simulated: true,
  input,
  async run(ctx) {
    const { input: cfg } = ctx;
    if (cfg.countRuns) await ctx.services.sandbox.touch(`${ctx.idempotencyKey}:starts`);
    if (cfg.waitForInput && ctx.providedInput === undefined) throw new NeedsInputError(cfg.inputPrompt);
    await injectRunFailures(ctx);
    await pause(cfg.hangMs, ctx.signal);
    await pause(cfg.latencyMs, ctx.signal);
    const { created } = await ctx.services.sandbox.create(ctx.idempotencyKey, {
      jobId: ctx.jobId,
      stepId: ctx.stepId,
      name: cfg.resource,
    });
    await pause(cfg.settleMs, ctx.signal);
    const outputs = { resource: cfg.resource, created };
    if (cfg.pollTimes > 0) return { status: 'pending', pollAfterMs: cfg.pollIntervalMs, outputs };
    return { status: 'done', outputs };
  },
  async check(ctx) {
    const { input: cfg } = ctx;
    if (!(await ctx.services.sandbox.exists(ctx.idempotencyKey))) {
      return { status: 'missing', reason: `${cfg.resource} does not exist in the sandbox` };
    }
    if (cfg.pollTimes > 0) {
      const polls = await ctx.services.sandbox.touch(`${ctx.idempotencyKey}:polls`);
      if (polls < cfg.pollTimes) return { status: 'pending', pollAfterMs: cfg.pollIntervalMs };
    }
    return { status: 'done' };
  },
  async rollback(ctx) {
    const { input: cfg } = ctx;
    if (cfg.failRollbackTimes > 0) {
      const tries = await ctx.services.sandbox.touch(`${ctx.idempotencyKey}:rollbacks`);
      if (tries <= cfg.failRollbackTimes) throw new PermanentError(`${cfg.resource}: sandbox refused the delete (try ${tries})`);
    }
    await pause(cfg.latencyMs, ctx.signal);
    await ctx.services.sandbox.remove(ctx.idempotencyKey);
  },
  plan(cfg) {
    return {
      summary: `Simulate creating ${cfg.resource} (test seam: nothing real is made)`,
      resources: [{ system: 'Sandbox', kind: 'resource', name: cfg.resource, settings: [], unknown: [] }],
      ...(cfg.waitForInput ? { waitsForCustomer: cfg.inputPrompt } : {}),
    };
  },
  describe(cfg) {
    return cfg.summary ?? `${cfg.resource} created`;
  },
});
