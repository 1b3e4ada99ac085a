/**
 * The welcome email step against a real SMTP server on loopback (the local
 * sink): nodemailer speaks real SMTP to it, and the sink keeps what it took.
 */
import { randomUUID } from 'node:crypto';
import nodemailer from 'nodemailer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PermanentError, TransientError } from '../../src/domain/errors.ts';
import { startSmtpSink, type SmtpSink } from '../../src/emulators/smtp-sink.ts';
import type { StepContext } from '../../src/steps/step.ts';
import { welcomeEmailStep } from '../../src/steps/welcome-email.ts';
import { sampleTenant, stepContext } from '../support/step-context.ts';

const FROM = 'Onboarding <onboarding@example.com>';

describe('the welcome email invites the customer admin to their new workspace', () => {
  let sink: SmtpSink;
  let jobId: string;

  beforeEach(async () => {
    sink = await startSmtpSink();
    jobId = `acme-${randomUUID().slice(0, 8)}`;
  });
  afterEach(() => sink.close());

  function ctx(outputs: Record<string, unknown> = {}): StepContext<unknown> {
    const transport = nodemailer.createTransport(sink.url);
    return stepContext({
      jobId,
      stepId: 'welcome_email',
      tenant: sampleTenant(),
      outputs,
      services: { mail: { transport: async () => transport, from: FROM } },
    });
  }

  const invitation = {
    to: 'jane@acme.com',
    companyName: 'Acme Corp',
    tenantUrl: 'https://acme.tenants.example.com',
    adminName: 'Jane',
  };

  it('delivers an invitation with the company name and tenant URL under a Message-ID derived from the job', async () => {
    const step = welcomeEmailStep.bind(invitation);
    const result = await step.run(ctx());

    const expectedId = `<${jobId}.welcome_email@provisioner>`;
    expect(result).toMatchObject({ status: 'done', outputs: { messageId: expectedId, recipientDomain: 'acme.com' } });
    const [mail] = sink.messages();
    expect(sink.messages()).toHaveLength(1);
    expect(mail?.to).toEqual(['jane@acme.com']);
    expect(mail?.from).toBe('onboarding@example.com');
    expect(mail?.headers['from']).toBe(FROM);
    expect(mail?.messageId).toBe(expectedId);
    expect(mail?.subject).toBe('Your Acme Corp workspace is ready');
    expect(mail?.text).toContain('Hi Jane,');
    expect(mail?.text).toContain('Your Acme Corp workspace is ready at https://acme.tenants.example.com');
    expect(mail?.html).toContain('<a href="https://acme.tenants.example.com">');

    const outputs = result.outputs ?? {};
    expect(await step.check(ctx(outputs))).toEqual({ status: 'done' });
    expect(step.describe(outputs)).toBe('Welcome email for acme.tenants.example.com sent to jane@acme.com');
  });

  it('a retry whose outputs already hold the Message-ID sends nothing more', async () => {
    const step = welcomeEmailStep.bind(invitation);
    const first = await step.run(ctx());
    const again = await step.run(ctx(first.outputs));
    expect(again).toEqual(first);
    expect(sink.messages()).toHaveLength(1);
  });

  it('a retry after a crash before recording resends with the same Message-ID, so receivers can drop the copy', async () => {
    const step = welcomeEmailStep.bind(invitation);
    await step.run(ctx());
    await step.run(ctx());
    const ids = sink.messages().map((m) => m.messageId);
    expect(ids).toEqual([`<${jobId}.welcome_email@provisioner>`, `<${jobId}.welcome_email@provisioner>`]);
  });

  it('escapes a company name like <Acme & Sons> in the HTML and keeps it readable in the text', async () => {
    const step = welcomeEmailStep.bind({ ...invitation, companyName: '<Acme & Sons>', adminName: 'Jo "JJ" O\'Neil' });
    await step.run(ctx());
    const [mail] = sink.messages();
    expect(mail?.html).toContain('Your &lt;Acme &amp; Sons&gt; workspace is ready');
    expect(mail?.html).toContain('Hi Jo &quot;JJ&quot; O&#39;Neil,');
    expect(mail?.html).not.toContain('<Acme');
    expect(mail?.text).toContain('Your <Acme & Sons> workspace is ready');
    expect(mail?.subject).toBe('Your <Acme & Sons> workspace is ready');
  });

  it('points the sign-in link at signInUrl when one is given', async () => {
    const step = welcomeEmailStep.bind({ ...invitation, signInUrl: 'https://login.example.com/acme' });
    await step.run(ctx());
    const [mail] = sink.messages();
    expect(mail?.text).toContain('Sign in here to get started: https://login.example.com/acme');
    expect(mail?.html).toContain('<a href="https://login.example.com/acme">Sign in to get started</a>');
  });

  it('a 421 from the mail server is transient, and the next attempt goes through', async () => {
    const step = welcomeEmailStep.bind(invitation);
    sink.failNext(1, 421);
    await expect(step.run(ctx())).rejects.toBeInstanceOf(TransientError);
    expect(sink.messages()).toHaveLength(0);
    await expect(step.run(ctx())).resolves.toMatchObject({ status: 'done' });
    expect(sink.messages()).toHaveLength(1);
  });

  it('a 451 after DATA is transient too', async () => {
    sink.failNext(1, 451, 'data');
    await expect(welcomeEmailStep.bind(invitation).run(ctx())).rejects.toBeInstanceOf(TransientError);
  });

  it('a mail server that cannot be reached is transient', async () => {
    const step = welcomeEmailStep.bind(invitation);
    // The default test services point the transport at a closed port.
    const unreachable = stepContext({ jobId, stepId: 'welcome_email' });
    const error = await step.run(unreachable).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(TransientError);
    expect(String(error)).toContain('ECONNREFUSED');
  });

  it('a 550 for the address is permanent and says which address to fix', async () => {
    const step = welcomeEmailStep.bind(invitation);
    sink.failNext(1, 550);
    const error = await step.run(ctx()).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(PermanentError);
    expect(String(error)).toContain('the mail server refused the address jane@acme.com');
    expect(String(error)).toContain('550');
    expect(String(error)).toContain('check the admin email address in the intake');
  });

  it('a 554 for the message is permanent', async () => {
    sink.failNext(1, 554, 'data');
    const error = await welcomeEmailStep
      .bind(invitation)
      .run(ctx())
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(PermanentError);
    expect(String(error)).toContain('refused the welcome email to jane@acme.com (554 Transaction failed)');
  });

  it('check says missing when no acceptance was recorded, and rollback has nothing to undo', async () => {
    const step = welcomeEmailStep.bind(invitation);
    expect(await step.check(ctx())).toMatchObject({ status: 'missing' });
    await step.rollback(ctx({ messageId: '<x@provisioner>' }));
    await step.rollback(ctx());
    expect(sink.messages()).toHaveLength(0);
  });

  it('refuses a plain-http tenant URL or a malformed address at validation', () => {
    expect(() => welcomeEmailStep.bind({ ...invitation, tenantUrl: 'http://acme.tenants.example.com' })).toThrow(/https/);
    expect(() => welcomeEmailStep.bind({ ...invitation, to: 'jane-at-acme' })).toThrow(/email/);
  });
});
