/**
 * POST /slack/events: Slack's commands, button clicks, modal submissions and
 * events. The raw body is kept as sent (Slack signed those bytes); a request
 * without a valid signature and age is refused (401), a signed body of a shape
 * Slack never sends is refused (400), and everything else goes to Bolt's
 * receiver, which checks the signature again and acknowledges within Slack's
 * three seconds.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isValidSlackRequest } from '@slack/bolt';
import type { FastifyPluginAsync } from 'fastify';
import { readBodiesRaw } from '../raw-body.ts';
import { slackRequestProblem } from '../../slack/request-shape.ts';

/** Slack's own payloads stay far below this (a modal with a hundred blocks is tens of kilobytes). */
const BODY_LIMIT = 1024 * 1024;

export type SlackRouteDeps = {
  handle: (req: IncomingMessage, res: ServerResponse) => void;
  signingSecret: string;
  onRefused(reason: string): void;
};

export const slackRoutes: FastifyPluginAsync<SlackRouteDeps> = async (server, deps) => {
  readBodiesRaw(server, BODY_LIMIT);
  server.post('/slack/events', async (request, reply) => {
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const text = raw.toString('utf8');
    const signature = request.headers['x-slack-signature'];
    const timestamp = Number(request.headers['x-slack-request-timestamp']);
    const signed =
      typeof signature === 'string' &&
      Number.isFinite(timestamp) &&
      isValidSlackRequest({
        signingSecret: deps.signingSecret,
        body: text,
        headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp },
      });
    if (!signed) return reply.code(401).type('text/plain').send('Unauthorized');
    const problem = slackRequestProblem(text, request.headers['content-type']);
    if (problem) {
      deps.onRefused(problem);
      return reply.code(400).type('text/plain').send('Bad Request');
    }
    // Bolt reads a request whose body is already buffered from `rawBody`, as its own receivers do.
    Object.assign(request.raw, { rawBody: raw });
    reply.hijack();
    deps.handle(request.raw, reply.raw);
    return reply;
  });
};
