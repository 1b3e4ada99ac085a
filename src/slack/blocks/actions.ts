/**
 * What a button carries: which job, which step, and the job's sequence number
 * when the button was drawn. Retry and Override also carry when the failed
 * attempt started, naming the failure they were drawn for, so a click on an
 * earlier failure's button is refused instead of acting on a later one.
 */
import { z } from 'zod';

/** action_id of every button we draw; listeners register on these. */
export const ACTIONS = {
  approve: 'job_approve',
  reject: 'job_reject',
  retry: 'step_retry',
  override: 'step_override',
  rollback: 'job_rollback',
  provideInput: 'step_provide_input',
  shareStatus: 'job_share_status',
  cancel: 'job_cancel',
  /** On a deal a CRM sent that needs a person: opens the intake modal prefilled. */
  completeIntake: 'crm_complete_intake',
} as const;

export type ActionId = (typeof ACTIONS)[keyof typeof ACTIONS];

/** callback_id of every modal we open; listeners register view handlers on these. */
export const CALLBACKS = {
  intake: 'provision_intake',
  reject: 'reject_reason',
  override: 'override_reason',
  rollback: 'rollback_reason',
  input: 'step_input',
  cancel: 'cancel_reason',
} as const;

export type ActionRef = { jobId: string; stepId?: string; seq: number; attemptStartedAt?: number };

// Ids are short (slug + hash, step ids); the caps keep a value far below Slack's 2000.
const ID = z.string().min(1).max(200);

const ActionValueSchema = z.strictObject({
  j: ID,
  s: ID.optional(),
  q: z.int().nonnegative(),
  a: z.int().nonnegative().optional(),
});

/** `{"j":jobId,"s":stepId,"q":seq,"a":attemptStartedAt}`: compact, because button values and private_metadata are capped. */
export function encodeAction(ref: ActionRef): string {
  const value: z.input<typeof ActionValueSchema> = {
    j: ref.jobId,
    ...(ref.stepId !== undefined ? { s: ref.stepId } : {}),
    q: ref.seq,
    ...(ref.attemptStartedAt !== undefined ? { a: ref.attemptStartedAt } : {}),
  };
  return JSON.stringify(value);
}

/** null for anything we did not write: bad JSON, wrong types, extra keys. */
export function decodeAction(value: string): ActionRef | null {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    return null;
  }
  const parsed = ActionValueSchema.safeParse(json);
  if (!parsed.success) return null;
  const ref: ActionRef = { jobId: parsed.data.j, seq: parsed.data.q };
  if (parsed.data.s !== undefined) ref.stepId = parsed.data.s;
  if (parsed.data.a !== undefined) ref.attemptStartedAt = parsed.data.a;
  return ref;
}
