/**
 * A loopback fake of the Slack Web API that speaks Slack's real HTTP protocol,
 * so the real `@slack/web-api` WebClient (and Bolt's client) run end to end:
 * point them at `fake.url` with `slackApiUrl`.
 *
 * What it mirrors from Slack (docs.slack.dev/reference/methods/*, platform-notes §2):
 * - `POST /api/<method>`, form-urlencoded (JSON-valued fields such as `blocks`/`view`
 *   arrive as JSON strings and are parsed), `application/json`, or multipart.
 * - Token from `Authorization: Bearer …` (or a `token` form field). Missing → `not_authed`,
 *   wrong → `invalid_auth`. Errors are HTTP 200 `{ ok: false, error }`, like Slack.
 * - Rate limiting is HTTP 429 + `Retry-After` (seconds) + `{ ok: false, error: 'ratelimited' }`.
 * - Block Kit limits on every method that carries blocks (messages, ephemerals,
 *   response_url replies, modals): see ./slack-fake/block-kit.ts. Messages answer
 *   `invalid_blocks`, modals `invalid_arguments`, with Slack's
 *   `[ERROR] … [json-pointer:…]` messages in `response_metadata.messages`.
 * - trigger_ids are single-use (`exchanged_trigger_id`) and expire after 3 s
 *   (`expired_trigger_id`); unknown ones are `invalid_trigger_id`. Mint them with `issueTrigger()`.
 *
 * It also serves `response_url`s (`responseUrl()`), so Bolt's `respond()` can be exercised,
 * and Socket Mode (`socket`: apps.connections.open, the WebSocket, envelopes and acks;
 * see ./slack-fake/socket-mode.ts).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { blockErrors, isRecord, MAX_MESSAGE_BLOCKS, str, viewErrors } from './slack-fake/block-kit.ts';
import { OidcFake } from './slack-fake/oidc.ts';
import { SocketModeFake } from './slack-fake/socket-mode.ts';

export { blockErrors, isRecord, viewErrors } from './slack-fake/block-kit.ts';

export const FAKE_TEAM_ID = 'T0FAKE0001';
export const FAKE_TEAM_DOMAIN = 'fake-team';
export const FAKE_TEAM_NAME = 'Fake Team';
export const FAKE_APP_ID = 'A0FAKEAPP01';
export const FAKE_BOT_ID = 'B0FAKEBOT01';
export const FAKE_BOT_USER_ID = 'U0FAKEBOT01';
export const FAKE_BOT_USER_NAME = 'provisioner';
export const DEFAULT_BOT_TOKEN = 'xoxb-fake-bot-token';
export const DEFAULT_APP_TOKEN = 'xapp-1-A0FAKEAPP01-1-fake-app-token';

export type SlackFakeUser = { name: string; realName?: string };

export type SlackFakeOptions = {
  botToken?: string;
  /** The app-level token (`xapp-…`) apps.connections.open takes, for Socket Mode. */
  appToken?: string;
  users?: Record<string, SlackFakeUser>;
  usergroups?: Record<string, string[]>;
  /** How long a trigger_id stays usable. Slack: 3 s. */
  triggerTtlMs?: number;
};

export type RecordedCall = {
  method: string;
  /** The request's arguments, JSON-valued form fields parsed, `token` removed. */
  args: Record<string, unknown>;
  at: number;
  /** The HTTP status the fake answered: 200, or 429 when rate limited. */
  status: number;
  ok: boolean;
  error?: string;
};

export type FakeMessage = {
  channel: string;
  ts: string;
  text?: string;
  blocks?: unknown[];
  attachments?: unknown[];
  metadata?: unknown;
  thread_ts?: string;
  user: string;
  bot_id: string;
  edited?: { user: string; ts: string };
  /** How many times chat.update (or a replace_original response) changed it. */
  updates: number;
  /** Earlier versions, oldest first (text/blocks as they were before each update). */
  versions: { text?: string; blocks?: unknown[] }[];
};

/** A top-level message with its thread replies. */
export type ChannelMessage = FakeMessage & { replies: FakeMessage[] };

export type FakeEphemeral = {
  channel: string;
  user?: string;
  message_ts: string;
  text?: string;
  blocks?: unknown[];
  thread_ts?: string;
  via: 'chat.postEphemeral' | 'response_url';
};

export type FakeView = {
  id: string;
  hash: string;
  via: 'views.open' | 'views.push';
  updates: number;
  /** The view object as the fake last returned it. */
  view: Record<string, unknown>;
};

export type FakeResponse = { id: string; body: Record<string, unknown>; at: number; status: number };

type ResponseUrlContext = { channel?: string; messageTs?: string; threadTs?: string; userId?: string };

type Result = Record<string, unknown>;
type Handler = (args: Record<string, unknown>) => Result;

type ParsedBody = { args: Record<string, unknown>; json: boolean };

/** Fields Slack takes as JSON-encoded strings in form posts. */
const JSON_FIELDS = new Set(['blocks', 'attachments', 'view', 'metadata', 'unfurls', 'user_auth_blocks']);
const MAX_TEXT = 40_000;
/** Methods Slack answers only for an app-level token. */
const APP_TOKEN_METHODS: ReadonlySet<string> = new Set(['apps.connections.open']);
/** Slack lets a response_url be used 5 times (within 30 minutes). */
const RESPONSE_URL_USES = 5;

function nonEmpty(v: unknown): string | undefined {
  const s = str(v);
  return s === undefined || s === '' ? undefined : s;
}

function truthy(v: unknown): boolean {
  return v === true || v === 'true' || v === '1' || v === 1;
}

function fail(error: string, messages?: string[]): Result {
  if (!messages || messages.length === 0) return { ok: false, error };
  return {
    ok: false,
    error,
    errors: messages.map((m) => m.replace(/^\[ERROR\] /, '')),
    response_metadata: { messages },
  };
}

function randomId(prefix: string, len = 10): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const bytes = randomBytes(len);
  let out = prefix;
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

export class SlackFake {
  /** The `slackApiUrl` to give WebClient / Bolt `clientOptions`, e.g. `http://127.0.0.1:PORT/api/`. */
  readonly url: string;
  /** `http://127.0.0.1:PORT` */
  readonly origin: string;
  readonly botToken: string;
  readonly appToken: string;
  /** Socket Mode: the app's WebSocket connections, envelopes and acks. */
  readonly socket: SocketModeFake;
  /** Sign in with Slack (OpenID Connect): configure the app's client, say who is signed in. */
  readonly oidc: OidcFake;
  readonly teamId = FAKE_TEAM_ID;
  readonly appId = FAKE_APP_ID;
  readonly botId = FAKE_BOT_ID;
  readonly botUserId = FAKE_BOT_USER_ID;
  /** Directory for users.info; mutate freely. */
  readonly users: Map<string, SlackFakeUser>;
  /** Directory for usergroups.users.list; mutate freely. */
  readonly usergroups: Map<string, string[]>;
  readonly triggerTtlMs: number;

  /** Every request the fake answered, in arrival order (rate-limited and failed ones too). */
  calls: RecordedCall[] = [];
  /** How many HTTP 429s the fake has sent. */
  rateLimited = 0;
  /** Every POST to a response_url minted by `responseUrl()`. */
  responses: FakeResponse[] = [];

  private readonly server: Server;
  private readonly handlers: Map<string, Handler>;
  private store = new Map<string, FakeMessage[]>();
  private ephemeralStore: FakeEphemeral[] = [];
  private viewStore = new Map<string, FakeView>();
  private triggers = new Map<string, { issuedAt: number; used: boolean }>();
  private joined = new Set<string>();
  private oneShotLimits: { method: string; remaining: number; retryAfterS: number }[] = [];
  private steadyLimits = new Map<string, number>();
  private steadyWindows = new Map<string, number[]>();
  private failures = new Map<string, string[]>();
  private responseUrls = new Map<string, { ctx: ResponseUrlContext; uses: number }>();
  private lastMicros = 0;
  private triggerSeq = 0;
  private closed = false;

  private constructor(server: Server, port: number, opts: SlackFakeOptions) {
    this.server = server;
    this.origin = `http://127.0.0.1:${port}`;
    this.url = `${this.origin}/api/`;
    this.botToken = opts.botToken ?? DEFAULT_BOT_TOKEN;
    this.appToken = opts.appToken ?? DEFAULT_APP_TOKEN;
    this.socket = new SocketModeFake(this.origin, FAKE_APP_ID);
    this.oidc = new OidcFake(FAKE_TEAM_ID);
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.socket.handleUpgrade(req, socket, head));
    this.users = new Map(Object.entries(opts.users ?? {}));
    this.usergroups = new Map(Object.entries(opts.usergroups ?? {}));
    this.triggerTtlMs = opts.triggerTtlMs ?? 3_000;
    this.handlers = new Map<string, Handler>([
      ['auth.test', () => this.authTest()],
      ['apps.connections.open', () => ({ ok: true, url: this.socket.openUrl() })],
      ['chat.postMessage', (a) => this.postMessage(a)],
      ['chat.update', (a) => this.update(a)],
      ['chat.delete', (a) => this.deleteMessage(a)],
      ['chat.postEphemeral', (a) => this.postEphemeral(a)],
      ['views.open', (a) => this.openView(a, 'views.open')],
      ['views.push', (a) => this.openView(a, 'views.push')],
      ['views.update', (a) => this.updateView(a)],
      ['users.info', (a) => this.usersInfo(a)],
      ['chat.getPermalink', (a) => this.permalink(a)],
      ['usergroups.users.list', (a) => this.usergroupUsers(a)],
      ['conversations.join', (a) => this.join(a)],
    ]);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`slack fake crashed: ${err instanceof Error ? err.stack : String(err)}`);
      });
    });
  }

  static async start(opts: SlackFakeOptions = {}): Promise<SlackFake> {
    const server = createServer();
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const addr = server.address();
        if (addr === null || typeof addr === 'string') reject(new Error('slack fake: no TCP address'));
        else resolve(addr.port);
      });
    });
    return new SlackFake(server, port, opts);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.socket.close();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      // WebClient's fetch keeps connections alive; don't wait for them.
      this.server.closeAllConnections();
    });
  }

  // ---------------------------------------------------------------- test controls

  /** Mint a trigger_id, as Slack puts in a slash command or interaction payload. `ageMs` backdates it. */
  issueTrigger(opts: { ageMs?: number } = {}): string {
    this.triggerSeq += 1;
    const id = `${Math.floor(Date.now() / 1000)}${this.triggerSeq}.${this.triggerSeq}.${randomBytes(8).toString('hex')}`;
    this.triggers.set(id, { issuedAt: Date.now() - (opts.ageMs ?? 0), used: false });
    return id;
  }

  /** Mint a response_url on this fake. With `channel` (+`messageTs`), `replace_original`, `delete_original` and `in_channel` act on that channel. */
  responseUrl(ctx: ResponseUrlContext = {}): string {
    const id = randomBytes(8).toString('hex');
    this.responseUrls.set(id, { ctx, uses: 0 });
    return `${this.origin}/response/${id}`;
  }

  /** Answer the next `times` calls of `method` (or any method with '*') with HTTP 429 + `Retry-After: retryAfterS`. */
  rateLimit(method: string, opts: { times: number; retryAfterS: number }): void {
    this.oneShotLimits.push({ method, remaining: opts.times, retryAfterS: opts.retryAfterS });
  }

  /**
   * Steady limiter: answer 429 when more than `n` calls of `method` were accepted within the last second.
   * chat.postMessage is counted per channel (Slack: about 1 message/s per channel).
   */
  limitPerSecond(method: string, n: number): void {
    this.steadyLimits.set(method, n);
  }

  clearRateLimits(): void {
    this.oneShotLimits = [];
    this.steadyLimits.clear();
    this.steadyWindows.clear();
  }

  /** The next call of `method` (or any with '*') answers `{ ok: false, error }`. Queues: call it twice to fail twice. */
  failNext(method: string, error: string, times = 1): void {
    const queue = this.failures.get(method) ?? [];
    for (let i = 0; i < times; i++) queue.push(error);
    this.failures.set(method, queue);
  }

  callsTo(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Current state of the channel's messages, oldest first, each with its thread replies. */
  messages(channel: string): ChannelMessage[] {
    const all = this.store.get(channel) ?? [];
    const tops = all.filter((m) => m.thread_ts === undefined || m.thread_ts === m.ts || !all.some((p) => p.ts === m.thread_ts));
    return tops.map((m) => ({
      ...clone(m),
      replies: all.filter((r) => r.thread_ts === m.ts && r.ts !== m.ts).map((r) => clone(r)),
    }));
  }

  /** One message (top-level or reply) by channel + ts. */
  message(channel: string, ts: string): FakeMessage | undefined {
    const m = this.store.get(channel)?.find((x) => x.ts === ts);
    return m ? clone(m) : undefined;
  }

  ephemerals(channel?: string): FakeEphemeral[] {
    return this.ephemeralStore.filter((e) => channel === undefined || e.channel === channel).map((e) => clone(e));
  }

  views(): FakeView[] {
    return [...this.viewStore.values()].map((v) => clone(v));
  }

  view(id: string): FakeView | undefined {
    const v = this.viewStore.get(id);
    return v ? clone(v) : undefined;
  }

  /** Wait until at least `count` calls of `method` were recorded (any outcome). */
  async waitFor(method: string, count = 1, timeoutMs = 5_000): Promise<RecordedCall[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const calls = this.callsTo(method);
      if (calls.length >= count) return calls;
      if (Date.now() > deadline) {
        throw new Error(
          `slack fake: waited ${timeoutMs} ms for ${count}× ${method}, saw ${calls.length}; calls: ${this.calls.map((c) => c.method).join(', ') || 'none'}`,
        );
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Forget all recorded state and injected behaviour (keeps users, usergroups and the token). */
  reset(): void {
    this.calls = [];
    this.rateLimited = 0;
    this.responses = [];
    this.store.clear();
    this.ephemeralStore = [];
    this.viewStore.clear();
    this.triggers.clear();
    this.joined.clear();
    this.failures.clear();
    this.responseUrls.clear();
    this.clearRateLimits();
  }

  // ---------------------------------------------------------------- HTTP

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.origin);
    const body = await readBody(req);
    if (url.pathname === '/openid/connect/authorize' && req.method === 'GET') {
      const answer = this.oidc.authorize(url.searchParams);
      res.writeHead(answer.status, answer.location ? { location: answer.location } : { 'content-type': 'text/plain' });
      res.end(answer.body ?? '');
      return;
    }
    if (url.pathname.startsWith('/api/')) return this.handleApi(req, res, url, body);
    if (url.pathname.startsWith('/response/') && req.method === 'POST') return this.handleResponseUrl(req, res, url, body);
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  }

  private async handleApi(req: IncomingMessage, res: ServerResponse, url: URL, raw: Buffer): Promise<void> {
    const method = decodeURIComponent(url.pathname.slice('/api/'.length));
    const parsed = await parseBody(req.headers['content-type'], raw, url.searchParams);
    const args = parsed.args;
    const bodyToken = str(args['token']);
    delete args['token'];
    const at = Date.now();
    const send = (status: number, result: Result, headers: Record<string, string> = {}): void => {
      const call: RecordedCall = { method, args, at, status, ok: result['ok'] === true };
      const error = str(result['error']);
      if (error !== undefined) call.error = error;
      this.calls.push(call);
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(JSON.stringify(result));
    };

    const auth = req.headers['authorization'];
    const bearer = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined;
    // Sign in with Slack: the token method takes the app's client credentials, userInfo the user's token.
    if (method.startsWith('openid.connect.')) return send(200, this.oidc.call(method, args, bearer ?? bodyToken));

    const handler = this.handlers.get(method);
    if (!handler) return send(200, { ok: false, error: 'unknown_method', req_method: method });

    // Slack only reads a body token from form posts; JSON posts must use the header.
    const token = bearer ?? (parsed.json ? undefined : bodyToken);
    if (token === undefined || token === '') return send(200, { ok: false, error: 'not_authed' });
    // apps.connections.open takes only the app-level token; every other method only the bot token.
    const expected = APP_TOKEN_METHODS.has(method) ? this.appToken : this.botToken;
    if (token === this.appToken || token === this.botToken) {
      if (token !== expected) return send(200, { ok: false, error: 'not_allowed_token_type' });
    } else return send(200, { ok: false, error: 'invalid_auth' });

    const retryAfter = this.takeRateLimit(method, args, at);
    if (retryAfter !== undefined) {
      this.rateLimited += 1;
      return send(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(retryAfter) });
    }

    const injected = this.takeFailure(method);
    if (injected !== undefined) return send(200, { ok: false, error: injected });

    send(200, handler(args));
  }

  private takeRateLimit(method: string, args: Record<string, unknown>, now: number): number | undefined {
    const oneShot =
      this.oneShotLimits.find((l) => l.remaining > 0 && l.method === method) ?? this.oneShotLimits.find((l) => l.remaining > 0 && l.method === '*');
    if (oneShot) {
      oneShot.remaining -= 1;
      return oneShot.retryAfterS;
    }
    const n = this.steadyLimits.get(method) ?? this.steadyLimits.get('*');
    if (n === undefined) return undefined;
    const key = method === 'chat.postMessage' ? `${method}\u0000${str(args['channel']) ?? ''}` : method;
    const window = (this.steadyWindows.get(key) ?? []).filter((t) => t > now - 1_000);
    if (window.length >= n) {
      this.steadyWindows.set(key, window);
      const oldest = window[0] ?? now;
      return Math.max(1, Math.ceil((oldest + 1_000 - now) / 1_000));
    }
    window.push(now);
    this.steadyWindows.set(key, window);
    return undefined;
  }

  private takeFailure(method: string): string | undefined {
    for (const key of [method, '*']) {
      const queue = this.failures.get(key);
      if (queue && queue.length > 0) return queue.shift();
    }
    return undefined;
  }

  private async handleResponseUrl(req: IncomingMessage, res: ServerResponse, url: URL, raw: Buffer): Promise<void> {
    const id = url.pathname.slice('/response/'.length);
    const entry = this.responseUrls.get(id);
    const parsed = await parseBody(req.headers['content-type'], raw, new URLSearchParams());
    // Slack sends interactive responses as JSON; a form post with `payload=` is accepted too.
    const payload = parsed.args['payload'];
    const body = isRecord(payload) ? payload : parsed.args;
    const reply = (status: number, result: Result): void => {
      this.responses.push({ id, body, at: Date.now(), status });
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(result));
    };
    if (!entry) return reply(404, { ok: false, error: 'no_such_response_url' });
    if (entry.uses >= RESPONSE_URL_USES) return reply(404, { ok: false, error: 'used_url' });
    entry.uses += 1;
    const { channel, messageTs, threadTs, userId } = entry.ctx;
    const blocks = body['blocks'];
    if (blocks !== undefined) {
      const errs = blockErrors(blocks, MAX_MESSAGE_BLOCKS, '/blocks');
      if (errs.length > 0) return reply(400, fail('invalid_blocks', errs));
    }
    if ((str(body['text']) ?? '').length > MAX_TEXT) return reply(400, fail('msg_too_long'));
    if (channel !== undefined && truthy(body['delete_original']) && messageTs !== undefined) {
      this.removeMessage(channel, messageTs);
    } else if (channel !== undefined && truthy(body['replace_original']) && messageTs !== undefined) {
      const m = this.store.get(channel)?.find((x) => x.ts === messageTs);
      if (m) this.applyUpdate(m, body);
    } else if (channel !== undefined && body['response_type'] === 'in_channel') {
      this.storeMessage(channel, { ...body, ...(threadTs !== undefined ? { thread_ts: threadTs } : {}) });
    } else if (channel !== undefined) {
      const e: FakeEphemeral = { channel, message_ts: this.nextTs(), via: 'response_url' };
      if (userId !== undefined) e.user = userId;
      const text = str(body['text']);
      if (text !== undefined) e.text = text;
      if (Array.isArray(blocks)) e.blocks = blocks;
      if (threadTs !== undefined) e.thread_ts = threadTs;
      this.ephemeralStore.push(e);
    }
    reply(200, { ok: true });
  }

  // ---------------------------------------------------------------- methods

  private authTest(): Result {
    return {
      ok: true,
      url: `https://${FAKE_TEAM_DOMAIN}.slack.com/`,
      team: FAKE_TEAM_NAME,
      user: FAKE_BOT_USER_NAME,
      team_id: FAKE_TEAM_ID,
      user_id: FAKE_BOT_USER_ID,
      bot_id: FAKE_BOT_ID,
      is_enterprise_install: false,
    };
  }

  private nextTs(): string {
    this.lastMicros = Math.max(Date.now() * 1000, this.lastMicros + 1);
    const sec = Math.floor(this.lastMicros / 1_000_000);
    const micros = this.lastMicros % 1_000_000;
    return `${sec}.${String(micros).padStart(6, '0')}`;
  }

  /** Shared checks for text/blocks content; returns an error result or undefined. */
  private contentError(args: Record<string, unknown>, requireContent: boolean): Result | undefined {
    const blocks = args['blocks'];
    if (typeof blocks === 'string') return fail('invalid_blocks_format');
    if (blocks !== undefined) {
      const errs = blockErrors(blocks, MAX_MESSAGE_BLOCKS, '/blocks');
      if (errs.length > 0) return fail('invalid_blocks', errs);
    }
    const attachments = args['attachments'];
    if (typeof attachments === 'string') return fail('invalid_attachments');
    const text = str(args['text']);
    if (text !== undefined && text.length > MAX_TEXT) return fail('msg_too_long');
    const hasBlocks = Array.isArray(blocks) && blocks.length > 0;
    const hasAttachments = Array.isArray(attachments) && attachments.length > 0;
    if (requireContent && (text === undefined || text === '') && !hasBlocks && !hasAttachments) return fail('no_text');
    return undefined;
  }

  private storeMessage(channel: string, args: Record<string, unknown>): FakeMessage {
    const list = this.store.get(channel) ?? [];
    const m: FakeMessage = { channel, ts: this.nextTs(), user: FAKE_BOT_USER_ID, bot_id: FAKE_BOT_ID, updates: 0, versions: [] };
    copyContent(m, args);
    const threadTs = nonEmpty(args['thread_ts']);
    if (threadTs !== undefined) {
      // Replying to a reply lands in the parent's thread.
      const parent = list.find((x) => x.ts === threadTs);
      m.thread_ts = parent?.thread_ts ?? threadTs;
    }
    list.push(m);
    this.store.set(channel, list);
    return m;
  }

  private messageJson(m: FakeMessage): Record<string, unknown> {
    const out: Record<string, unknown> = {
      user: m.user,
      type: 'message',
      ts: m.ts,
      bot_id: m.bot_id,
      app_id: FAKE_APP_ID,
      text: m.text ?? '',
      team: FAKE_TEAM_ID,
      bot_profile: { id: FAKE_BOT_ID, app_id: FAKE_APP_ID, name: FAKE_BOT_USER_NAME, deleted: false, team_id: FAKE_TEAM_ID },
    };
    if (m.blocks) out['blocks'] = m.blocks;
    if (m.attachments) out['attachments'] = m.attachments;
    if (m.metadata !== undefined) out['metadata'] = m.metadata;
    if (m.thread_ts !== undefined) {
      out['thread_ts'] = m.thread_ts;
      if (m.thread_ts !== m.ts) out['parent_user_id'] = FAKE_BOT_USER_ID;
    }
    if (m.edited) out['edited'] = m.edited;
    return out;
  }

  private postMessage(args: Record<string, unknown>): Result {
    const channel = nonEmpty(args['channel']);
    if (channel === undefined) return fail('channel_not_found');
    const err = this.contentError(args, true);
    if (err) return err;
    const m = this.storeMessage(channel, args);
    return { ok: true, channel, ts: m.ts, message: this.messageJson(m) };
  }

  private applyUpdate(m: FakeMessage, args: Record<string, unknown>): void {
    const before: { text?: string; blocks?: unknown[] } = {};
    if (m.text !== undefined) before.text = m.text;
    if (m.blocks !== undefined) before.blocks = m.blocks;
    m.versions.push(before);
    // chat.update keeps the previous blocks/attachments when the field is omitted.
    copyContent(m, args);
    m.updates += 1;
    m.edited = { user: FAKE_BOT_USER_ID, ts: this.nextTs() };
  }

  private update(args: Record<string, unknown>): Result {
    const channel = nonEmpty(args['channel']);
    const ts = nonEmpty(args['ts']);
    if (channel === undefined) return fail('channel_not_found');
    const m = ts === undefined ? undefined : this.store.get(channel)?.find((x) => x.ts === ts);
    if (!m) return fail('message_not_found');
    const err = this.contentError(args, true);
    if (err) return err;
    this.applyUpdate(m, args);
    return { ok: true, channel, ts: m.ts, text: m.text ?? '', message: this.messageJson(m) };
  }

  private removeMessage(channel: string, ts: string): boolean {
    const list = this.store.get(channel);
    const i = list?.findIndex((x) => x.ts === ts) ?? -1;
    if (!list || i < 0) return false;
    list.splice(i, 1);
    return true;
  }

  private deleteMessage(args: Record<string, unknown>): Result {
    const channel = nonEmpty(args['channel']);
    const ts = nonEmpty(args['ts']);
    if (channel === undefined) return fail('channel_not_found');
    if (ts === undefined || !this.removeMessage(channel, ts)) return fail('message_not_found');
    return { ok: true, channel, ts };
  }

  private postEphemeral(args: Record<string, unknown>): Result {
    const channel = nonEmpty(args['channel']);
    const user = nonEmpty(args['user']);
    if (channel === undefined) return fail('channel_not_found');
    if (user === undefined) return fail('user_not_in_channel');
    if (this.users.size > 0 && !this.users.has(user)) return fail('user_not_in_channel');
    const err = this.contentError(args, true);
    if (err) return err;
    const e: FakeEphemeral = { channel, user, message_ts: this.nextTs(), via: 'chat.postEphemeral' };
    const text = str(args['text']);
    if (text !== undefined) e.text = text;
    const blocks = args['blocks'];
    if (Array.isArray(blocks)) e.blocks = blocks;
    const threadTs = nonEmpty(args['thread_ts']);
    if (threadTs !== undefined) e.thread_ts = threadTs;
    this.ephemeralStore.push(e);
    return { ok: true, message_ts: e.message_ts };
  }

  private viewJson(
    id: string,
    hash: string,
    view: Record<string, unknown>,
    rootViewId: string,
    previousViewId: string | null,
  ): Record<string, unknown> {
    return {
      id,
      team_id: FAKE_TEAM_ID,
      type: 'modal',
      title: view['title'],
      submit: view['submit'] ?? null,
      close: view['close'] ?? null,
      blocks: view['blocks'] ?? [],
      private_metadata: str(view['private_metadata']) ?? '',
      callback_id: str(view['callback_id']) ?? '',
      external_id: str(view['external_id']) ?? '',
      state: { values: {} },
      hash,
      clear_on_close: truthy(view['clear_on_close']),
      notify_on_close: truthy(view['notify_on_close']),
      root_view_id: rootViewId,
      previous_view_id: previousViewId,
      app_id: FAKE_APP_ID,
      app_installed_team_id: FAKE_TEAM_ID,
      bot_id: FAKE_BOT_ID,
    };
  }

  private newHash(): string {
    return `${Math.floor(Date.now() / 1000)}.${randomBytes(4).toString('hex')}`;
  }

  private openView(args: Record<string, unknown>, via: 'views.open' | 'views.push'): Result {
    const trigger = nonEmpty(args['trigger_id']) ?? nonEmpty(args['interactivity_pointer']);
    if (trigger === undefined) return fail('invalid_arguments', ['[ERROR] missing required field: trigger_id']);
    const view = args['view'];
    const errs = viewErrors(view);
    if (errs.length > 0 || !isRecord(view)) return fail('invalid_arguments', errs);
    const t = this.triggers.get(trigger);
    if (!t) return fail('invalid_trigger_id');
    if (t.used) return fail('exchanged_trigger_id');
    if (Date.now() - t.issuedAt > this.triggerTtlMs) return fail('expired_trigger_id');
    const externalId = nonEmpty(view['external_id']);
    if (externalId !== undefined && [...this.viewStore.values()].some((v) => v.view['external_id'] === externalId)) {
      return fail('duplicate_external_id');
    }
    t.used = true;
    const id = randomId('V');
    const hash = this.newHash();
    const json = this.viewJson(id, hash, view, id, null);
    this.viewStore.set(id, { id, hash, via, updates: 0, view: json });
    return { ok: true, view: json };
  }

  private updateView(args: Record<string, unknown>): Result {
    const viewId = nonEmpty(args['view_id']);
    const externalId = nonEmpty(args['external_id']);
    if (viewId === undefined && externalId === undefined) {
      return fail('invalid_arguments', ['[ERROR] either view_id or external_id is required']);
    }
    const view = args['view'];
    const errs = viewErrors(view);
    if (errs.length > 0 || !isRecord(view)) return fail('invalid_arguments', errs);
    const stored = viewId !== undefined ? this.viewStore.get(viewId) : [...this.viewStore.values()].find((v) => v.view['external_id'] === externalId);
    if (!stored) return fail('not_found');
    const hash = nonEmpty(args['hash']);
    if (hash !== undefined && hash !== stored.hash) return fail('hash_conflict');
    stored.hash = this.newHash();
    stored.updates += 1;
    const root = str(stored.view['root_view_id']) ?? stored.id;
    const prev = stored.view['previous_view_id'];
    stored.view = this.viewJson(stored.id, stored.hash, view, root, typeof prev === 'string' ? prev : null);
    return { ok: true, view: stored.view };
  }

  private permalink(args: Record<string, unknown>): Result {
    const channel = nonEmpty(args['channel']);
    const ts = nonEmpty(args['message_ts']);
    if (channel === undefined) return fail('channel_not_found');
    if (ts === undefined || !(this.store.get(channel) ?? []).some((m) => m.ts === ts)) return fail('message_not_found');
    return { ok: true, channel, permalink: `https://${FAKE_TEAM_DOMAIN}.slack.com/archives/${channel}/p${ts.replace('.', '')}` };
  }

  private usersInfo(args: Record<string, unknown>): Result {
    const id = nonEmpty(args['user']);
    if (id === FAKE_BOT_USER_ID) {
      return { ok: true, user: userJson(id, { name: FAKE_BOT_USER_NAME, realName: 'Provisioner' }, true) };
    }
    const u = id === undefined ? undefined : this.users.get(id);
    if (id === undefined || !u) return fail('user_not_found');
    return { ok: true, user: userJson(id, u, false) };
  }

  private usergroupUsers(args: Record<string, unknown>): Result {
    const id = nonEmpty(args['usergroup']);
    const members = id === undefined ? undefined : this.usergroups.get(id);
    if (!members) return fail('no_such_subteam');
    return { ok: true, users: [...members] };
  }

  private join(args: Record<string, unknown>): Result {
    const channel = nonEmpty(args['channel']);
    if (channel === undefined) return fail('channel_not_found');
    const already = this.joined.has(channel);
    this.joined.add(channel);
    const result: Result = {
      ok: true,
      channel: {
        id: channel,
        name: channel.toLowerCase(),
        is_channel: true,
        is_private: false,
        is_member: true,
        is_archived: false,
        context_team_id: FAKE_TEAM_ID,
      },
    };
    if (already) {
      result['warning'] = 'already_in_channel';
      result['response_metadata'] = { warnings: ['already_in_channel'] };
    }
    return result;
  }
}

function userJson(id: string, u: SlackFakeUser, isBot: boolean): Record<string, unknown> {
  const realName = u.realName ?? u.name;
  return {
    id,
    team_id: FAKE_TEAM_ID,
    name: u.name,
    deleted: false,
    color: '9f69e7',
    real_name: realName,
    tz: 'Etc/UTC',
    tz_label: 'Coordinated Universal Time',
    tz_offset: 0,
    profile: {
      real_name: realName,
      real_name_normalized: realName,
      display_name: u.name,
      display_name_normalized: u.name,
      team: FAKE_TEAM_ID,
    },
    is_admin: false,
    is_owner: false,
    is_primary_owner: false,
    is_restricted: false,
    is_ultra_restricted: false,
    is_bot: isBot,
    is_app_user: false,
    updated: Math.floor(Date.now() / 1000),
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks);
}

function parseJsonFields(args: Record<string, unknown>): void {
  for (const key of JSON_FIELDS) {
    const v = args[key];
    if (typeof v !== 'string') continue;
    try {
      args[key] = JSON.parse(v);
    } catch {
      // leave the string: the method answers invalid_blocks_format / invalid_arguments
    }
  }
}

async function parseBody(contentType: string | undefined, raw: Buffer, query: URLSearchParams): Promise<ParsedBody> {
  const args: Record<string, unknown> = Object.fromEntries(query);
  const ct = (contentType ?? '').toLowerCase();
  let json = false;
  if (ct.startsWith('application/json')) {
    json = true;
    const text = raw.toString('utf8');
    if (text !== '') {
      const value: unknown = JSON.parse(text);
      if (isRecord(value)) Object.assign(args, value);
    }
  } else if (ct.startsWith('multipart/form-data')) {
    const form = await new Response(new Uint8Array(raw), { headers: { 'content-type': contentType ?? '' } }).formData();
    for (const [k, v] of form) args[k] = typeof v === 'string' ? v : `[file ${v.name}]`;
  } else if (raw.length > 0) {
    for (const [k, v] of new URLSearchParams(raw.toString('utf8'))) args[k] = v;
  }
  parseJsonFields(args);
  if (typeof args['payload'] === 'string') {
    try {
      args['payload'] = JSON.parse(args['payload']);
    } catch {
      // not JSON: keep as is
    }
  }
  return { args, json };
}

/** Copies the content fields a post or update sends onto the stored message; omitted fields stay as they were. */
function copyContent(m: FakeMessage, args: Record<string, unknown>): void {
  const text = str(args['text']);
  if (text !== undefined) m.text = text;
  const blocks = args['blocks'];
  if (Array.isArray(blocks)) m.blocks = blocks;
  const attachments = args['attachments'];
  if (Array.isArray(attachments)) m.attachments = attachments;
  if (args['metadata'] !== undefined) m.metadata = args['metadata'];
}
