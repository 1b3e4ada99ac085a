/**
 * Routes whose callers sign the bytes they send (Slack, Stripe, Bunny) or whose
 * body is not JSON (Salesforce's SOAP) read every body as raw bytes, up to a
 * limit: a parsed-and-restringified body would no longer match its signature.
 */
import type { FastifyInstance } from 'fastify';

export function readBodiesRaw(server: FastifyInstance, bodyLimit: number): void {
  server.removeAllContentTypeParsers();
  server.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => done(null, body));
}
