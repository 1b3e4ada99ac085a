// Readiness and reachability checks: is the server at this URL really
// answering (Redis PING, MongoDB ping, an HTTP answer), plus redactUrl so
// URLs with credentials never reach a log. Raw sockets for Redis keep this
// free of client libraries; MongoDB uses the project's own driver, loaded
// lazily so the other services don't pay for it.

import { connect as netConnect, isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/** Strips `user:pass@` from a URL for printing. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/?#]*@/i, '$1');
}

/** Raw RESP `PING` over TCP (or TLS for rediss://), with AUTH when the URL carries credentials. */
export function redisPing(url: string, timeoutMs = 2000): Promise<void> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return Promise.reject(new Error(`not a valid URL: ${redactUrl(url)}`));
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    return Promise.reject(new Error(`unsupported scheme ${u.protocol} (want redis:// or rediss://)`));
  }
  const host = u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = Number(u.port || 6379);
  const user = decodeURIComponent(u.username);
  const pass = decodeURIComponent(u.password);
  const resp = (...parts: string[]): string => `*${parts.length}\r\n${parts.map((p) => `$${Buffer.byteLength(p)}\r\n${p}\r\n`).join('')}`;
  let payload = '';
  let expected = 1;
  if (pass) {
    payload += user ? resp('AUTH', user, pass) : resp('AUTH', pass);
    expected = 2;
  }
  payload += 'PING\r\n';

  return new Promise((res, rej) => {
    const sock = u.protocol === 'rediss:' ? tlsConnect({ host, port, servername: isIP(host) ? undefined : host }) : netConnect({ host, port });
    let buf = '';
    let settled = false;
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) rej(err);
      else res();
    };
    const timer = setTimeout(() => finish(new Error(`no answer to PING within ${timeoutMs} ms`)), timeoutMs);
    sock.once(u.protocol === 'rediss:' ? 'secureConnect' : 'connect', () => sock.write(payload));
    sock.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      const lines = buf.split('\r\n');
      if (lines.length - 1 < expected) return;
      for (const line of lines.slice(0, expected)) {
        if (line.startsWith('-')) return finish(new Error(`server replied ${line.slice(1)}`));
      }
      const last = lines[expected - 1] ?? '';
      if (last === '+PONG') finish();
      else finish(new Error(`unexpected reply to PING: ${JSON.stringify(last.slice(0, 80))}`));
    });
    sock.once('error', (err) => finish(err));
    sock.once('close', () => finish(new Error('connection closed before PONG')));
  });
}

/** MongoDB `ping` through the real driver (also exercises the `hello` handshake). */
export async function mongoPing(uri: string, timeoutMs = 2000): Promise<void> {
  const { MongoClient } = await import('mongodb');
  const client = new MongoClient(uri, {
    serverSelectionTimeoutMS: timeoutMs,
    connectTimeoutMS: timeoutMs,
    socketTimeoutMS: timeoutMs,
    maxPoolSize: 1,
  });
  try {
    await client.db('admin').command({ ping: 1 });
  } finally {
    await client.close(true).catch(() => undefined);
  }
}

/** True when something accepts TCP connections on host:port (cheap check before a protocol ping). */
export function tcpConnect(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((res) => {
    const sock = netConnect({ host, port });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      sock.destroy();
      res(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** True when the URL answers HTTP 200 (the moto readiness page). */
export async function httpOk(url: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await r.arrayBuffer().catch(() => undefined);
    return r.status === 200;
  } catch {
    return false;
  }
}

/** Resolves when the URL answers at all (any status): enough to know an external emulator is up. */
export async function httpAnswers(url: string, timeoutMs = 5000): Promise<void> {
  const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  await r.arrayBuffer().catch(() => undefined);
}
