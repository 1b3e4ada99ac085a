/**
 * The confirmation modal of a lifecycle verb (`/provision suspend acme`…):
 * what will happen to which tenant, a reason for the trail, and the plan to
 * move to for an upgrade or downgrade. private_metadata carries the verb, the
 * slug and the channel the command was typed in; the modal's own id makes the
 * request key, so submitting the same modal twice starts one job.
 */
import type { InputBlock, KnownBlock, ModalView, PlainTextOption } from '@slack/types';
import { z } from 'zod';
import type { PlansManifest } from '../../domain/plan.ts';
import { plain, section } from './elements.ts';
import { modalView } from './limits.ts';
import { stateText, stateValue, type ViewStateValues } from './state.ts';
import { code, LIMITS, truncate } from './text.ts';

export const LIFECYCLE_VERBS = ['suspend', 'reactivate', 'upgrade', 'downgrade', 'decommission'] as const;
export type LifecycleVerb = (typeof LIFECYCLE_VERBS)[number];

export function isLifecycleVerb(word: string): word is LifecycleVerb {
  return (LIFECYCLE_VERBS as readonly string[]).includes(word);
}

export const LIFECYCLE_CALLBACK = 'lifecycle_confirm';

export const LIFECYCLE_BLOCKS = {
  reason: { blockId: 'lifecycle_reason', actionId: 'reason_input' },
  plan: { blockId: 'lifecycle_plan', actionId: 'plan_select' },
} as const;

const COPY: Readonly<Record<LifecycleVerb, { title: string; submit: string; intro: (slug: string) => string; placeholder: string }>> = {
  suspend: {
    title: 'Suspend tenant',
    submit: 'Suspend',
    intro: (slug) => `Suspending ${slug} blocks sign-in for its people; its data is kept. An approver must agree first.`,
    placeholder: 'e.g. customer asked to pause the service',
  },
  reactivate: {
    title: 'Reactivate tenant',
    submit: 'Reactivate',
    intro: (slug) => `Reactivating ${slug} lets its people sign in again.`,
    placeholder: 'e.g. invoice paid',
  },
  upgrade: {
    title: 'Upgrade tenant',
    submit: 'Upgrade',
    intro: (slug) => `Moves ${slug} to a bigger plan: its features, limits and subscription follow, with proration.`,
    placeholder: 'e.g. signed the growth order form',
  },
  downgrade: {
    title: 'Downgrade tenant',
    submit: 'Downgrade',
    intro: (slug) => `Moves ${slug} to a smaller plan. Below its current usage, an approver must agree and sees the overage.`,
    placeholder: 'e.g. renewal on the starter plan',
  },
  decommission: {
    title: 'Decommission tenant',
    submit: 'Decommission',
    intro: (slug) =>
      `Decommissioning ${slug} exports its data, then removes everything provisioned for it after a grace period. An approver must agree first; it can be cancelled during the grace period.`,
    placeholder: 'e.g. contract ended on 31 December',
  },
};

const Metadata = z.object({ verb: z.enum(LIFECYCLE_VERBS), slug: z.string().min(1).max(80), channel: z.string().max(40) });
export type LifecycleMetadata = z.output<typeof Metadata>;

export function lifecycleModal(meta: LifecycleMetadata, plans: PlansManifest): ModalView {
  const copy = COPY[meta.verb];
  const blocks: KnownBlock[] = [section(copy.intro(code(meta.slug))), reasonInput(copy.placeholder)];
  if (meta.verb === 'upgrade' || meta.verb === 'downgrade') blocks.push(planInput(plans));
  return modalView({
    callback_id: LIFECYCLE_CALLBACK,
    private_metadata: truncate(JSON.stringify(meta), LIMITS.privateMetadata),
    title: plain(copy.title, LIMITS.modalTitle),
    submit: plain(copy.submit, LIMITS.modalButton),
    close: plain('Cancel', LIMITS.modalButton),
    blocks,
  });
}

function reasonInput(placeholder: string): InputBlock {
  return {
    type: 'input',
    block_id: LIFECYCLE_BLOCKS.reason.blockId,
    label: plain('Reason (kept in the audit trail)'),
    element: {
      type: 'plain_text_input',
      action_id: LIFECYCLE_BLOCKS.reason.actionId,
      multiline: true,
      min_length: 3,
      max_length: 500,
      placeholder: plain(placeholder, 150),
    },
  };
}

function planInput(plans: PlansManifest): InputBlock {
  const options: PlainTextOption[] = Object.entries(plans.plans).map(([id, plan]) => ({ text: plain(plan.displayName, 75), value: id }));
  return {
    type: 'input',
    block_id: LIFECYCLE_BLOCKS.plan.blockId,
    label: plain('New plan'),
    element: { type: 'static_select', action_id: LIFECYCLE_BLOCKS.plan.actionId, options, placeholder: plain('Choose a plan') },
  };
}

export type LifecycleSubmission =
  | { ok: true; meta: LifecycleMetadata; reason: string; plan: string | undefined }
  | { ok: false; errors: Record<string, string> };

/** What the person confirmed; field errors (by block id) when the reason or the plan is missing. */
export function readLifecycleSubmission(privateMetadata: string, values: ViewStateValues): LifecycleSubmission | undefined {
  const meta = parseMetadata(privateMetadata);
  if (!meta) return undefined;
  const reason = stateText(values, LIFECYCLE_BLOCKS.reason);
  const selected: unknown = stateValue(values, LIFECYCLE_BLOCKS.plan)?.selected_option?.value;
  const plan = typeof selected === 'string' ? selected : undefined;
  const errors: Record<string, string> = {};
  if (!reason || reason.length < 3) errors[LIFECYCLE_BLOCKS.reason.blockId] = 'Give a reason (it goes in the audit trail)';
  if ((meta.verb === 'upgrade' || meta.verb === 'downgrade') && !plan) errors[LIFECYCLE_BLOCKS.plan.blockId] = 'Choose the plan to move to';
  if (!reason || Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, meta, reason, plan };
}

function parseMetadata(text: string): LifecycleMetadata | undefined {
  try {
    const parsed = Metadata.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** "Asked to suspend acme: job acme-suspend-…": the private answer once the job is there (plain text). */
export function lifecycleAskedText(verb: LifecycleVerb, slug: string, jobId: string, outcome: 'created' | 'existing'): string {
  const asked = outcome === 'created' ? 'Asked' : 'Already asked';
  return `${asked} to ${verb} ${slug}: job ${jobId}. Its progress is posted in the onboarding channel.`;
}
