/**
 * Small modals opened from buttons: a reason (reject, override, roll back —
 * the audit trail must say why) and the input a waiting step asks for.
 * private_metadata carries the ActionRef of the button that opened them.
 */
import type { InputBlock, ModalView } from '@slack/types';
import type { StepView } from '../../domain/job-view.ts';
import { parseStepInput, type StepInput } from '../../domain/step-input.ts';
import { CALLBACKS, encodeAction, type ActionRef } from './actions.ts';
import { plain, section } from './elements.ts';
import { modalView } from './limits.ts';
import { outsideText } from './job-lines.ts';
import { stateText, type ViewStateValues } from './state.ts';
import { LIMITS, literal } from './text.ts';

export type { ViewStateValues } from './state.ts';

export type ReasonKind = 'reject' | 'override' | 'rollback' | 'cancel';

/** Block and action ids of the modal inputs, for reading values and returning errors. */
export const DIALOG_BLOCKS = {
  reason: { blockId: 'reason', actionId: 'reason_input' },
  metadataUrl: { blockId: 'idp_metadata_url', actionId: 'metadata_url_input' },
  details: { blockId: 'idp_details', actionId: 'details_input' },
} as const;

const REASON_MAX = 500;

const REASON_COPY: Record<ReasonKind, { title: string; submit: string; intro: (step: string) => string; placeholder: string }> = {
  reject: {
    title: 'Reject request',
    submit: 'Reject',
    intro: (step) => `Rejecting stops ${step} for good; nothing is provisioned. The requester sees your reason.`,
    placeholder: 'e.g. pricing not signed off by the deal desk',
  },
  override: {
    title: 'Override step',
    submit: 'Override',
    intro: (step) => `Marks ${step} as done by hand, so the job carries on. Rollback will not undo it.`,
    placeholder: 'e.g. created the customer by hand in Stripe',
  },
  rollback: {
    title: 'Roll back tenant',
    submit: 'Roll back',
    intro: (step) => `Undoes ${step}, newest first. The tenant will not be usable afterwards.`,
    placeholder: 'e.g. deal fell through',
  },
  cancel: {
    title: 'Cancel job',
    submit: 'Cancel job',
    intro: (subject) => `Stops ${subject} for good: nothing it has not done yet will be done.`,
    placeholder: 'e.g. the customer renewed after all',
  },
};

const DEFAULT_SUBJECT: Record<ReasonKind, string> = {
  reject: 'this request',
  override: 'this step',
  rollback: 'every completed step',
  cancel: 'this job',
};

function reasonInput(placeholder: string): InputBlock {
  return {
    type: 'input',
    block_id: DIALOG_BLOCKS.reason.blockId,
    label: plain('Reason (kept in the audit trail)'),
    element: {
      type: 'plain_text_input',
      action_id: DIALOG_BLOCKS.reason.actionId,
      multiline: true,
      min_length: 3,
      max_length: REASON_MAX,
      placeholder: plain(placeholder, 150),
    },
  };
}

export function reasonModal(kind: ReasonKind, ref: ActionRef, stepLabel?: string): ModalView {
  const copy = REASON_COPY[kind];
  const subject = stepLabel ? `step *${literal(stepLabel)}*` : DEFAULT_SUBJECT[kind];
  return modalView({
    callback_id: CALLBACKS[kind],
    private_metadata: encodeAction(ref),
    title: plain(copy.title, LIMITS.modalTitle),
    submit: plain(copy.submit, LIMITS.modalButton),
    close: plain('Cancel', LIMITS.modalButton),
    blocks: [section(copy.intro(subject)), reasonInput(copy.placeholder)],
  });
}

/** The trimmed reason, or null when it is missing or blank. */
export function readReason(values: ViewStateValues): string | null {
  return stateText(values, DIALOG_BLOCKS.reason) ?? null;
}

export function inputModal(ref: ActionRef, step: StepView): ModalView {
  const wanted = outsideText(step.waitingFor ?? "the customer's identity provider details", 500);
  return modalView({
    callback_id: CALLBACKS.input,
    private_metadata: encodeAction(ref),
    title: plain('Provide input', LIMITS.modalTitle),
    submit: plain('Send', LIMITS.modalButton),
    close: plain('Cancel', LIMITS.modalButton),
    blocks: [
      section(`Step *${literal(step.label)}* is waiting for ${wanted}. Give the metadata URL, or paste the metadata XML / OIDC details.`),
      {
        type: 'input',
        block_id: DIALOG_BLOCKS.metadataUrl.blockId,
        optional: true,
        label: plain('IdP metadata URL'),
        element: {
          type: 'url_text_input',
          action_id: DIALOG_BLOCKS.metadataUrl.actionId,
          placeholder: plain('https://idp.customer.example/saml/metadata'),
        },
      },
      {
        type: 'input',
        block_id: DIALOG_BLOCKS.details.blockId,
        optional: true,
        label: plain('Metadata XML or OIDC details'),
        hint: plain('Only if there is no metadata URL: issuer, client id, endpoints…'),
        element: { type: 'plain_text_input', action_id: DIALOG_BLOCKS.details.actionId, multiline: true, max_length: 3000 },
      },
    ],
  });
}

export type { StepInput } from '../../domain/step-input.ts';

export type StepInputResult = { ok: true; input: StepInput } | { ok: false; errors: Record<string, string> };

/** What the step gets as its input; errors are keyed by block id for `ack({ response_action: 'errors' })`. */
export function readStepInput(values: ViewStateValues): StepInputResult {
  const parsed = parseStepInput({ metadataUrl: stateText(values, DIALOG_BLOCKS.metadataUrl), details: stateText(values, DIALOG_BLOCKS.details) });
  return parsed.ok ? parsed : { ok: false, errors: { [DIALOG_BLOCKS.metadataUrl.blockId]: parsed.message } };
}

/** Errors for a blank reason (readReason gave null), keyed for `ack({ response_action: 'errors', errors })`. */
export function reasonMissing(): Record<string, string> {
  return { [DIALOG_BLOCKS.reason.blockId]: 'Give a reason: it is kept in the audit trail' };
}
