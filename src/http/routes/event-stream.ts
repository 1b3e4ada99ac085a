/**
 * Server-sent events: the response stays open and each job event the feed
 * hears (and the filter keeps) goes out as one SSE message. A comment every
 * 15 s keeps proxies from closing a quiet stream; closing the page unsubscribes.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { JobEvent } from '../../domain/events.ts';
import type { EventFeed } from '../../engine/feed.ts';

export type SseMessage = { event: string; data: string };

const KEEP_ALIVE_MS = 15_000;

export function writeSse(reply: FastifyReply, message: SseMessage): void {
  const data = message.data
    .split('\n')
    .map((line) => `data: ${line}`)
    .join('\n');
  reply.raw.write(`event: ${message.event}\n${data}\n\n`);
}

export function openEventStream(
  request: FastifyRequest,
  reply: FastifyReply,
  feed: EventFeed,
  keep: (event: JobEvent) => boolean,
  render: (event: JobEvent) => SseMessage | undefined | Promise<SseMessage | undefined>,
  onError: (err: unknown) => void = () => {},
): void {
  reply.hijack();
  reply.raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  reply.raw.write(': connected\n\n');
  // Messages go out in the order their events came, even when rendering one takes a moment.
  let queue = Promise.resolve();
  const unsubscribe = feed.subscribe((event) => {
    if (!keep(event)) return;
    queue = queue
      .then(async () => {
        const message = await render(event);
        if (message && !reply.raw.destroyed) writeSse(reply, message);
      })
      .catch(onError);
  });
  const alive = setInterval(() => reply.raw.write(': still here\n\n'), KEEP_ALIVE_MS);
  request.raw.on('close', () => {
    clearInterval(alive);
    unsubscribe();
  });
}
