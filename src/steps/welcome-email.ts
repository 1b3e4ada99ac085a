/**
 * Emails the customer's first administrator an invitation to their new
 * workspace, over SMTP through nodemailer. Meant to run with criticality
 * "notification": a bounced invitation never blocks the tenant going live.
 *
 * Idempotency, honestly: SMTP has no idempotency key and no way to ask a
 * server "did you already take this message?". So:
 * - once outputs hold the messageId, a re-run sends nothing;
 * - if the process dies after the server accepted DATA but before the engine
 *   recorded success, the retry sends a second copy. The Message-ID is
 *   derived from the idempotency key (the same on every attempt), so
 *   receiving systems that de-duplicate by Message-ID drop the copy.
 */
import { z } from 'zod';
import { PermanentError, TransientError, errorMessage } from '../domain/errors.ts';
import { defineStep } from './step.ts';
import { invitationHtml, invitationSubject, invitationText } from './welcome-email/invitation.ts';

const httpsUrl = z.url({ protocol: /^https$/, error: 'Must be an https:// URL' });

const input = z.strictObject({
  to: z.email({ error: 'Enter the admin email address, e.g. jane@acme.com' }),
  companyName: z.string().trim().min(1, { error: 'Enter the company name' }),
  tenantUrl: httpsUrl,
  adminName: z.string().trim().min(1).optional(),
  signInUrl: httpsUrl.optional(),
});

/** The same on every attempt of this step of this job, so duplicates are recognisable downstream. */
export function invitationMessageId(idempotencyKey: string): string {
  return `<${idempotencyKey}@provisioner>`;
}

type SmtpFailure = {
  code?: string;
  /** The socket-level cause nodemailer wraps, e.g. ECONNREFUSED under ESOCKET. */
  originalCode?: string;
  responseCode?: number;
  permanent?: boolean;
  response?: string;
  command?: string;
};

/** Reads the fields nodemailer attaches to its errors, without trusting their types. */
function smtpFailure(err: unknown): SmtpFailure {
  const failure: SmtpFailure = {};
  if (typeof err !== 'object' || err === null) return failure;
  if ('code' in err && typeof err.code === 'string') failure.code = err.code;
  if ('originalCode' in err && typeof err.originalCode === 'string') failure.originalCode = err.originalCode;
  if ('responseCode' in err && typeof err.responseCode === 'number') failure.responseCode = err.responseCode;
  if ('permanent' in err && typeof err.permanent === 'boolean') failure.permanent = err.permanent;
  if ('response' in err && typeof err.response === 'string') failure.response = err.response.slice(0, 200);
  if ('command' in err && typeof err.command === 'string') failure.command = err.command;
  return failure;
}

/** Our own configuration is wrong: retrying cannot help, someone must fix the mail settings. */
const SETTINGS_PROBLEMS = new Set(['ECONFIG', 'ENOAUTH', 'EAUTH']);

function permanentRefusal(failure: SmtpFailure, to: string): PermanentError {
  const reply = failure.response ?? `SMTP ${failure.responseCode}`;
  if (failure.code === 'EAUTH') {
    return new PermanentError(`the mail server refused the bot's SMTP credentials (${reply}); fix the mail settings`);
  }
  if (failure.command === 'RCPT TO') {
    return new PermanentError(`the mail server refused the address ${to} (${reply}); check the admin email address in the intake`);
  }
  return new PermanentError(`the mail server refused the welcome email to ${to} (${reply})`);
}

/**
 * RFC 5321: a 5yz reply is final, a 4yz reply is "try again later". 503 (bad
 * sequence) is a session problem, so nodemailer marks it retryable, and we
 * follow its `permanent` verdict when it gives one. No reply at all
 * (refused, timed out, dropped, aborted) is worth retrying.
 */
function classifySendError(err: unknown, to: string): TransientError | PermanentError {
  const failure = smtpFailure(err);
  if (failure.responseCode !== undefined) {
    const permanent = failure.permanent ?? (failure.responseCode >= 500 && failure.responseCode !== 503);
    if (permanent) return permanentRefusal(failure, to);
    return new TransientError(`mail server answered ${failure.response ?? failure.responseCode}; will retry`);
  }
  if (failure.code !== undefined && SETTINGS_PROBLEMS.has(failure.code)) {
    return new PermanentError(`the mail settings are wrong: ${errorMessage(err)}`);
  }
  const cause = failure.originalCode ?? failure.code ?? 'no reply';
  return new TransientError(`mail server unreachable (${cause}): ${errorMessage(err)}`);
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}

export const welcomeEmailStep = defineStep({
  type: 'welcome_email',
  description: "Emails the customer's first admin an invitation with the tenant URL (SMTP; never sent twice once recorded).",
  input,
  uses: ['smtp'],
  async run(ctx) {
    if (typeof ctx.outputs['messageId'] === 'string') return { status: 'done', outputs: ctx.outputs };
    const messageId = invitationMessageId(ctx.idempotencyKey);
    const transport = await ctx.services.mail.transport();
    let response: unknown;
    try {
      const info = await transport.sendMail({
        from: ctx.services.mail.from,
        to: ctx.input.to,
        subject: invitationSubject(ctx.input),
        text: invitationText(ctx.input),
        html: invitationHtml(ctx.input),
        messageId,
        signal: ctx.signal,
      });
      response = info.response;
    } catch (err) {
      throw classifySendError(err, ctx.input.to);
    }
    const outputs: Record<string, string> = { messageId, recipientDomain: domainOf(ctx.input.to) };
    if (typeof response === 'string') outputs['smtpResponse'] = response.slice(0, 200);
    return { status: 'done', outputs };
  },
  async check(ctx) {
    // Nothing to look up: SMTP keeps no record we can query. The recorded acceptance is the evidence.
    if (typeof ctx.outputs['messageId'] === 'string') return { status: 'done' };
    return { status: 'missing', reason: 'no record that the mail server accepted the welcome email' };
  },
  async rollback() {
    // Nothing to undo: an email cannot be unsent. The tenant it points at is removed by the other steps.
  },
  plan(cfg, context) {
    return { summary: `Email ${cfg.to} an invitation to ${cfg.tenantUrl}, from ${context.placement.mailFrom}`, resources: [] };
  },
  describe(cfg, outputs) {
    if (typeof outputs['messageId'] !== 'string') return `Welcome email to ${cfg.to} not sent yet`;
    return `Welcome email for ${new URL(cfg.tenantUrl).host} sent to ${cfg.to}`;
  },
});
