/**
 * POST /webhooks/bunny: Bunny's platform (tenant provisioning) webhooks. The
 * x-bunny-signature header is checked on the raw body, then on its
 * re-serialised form (see bunny-signature.ts for why); a wrong signature is
 * 401 and changes nothing. 200 only once the event is durably recorded.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Received } from '../../../app/billing.ts';
import type { EntitlementsEvent } from '../../../domain/entitlements.ts';
import { sendProblem } from '../api/problems.ts';
import { entitlementsOfBunnyPayload, type BunnyMapping } from './bunny-payload.ts';
import { BUNNY_SIGNATURE_HEADER, verifyBunnySignature } from './bunny-signature.ts';

export type BunnyWebhookDeps = {
  /** Undefined: not configured (production without BUNNY_WEBHOOK_SIGNING_TOKEN); every call is 503. */
  signingToken: string | undefined;
  mapping: BunnyMapping;
  receive(event: EntitlementsEvent): Promise<Received>;
  onIgnored(reason: string): void;
  now?: () => number;
};

export const bunnyWebhookRoute: FastifyPluginAsync<BunnyWebhookDeps> = async (hooks, deps) => {
  hooks.post('/webhooks/bunny', async (request, reply) => {
    if (deps.signingToken === undefined) {
      return sendProblem(reply, {
        status: 503,
        title: 'Service Unavailable',
        detail: 'Bunny webhooks are not configured here (BUNNY_WEBHOOK_SIGNING_TOKEN).',
      });
    }
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const header = request.headers[BUNNY_SIGNATURE_HEADER];
    if (verifyBunnySignature(raw, typeof header === 'string' ? header : undefined, deps.signingToken) === undefined) {
      return sendProblem(reply, {
        status: 401,
        title: 'Unauthorized',
        detail: 'The x-bunny-signature header does not match this body and signing token.',
      });
    }
    let payload: unknown;
    try {
      payload = JSON.parse(raw.toString('utf8'));
    } catch {
      return sendProblem(reply, { status: 400, title: 'Bad Request', detail: 'The signed body is not JSON.' });
    }
    const mapped = entitlementsOfBunnyPayload(payload, raw, deps.mapping, (deps.now ?? Date.now)());
    if (mapped.kind === 'ignored') {
      deps.onIgnored(mapped.reason);
      return reply.code(200).send({ outcome: 'ignored', reason: mapped.reason });
    }
    if (mapped.kind === 'invalid') {
      const errors = mapped.problems.map((problem) => ({ field: problem.split(':')[0] ?? '', detail: problem }));
      return sendProblem(reply, {
        status: 422,
        title: 'Unprocessable Content',
        detail: `Not a payload the provisioner can read: ${errors.map((e) => e.field).join(', ')}.`,
        errors,
      });
    }
    const received = await deps.receive(mapped.event);
    return reply.code(200).send({ outcome: received.outcome, unmapped: mapped.unmapped, version: mapped.versionFrom });
  });
};
