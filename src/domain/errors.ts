/**
 * Errors by name. A step throws one of these (or anything else, which the
 * engine treats as transient); the engine decides once, in one place, what
 * each kind means for the job: retry, fail, or park the step.
 */

export type ErrorKind = 'transient' | 'permanent' | 'needs-input' | 'needs-approval';

/** Worth retrying with backoff: a timeout, a 429, a 5xx, a dropped connection. */
export class TransientError extends Error {
  readonly kind = 'transient';
  override readonly name: string = 'TransientError';
}

/** Retrying cannot help: bad credentials, a 4xx validation error, a rejected value. */
export class PermanentError extends Error {
  readonly kind = 'permanent';
  override readonly name: string = 'PermanentError';
}

/** The step cannot go on until someone outside supplies something (e.g. the customer's IdP metadata). */
export class NeedsInputError extends Error {
  readonly kind = 'needs-input';
  override readonly name: string = 'NeedsInputError';
  readonly prompt: string;
  constructor(prompt: string) {
    super(`waiting for input: ${prompt}`);
    this.prompt = prompt;
  }
}

/** The step cannot go on until an authorised approver says yes. */
export class NeedsApprovalError extends Error {
  readonly kind = 'needs-approval';
  override readonly name: string = 'NeedsApprovalError';
  readonly reasons: readonly string[];
  constructor(reasons: readonly string[]) {
    super(`waiting for approval: ${reasons.join('; ')}`);
    this.reasons = reasons;
  }
}

/** A step call ran past its timeout. Transient: the next attempt may be quicker. */
export class StepTimeoutError extends TransientError {
  override readonly name: string = 'StepTimeoutError';
}

/** The store (MongoDB) could not be reached or did not answer in time. Transient: the caller tries again later. */
export class StoreUnavailableError extends TransientError {
  override readonly name: string = 'StoreUnavailableError';
}

export type ClassifiedError =
  | { kind: 'transient'; message: string }
  | { kind: 'permanent'; message: string }
  | { kind: 'needs-input'; message: string; prompt: string }
  | { kind: 'needs-approval'; message: string; reasons: readonly string[] };

/**
 * The one place that decides what an error means. Unknown errors count as
 * transient: integrations fail mostly for passing reasons, and the retry
 * policy bounds the cost of being wrong.
 */
export function classifyError(err: unknown): ClassifiedError {
  const message = errorMessage(err);
  if (err instanceof NeedsInputError) return { kind: 'needs-input', message, prompt: err.prompt };
  if (err instanceof NeedsApprovalError) return { kind: 'needs-approval', message, reasons: err.reasons };
  if (err instanceof PermanentError) return { kind: 'permanent', message };
  return { kind: 'transient', message };
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** A request an operator made that the job's state does not allow (stale button, double click). */
export class ActionRefusedError extends Error {
  override readonly name: string = 'ActionRefusedError';
}

/** The person may not do this (the policy said no): a door answers 403, not "try again". */
export class NotAllowedError extends ActionRefusedError {
  override readonly name: string = 'NotAllowedError';
}

/** Input a person typed that does not validate; `problems` point at the fields. */
export class InvalidInputError extends Error {
  override readonly name: string = 'InvalidInputError';
  readonly problems: readonly { field: string; message: string }[];
  constructor(problems: readonly { field: string; message: string }[]) {
    super(problems.map((p) => `${p.field}: ${p.message}`).join('\n'));
    this.problems = problems;
  }
}

/**
 * A CRM opportunity another deal already holds: invalid input on
 * crmOpportunityId (every door says so), with the business fields that
 * differ and the job holding it, so the API can answer 409 naming them.
 */
export class OpportunityTakenError extends InvalidInputError {
  override readonly name: string = 'OpportunityTakenError';
  readonly differences: readonly string[];
  readonly holderJobId: string;
  constructor(message: string, differences: readonly string[], holderJobId: string) {
    super([{ field: 'crmOpportunityId', message }]);
    this.differences = differences;
    this.holderJobId = holderJobId;
  }
}

/** A tenant nobody asked for: a door answers 404. */
export class UnknownTenantError extends ActionRefusedError {
  override readonly name: string = 'UnknownTenantError';
  readonly slug: string;
  constructor(slug: string) {
    super(`there is no tenant "${slug}"`);
    this.slug = slug;
  }
}

/** A change of tenant status the state machine does not allow (suspending a tenant that is not live…): refused, with the reason. */
export class TenantTransitionRefusedError extends ActionRefusedError {
  override readonly name: string = 'TenantTransitionRefusedError';
  readonly status: string;
  readonly event: string;
  constructor(reason: string, status: string, event: string) {
    super(reason);
    this.status = status;
    this.event = event;
  }
}

/** Another lifecycle job is already changing this tenant: one at a time, so two changes never interleave. */
export class TenantBusyError extends ActionRefusedError {
  override readonly name: string = 'TenantBusyError';
  readonly jobId: string;
  constructor(message: string, jobId: string) {
    super(message);
    this.jobId = jobId;
  }
}
