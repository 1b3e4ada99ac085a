/**
 * Removes everything provisioned for a tenant by rolling back the job that
 * provisioned it: each step type's own undo, in reverse dependency order
 * (DNS record, secrets with their recovery window, Okta group/app/admin,
 * the Stripe subscription — set to end with the period the customer paid
 * for, since the rollback is told it decommissions — database), each tolerant of a resource
 * already gone. The step starts that rollback and polls it (a delayed job
 * per poll); a rollback that fails stops here for a person, who retries it
 * on the provisioning job and then this step. What is removed cannot come
 * back, so this step's own undo does nothing.
 */
import { z } from 'zod';
import { ActionRefusedError, PermanentError } from '../domain/errors.ts';
import { defineStep, type CheckResult, type StepContext } from './step.ts';

const input = z.strictObject({
  provisioningJobId: z.string().min(1),
  reason: z.string().min(1),
});
type Input = z.output<typeof input>;

const POLL_MS = 2000;

async function progress(ctx: StepContext<Input>): Promise<CheckResult> {
  const { provisioningJobId } = ctx.input;
  const status = await ctx.services.provisioningRollbacks.status(provisioningJobId);
  if (status === 'rolled_back') return { status: 'done' };
  if (status === 'rolling_back') return { status: 'pending', pollAfterMs: POLL_MS };
  if (status === 'rollback_failed') {
    throw new PermanentError(
      `the rollback of ${provisioningJobId} could not undo every step; retry it there (provisioner rollback ${provisioningJobId} --reason …), then retry this step`,
    );
  }
  if (status === undefined)
    throw new PermanentError(`the provisioning job ${provisioningJobId} has no live state, so its resources cannot be removed by its rollback`);
  return { status: 'missing', reason: `${provisioningJobId} is ${status}, not rolled back` };
}

export const provisioningTeardownStep = defineStep({
  type: 'provisioning_teardown',
  description: "Removes every resource provisioned for the tenant, by the provisioning job's own rollback.",
  input,
  async run(ctx) {
    const { provisioningJobId, reason } = ctx.input;
    const now = await progress(ctx);
    if (now.status !== 'missing') return now;
    try {
      await ctx.services.provisioningRollbacks.rollBack(provisioningJobId, {
        by: `Decommissioning job ${ctx.jobId}`,
        reason,
        // A live tenant is retired, not a mistake undone: what its customer paid for runs to its end.
        purpose: 'decommission',
      });
    } catch (err) {
      // Started meanwhile by a re-delivery of this step: follow it like ours.
      if (!(err instanceof ActionRefusedError)) throw err;
    }
    return { status: 'pending', pollAfterMs: POLL_MS };
  },
  check: progress,
  async rollback() {
    // Removed resources do not come back; the export holds the data.
  },
  plan(cfg) {
    return {
      summary: `Remove every resource ${cfg.provisioningJobId} provisioned, by its own rollback in reverse dependency order (${cfg.reason})`,
      resources: [],
    };
  },
  describe(cfg) {
    return `Every resource provisioned by ${cfg.provisioningJobId} removed, by its rollback`;
  },
});
