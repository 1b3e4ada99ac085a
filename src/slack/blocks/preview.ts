/**
 * The Preview the intake modal pushes before the final Submit: what the job
 * will create and where, who must approve and why (a data residency or a plan
 * that needs it), and what will wait for the customer. Read-only: "Back"
 * returns to the filled-in intake, whose Provision button submits it.
 */
import type { ActionsBlock, KnownBlock, ModalView } from '@slack/types';
import { resourceLine, type JobPreview } from '../../domain/preview.ts';
import { button, context, divider, lineSections, plain, section } from './elements.ts';
import { modalView } from './limits.ts';
import { code, LIMITS, literal } from './text.ts';

/** The intake modal's Preview button, and the callback of the view it pushes. */
export const PREVIEW_ACTION = 'intake_preview';
export const PREVIEW_CALLBACK = 'provision_preview';
export const PREVIEW_BLOCK = 'intake_preview_actions';

/** The row under the intake's fields: look before pressing Provision. */
export function previewButtonBlock(): ActionsBlock {
  return {
    type: 'actions',
    block_id: PREVIEW_BLOCK,
    elements: [button({ actionId: PREVIEW_ACTION, text: 'Preview what will be created', value: 'preview' })],
  };
}

// Kept under a message's 50 blocks, though a modal takes 100: the preview must read at a glance.
const MAX_BLOCKS = LIMITS.messageBlocks;

export function previewModal(preview: JobPreview): ModalView {
  const head: KnownBlock[] = [
    section(
      `*${literal(preview.companyName)}* (slug ${code(preview.slug)}) on the *${literal(preview.planId)}* plan, data in *${literal(preview.dataResidency.toUpperCase())}*\nWeb address: ${code(preview.tenantUrl)}`,
    ),
    section(
      preview.approvalReasons.length === 0
        ? ':white_check_mark: *No approval needed*: provisioning starts as soon as you press Provision.'
        : `:raised_hand: *Needs approval before anything runs*: ${preview.approvalReasons.map(literal).join('; ')}`,
    ),
    ...preview.waitsForCustomer.map((w) => section(`:hourglass: *Will wait for the customer* at ${code(w.stepId)}: ${literal(w.what)}`)),
    divider(),
  ];
  const lines = preview.steps.flatMap((step) => [
    `*${literal(step.id)}*${step.criticality === 'notification' ? ' _(best effort)_' : ''}: ${literal(step.plan.summary)}`,
    ...step.plan.resources.map((r) => `  • ${literal(resourceLine(r))}`),
  ]);
  const footer = context('Nothing has been created yet. Press *Back*, then *Provision* to start; `provisioner plan` shows the same from a terminal.');
  const room = MAX_BLOCKS - head.length - 1;
  const steps = lineSections(lines, room, (hidden) => `…and ${hidden} more lines: \`provisioner plan\` shows them all`);
  return modalView({
    callback_id: PREVIEW_CALLBACK,
    title: plain('Preview', LIMITS.modalTitle),
    close: plain('Back', LIMITS.modalButton),
    blocks: [...head, ...steps, footer],
  });
}

/** The intake cannot be previewed yet: what to fix, field by field, in the intake's own words. */
export function previewProblemsModal(problems: readonly { field: string; message: string }[]): ModalView {
  const lines = problems.map((p) => `• *${literal(p.field)}*: ${literal(p.message)}`);
  return modalView({
    callback_id: PREVIEW_CALLBACK,
    title: plain('Preview', LIMITS.modalTitle),
    close: plain('Back', LIMITS.modalButton),
    blocks: [section('*Fix these fields first*, then preview again:'), ...lineSections(lines, MAX_BLOCKS - 1, (hidden) => `…and ${hidden} more`)],
  });
}
