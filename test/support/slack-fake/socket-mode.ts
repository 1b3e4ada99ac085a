/**
 * Slack's Socket Mode on the Slack fake's own loopback port, for the real
 * @slack/socket-mode client inside Bolt:
 *
 * - `apps.connections.open` (app-level token) answers a single-use
 *   `ws://…/link/?ticket=…&app_id=…` URL; a used or unknown ticket is refused.
 * - On connect the fake says `hello` (the client's "connected"; without it
 *   `app.start()` never resolves) with `num_connections`, `debug_info` and
 *   `connection_info`, as Slack does.
 * - It sends envelopes `{ envelope_id, type, payload, accepts_response_payload }`
 *   (`slash_commands`, `interactive`, `events_api`) and resolves with the app's
 *   ack `{ envelope_id, payload? }`; Slack gives up on an envelope after 3 s.
 * - `disconnect(reason)` sends `{ type: 'disconnect', reason, debug_info }`, as
 *   Slack does before it recycles a connection (`refresh_requested`): the
 *   client closes the socket and calls apps.connections.open again.
 * - Ping/pong: the client pings every few seconds and hangs up without a pong;
 *   `ws` answers pings itself, as Slack's servers do.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { isRecord } from './block-kit.ts';

export type EnvelopeType = 'slash_commands' | 'interactive' | 'events_api';

/** What the app sent back for one envelope. */
export type SocketAck = { envelope_id: string; payload?: unknown; receivedAfterMs: number };

type Waiter = { resolve: (ack: SocketAck) => void; sentAt: number };

/** Slack stops waiting for an ack after 3 s (and retries events_api envelopes). */
const ACK_TIMEOUT_MS = 3_000;

export class SocketModeFake {
  private readonly origin: string;
  private readonly appId: string;
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly tickets = new Set<string>();
  private readonly sockets: WebSocket[] = [];
  private readonly waiting = new Map<string, Waiter>();
  /** Every ack the app sent, in arrival order. */
  readonly acks: SocketAck[] = [];
  /** Connections the app opened and was greeted on, oldest first. */
  readonly greeted: { url: string; at: number }[] = [];

  constructor(origin: string, appId: string) {
    this.origin = origin.replace(/^http/, 'ws');
    this.appId = appId;
  }

  /** Answer to apps.connections.open: a fresh URL that works once. */
  openUrl(): string {
    const ticket = randomBytes(16).toString('hex');
    this.tickets.add(ticket);
    return `${this.origin}/link/?ticket=${ticket}&app_id=${this.appId}`;
  }

  /** The HTTP server's `upgrade` event: only a URL this fake handed out becomes a connection. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', this.origin);
    const ticket = url.searchParams.get('ticket') ?? '';
    if (url.pathname !== '/link/' || !this.tickets.delete(ticket)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.greet(ws, url.toString()));
  }

  private greet(ws: WebSocket, url: string): void {
    this.sockets.push(ws);
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    const open = this.sockets.filter((s) => s.readyState === WebSocket.OPEN).length;
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: open,
        debug_info: { host: `applink-fake-${this.sockets.length}`, build_number: 1, approximate_connection_time: 18_060 },
        connection_info: { app_id: this.appId },
      }),
    );
    this.greeted.push({ url, at: Date.now() });
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (isBinary) return;
    let message: unknown;
    try {
      message = JSON.parse(data.toString());
    } catch {
      return; // Slack ignores what it cannot read
    }
    if (!isRecord(message) || typeof message['envelope_id'] !== 'string') return;
    const waiter = this.waiting.get(message['envelope_id']);
    const ack: SocketAck = {
      envelope_id: message['envelope_id'],
      ...(message['payload'] !== undefined ? { payload: message['payload'] } : {}),
      receivedAfterMs: waiter ? Date.now() - waiter.sentAt : -1,
    };
    this.acks.push(ack);
    this.waiting.delete(ack.envelope_id);
    waiter?.resolve(ack);
  }

  /** The connection Slack would deliver on now: the newest open one. */
  private current(): WebSocket {
    const open = this.sockets.filter((s) => s.readyState === WebSocket.OPEN);
    const ws = open.at(-1);
    if (!ws) throw new Error('socket mode fake: the app has no open connection');
    return ws;
  }

  /** Sends one envelope and resolves with the app's ack; rejects if none comes within Slack's 3 s. */
  send(type: EnvelopeType, payload: object): Promise<SocketAck> {
    const envelopeId = randomUUID();
    const envelope: Record<string, unknown> = { envelope_id: envelopeId, type, payload, accepts_response_payload: type !== 'events_api' };
    if (type === 'events_api') Object.assign(envelope, { retry_attempt: 0, retry_reason: '' });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(envelopeId);
        reject(new Error(`socket mode fake: no ack for the ${type} envelope within ${ACK_TIMEOUT_MS} ms`));
      }, ACK_TIMEOUT_MS);
      this.waiting.set(envelopeId, {
        sentAt: Date.now(),
        resolve: (ack) => {
          clearTimeout(timer);
          resolve(ack);
        },
      });
      this.current().send(JSON.stringify(envelope));
    });
  }

  /** Asks the app to reconnect, as Slack does before it recycles a connection. */
  disconnect(reason: 'refresh_requested' | 'warning' | 'link_disabled' = 'refresh_requested'): void {
    this.current().send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: `applink-fake-${this.sockets.length}` } }));
  }

  /** Resolves once the app has been greeted on `count` connections in all and the newest is open. */
  async waitForConnections(count: number, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(this.greeted.length >= count && this.sockets.at(-1)?.readyState === WebSocket.OPEN)) {
      if (Date.now() > deadline) throw new Error(`socket mode fake: ${this.greeted.length} connection(s), waited for ${count}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Connections still open (the app should hold one). */
  openConnections(): number {
    return this.sockets.filter((s) => s.readyState === WebSocket.OPEN).length;
  }

  close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}
