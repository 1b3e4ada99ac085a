/**
 * Slack calls are counted by API method. Bolt's respond() posts to a
 * response_url through the same fetch: its path holds a secret, so it must
 * never become a metric label (nor one label per URL).
 */
import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { meteredFetch } from '../../src/adapters/slack/metered-fetch.ts';

describe('counting Slack calls', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
  });

  it('labels Web API calls by method with their status, and every response_url alike', async () => {
    const server = createServer((req, res) => res.writeHead(req.url?.includes('chat.update') ? 429 : 200).end('{"ok":true}'));
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    close = () => new Promise((done) => server.close(() => done()));
    const address = server.address();
    const base = `http://127.0.0.1:${address !== null && typeof address === 'object' ? address.port : 0}`;
    const seen: [string, number | 'error'][] = [];
    const fetch = meteredFetch(globalThis.fetch, (method, status) => seen.push([method, status]));

    await fetch(`${base}/api/chat.postMessage`, { method: 'POST' });
    await fetch(new URL(`${base}/api/chat.update`), { method: 'POST' });
    await fetch(`${base}/actions/T0FAKE/123456/Xy9secretPart`, { method: 'POST' });
    await expect(fetch('http://127.0.0.1:1/api/auth.test', { method: 'POST' })).rejects.toThrow();

    expect(seen).toEqual([
      ['chat.postMessage', 200],
      ['chat.update', 429],
      ['response_url', 200],
      ['auth.test', 'error'],
    ]);
  });
});
