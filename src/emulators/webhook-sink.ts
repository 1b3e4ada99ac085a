/**
 * The local profile's stand-in for the systems the bot notifies by webhook
 * (the CS platform, a Slack incoming webhook): it accepts any POST, keeps
 * it, and answers like the real receivers do (200, Slack's "ok").
 */
import { createServer } from 'node:http';
import { text } from 'node:stream/consumers';
import { pause, type Latency } from './latency.ts';
import { listenOnLoopback } from './listen.ts';

export type Delivery = { path: string; headers: Record<string, string>; body: string; receivedAt: Date };

export type WebhookSink = {
  url: string;
  deliveries(): readonly Delivery[];
  /** The next `count` deliveries answer `status` (e.g. 503 to exercise retries). */
  failNext(count: number, status: number): void;
  close(): Promise<void>;
};

/** `latency`: each delivery waits this long before it is kept, and again before it is answered (default none). */
export async function startWebhookSink(opts: { port?: number; latency?: Latency } = {}): Promise<WebhookSink> {
  const deliveries: Delivery[] = [];
  let failures: { left: number; status: number } = { left: 0, status: 200 };
  const server = createServer((req, res) => {
    const receive = async (body: string) => {
      await pause(opts.latency);
      if (req.method !== 'POST') return void res.writeHead(405).end();
      if (failures.left > 0) {
        failures = { ...failures, left: failures.left - 1 };
        return void res.writeHead(failures.status, { 'content-type': 'text/plain' }).end('unavailable');
      }
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers[name] = value;
      deliveries.push({ path: req.url ?? '/', headers, body, receivedAt: new Date() });
      await pause(opts.latency);
      // A sender that died while the answer waited has no one left to answer.
      if (res.destroyed) return;
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    };
    // A sender that went away before sending all of its request gets no answer.
    text(req).then(receive, () => res.destroy());
  });
  const port = await listenOnLoopback(server, opts.port);
  return {
    url: `http://127.0.0.1:${port}`,
    deliveries: () => deliveries,
    failNext(count, status) {
      failures = { left: count, status };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
