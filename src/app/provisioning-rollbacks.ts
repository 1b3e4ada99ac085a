/**
 * Rolling back a provisioning job on behalf of a decommissioning: the same
 * engine action a person's rollback is, in the name of the decommissioning
 * job, so the provisioning job's trail says who removed its resources and why.
 * The purpose goes with the rollback's transition into the job's live state,
 * so every step's undo (and every retry of it, by whoever) knows it.
 */
import { redactText } from '../domain/redact.ts';
import type { Engine } from '../engine/engine.ts';
import type { ProvisioningRollbacks } from '../ports/step-services.ts';

export function provisioningRollbacks(engine: () => Engine): ProvisioningRollbacks {
  return {
    async rollBack(jobId, { by, reason, purpose }) {
      await engine().act(jobId, { kind: 'rollback' }, (state) => {
        const retrying = state.mode === 'rollback';
        return {
          event: {
            type: retrying ? 'job.rollback_retried' : 'job.rollback_started',
            jobId,
            at: Date.now(),
            actor: by,
            summary: redactText(`${by} ${retrying ? 'retried the rollback' : 'started a rollback'}: "${reason}"`),
            reason: redactText(reason),
          },
          patch: { rollbackPurpose: purpose },
        };
      });
    },
    async status(jobId) {
      return (await engine().view(jobId))?.status;
    },
  };
}
