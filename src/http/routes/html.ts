/** An HTML page as the control room answers it: never cached, since every page shows live state or a person's session. */
import type { FastifyReply } from 'fastify';

export function sendPage(reply: FastifyReply, status: number, text: string): FastifyReply {
  return reply.code(status).type('text/html').header('cache-control', 'no-store').send(text);
}
