/**
 * The approval gate: parks the job until an authorised approver says yes.
 * The engine puts one in front of the graph when a plan's approval rules
 * match the deal; a pipeline may also place one anywhere.
 */
import { z } from 'zod';
import { NeedsApprovalError } from '../domain/errors.ts';
import { defineStep } from './step.ts';

const input = z.strictObject({
  reasons: z.array(z.string().min(1)).min(1).default(['Approval required by the pipeline']),
});

export const approvalStep = defineStep({
  type: 'approval',
  description: 'Waits until an authorised approver approves (or rejects) the job.',
  input,
  async run(ctx) {
    if (ctx.approvedBy === undefined) throw new NeedsApprovalError(ctx.input.reasons);
    return { status: 'done', outputs: { approvedBy: ctx.approvedBy } };
  },
  async check(ctx) {
    if (ctx.approvedBy !== undefined) return { status: 'done' };
    return { status: 'missing', reason: 'not approved yet' };
  },
  async rollback() {
    // Nothing was created; an approval is history, kept in the audit trail.
  },
  plan(cfg) {
    return { summary: `Wait until an approver approves: ${cfg.reasons.join('; ')}`, resources: [], approvalReasons: [...cfg.reasons] };
  },
  describe(_cfg, outputs) {
    return `Approved by ${String(outputs['approvedBy'] ?? 'an approver')}`;
  },
});
