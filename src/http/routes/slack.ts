/**
 * POST /slack/events: Slack's commands, button clicks, modal submissions and
 * events, handed untouched to Bolt's receiver, which verifies the signature
 * and age on the raw body and acknowledges within Slack's three seconds.
 * Body parsing is switched off here so the bytes Slack signed reach Bolt as sent.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyPluginAsync } from 'fastify';

export const slackRoutes: FastifyPluginAsync<{ handle: (req: IncomingMessage, res: ServerResponse) => void }> = async (server, { handle }) => {
  server.removeAllContentTypeParsers();
  server.addContentTypeParser('*', (_request, _payload, done) => done(null));
  server.post('/slack/events', (request, reply) => {
    reply.hijack();
    handle(request.raw, reply.raw);
  });
};
