/**
 * The local profile's stand-in for an Okta org: a stateful loopback server
 * speaking enough of the Management API (/api/v1 groups, users, apps, IdPs)
 * for @okta/okta-sdk-nodejs to work unchanged. It answers with Okta's
 * error bodies, pages with absolute Link headers, sends Okta's rate-limit
 * headers, and can fail the next requests on purpose.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { text } from 'node:stream/consumers';
import { appRoutes } from './okta-fake/app-routes.ts';
import { directoryRoutes } from './okta-fake/directory-routes.ts';
import { idpRoutes } from './okta-fake/idp-routes.ts';
import { emptyOrg, forgetGroup, forgetUser, loginOf, type Org } from './okta-fake/org.ts';
import { OktaFakeError, errorBody, randomText, type Call, type JsonObject, type Reply, type Route } from './okta-fake/wire.ts';
import { pause, type Latency } from './latency.ts';
import { listenOnLoopback } from './listen.ts';

export type FakeOktaGroup = { id: string; name: string; memberIds: string[] };
export type FakeOktaUser = { id: string; login: string; status: string; groupIds: string[] };
export type FakeOktaApp = { id: string; label: string; status: string; signOnMode: string; clientId: string | undefined; groupIds: string[] };
export type FakeOktaIdp = { id: string; name: string; status: string; kid: string; issuer: string; ssoUrl: string };
export type FakeOktaRequest = { method: string; path: string; query: string; status: number };

export type OktaFake = {
  /** The org URL to give the SDK: `new okta.Client({ orgUrl: fake.url, token: fake.token })`. */
  url: string;
  token: string;
  /** The next `count` requests (under `pathPrefix`, e.g. "/api/v1/groups") answer `status` with Okta's error body. */
  failNext(count: number, status: number, pathPrefix?: string): void;
  requests(): readonly FakeOktaRequest[];
  groupsNamed(prefix: string): FakeOktaGroup[];
  usersWithLogin(login: string): FakeOktaUser[];
  appsLabelled(prefix: string): FakeOktaApp[];
  idps(namePrefix?: string): FakeOktaIdp[];
  idpKeyIds(): string[];
  /** Someone removes the resource in the Okta admin console. */
  deleteOutOfBand(kind: 'group' | 'user' | 'app' | 'idp', id: string): void;
  close(): Promise<void>;
};

export type OktaFakeOptions = {
  port?: number;
  token?: string;
  /** Items per page when a list call sends no `limit` (Okta's defaults are larger; small pages exercise paging). */
  pageSize?: number;
  /** How far ahead an injected 429's `x-rate-limit-reset` points; the SDK waits that long plus a second before retrying. */
  rateLimitResetSeconds?: number;
  /** Each request waits this long before it is carried out, and again before it is answered (default none). */
  latency?: Latency;
};

type Failure = { left: number; status: number; pathPrefix: string };

const RATE_LIMIT = 600;

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new OktaFakeError(400, 'E0000003');
  }
}

function route(routes: readonly Route[], method: string, path: string): { route: Route; params: string[] } {
  let pathKnown = false;
  for (const candidate of routes) {
    const match = candidate.pattern.exec(path);
    if (!match) continue;
    pathKnown = true;
    if (candidate.method === method) return { route: candidate, params: match.slice(1).map((part) => decodeURIComponent(part)) };
  }
  if (pathKnown) throw new OktaFakeError(405, 'E0000022');
  throw new OktaFakeError(404, 'E0000008', 'The requested path was not found');
}

function send(res: ServerResponse, reply: Reply, extraHeaders: Record<string, string>): void {
  const headers: Record<string, string | string[]> = { ...extraHeaders, ...reply.headers };
  if (reply.body === undefined) return void res.writeHead(reply.status, headers).end();
  res.writeHead(reply.status, { ...headers, 'content-type': 'application/json' }).end(JSON.stringify(reply.body));
}

export async function startOktaFake(opts: OktaFakeOptions = {}): Promise<OktaFake> {
  const token = opts.token ?? 'fake-okta-api-token';
  const org: Org = emptyOrg(opts.pageSize ?? 5);
  const routes = [...directoryRoutes(org), ...appRoutes(org), ...idpRoutes(org)];
  const failures: Failure[] = [];
  const log: FakeOktaRequest[] = [];

  function injectedFailure(path: string): OktaFakeError | undefined {
    const failure = failures.find((f) => f.left > 0 && path.startsWith(f.pathPrefix));
    if (!failure) return undefined;
    failure.left -= 1;
    return OktaFakeError.forStatus(failure.status);
  }

  async function answer(req: IncomingMessage): Promise<{ reply: Reply; rateLimited: boolean; url: URL }> {
    const url = new URL(req.url ?? '/', org.baseUrl);
    const method = req.method ?? 'GET';
    try {
      const body = await text(req);
      await pause(opts.latency);
      if (req.headers.authorization !== `SSWS ${token}`) throw new OktaFakeError(401, 'E0000011');
      const injected = injectedFailure(url.pathname);
      if (injected) throw injected;
      const found = route(routes, method, url.pathname);
      const call: Call = { method, path: url.pathname, params: found.params, query: url.searchParams, body: parseJson(body), baseUrl: org.baseUrl };
      return { reply: found.route.handle(call), rateLimited: false, url };
    } catch (err) {
      // A bug in the fake shows up as Okta's 500, with the reason in the causes for whoever debugs it.
      const failure = err instanceof OktaFakeError ? err : new OktaFakeError(500, 'E0000009', undefined, [String(err)]);
      return { reply: { status: failure.status, body: errorBody(failure) }, rateLimited: failure.status === 429, url };
    }
  }

  const server = createServer((req, res) => {
    void answer(req).then(async ({ reply, rateLimited, url }) => {
      log.push({ method: req.method ?? 'GET', path: url.pathname, query: url.search, status: reply.status });
      await pause(opts.latency);
      // A caller that died while the answer waited has no one left to answer.
      if (res.destroyed) return;
      const nowS = Math.floor(Date.now() / 1000);
      send(res, reply, {
        date: new Date(nowS * 1000).toUTCString(),
        'x-okta-request-id': randomText(27),
        'x-rate-limit-limit': String(RATE_LIMIT),
        'x-rate-limit-remaining': rateLimited ? '0' : String(RATE_LIMIT - 1),
        'x-rate-limit-reset': String(nowS + (rateLimited ? (opts.rateLimitResetSeconds ?? 60) : 60)),
      });
    });
  });
  const port = await listenOnLoopback(server, opts.port);
  org.baseUrl = `http://127.0.0.1:${port}`;
  return { url: org.baseUrl, token, ...inspection(org), failNext, requests: () => log, close };

  function failNext(count: number, status: number, pathPrefix = '/'): void {
    failures.push({ left: count, status, pathPrefix });
  }

  function close(): Promise<void> {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function inspection(org: Org): Pick<OktaFake, 'groupsNamed' | 'usersWithLogin' | 'appsLabelled' | 'idps' | 'idpKeyIds' | 'deleteOutOfBand'> {
  const groupIdsOf = (userId: string) => [...org.groups.values()].filter((g) => g.members.has(userId)).map((g) => g.id);
  return {
    groupsNamed: (prefix) =>
      [...org.groups.values()].filter((g) => g.name.startsWith(prefix)).map((g) => ({ id: g.id, name: g.name, memberIds: [...g.members] })),
    usersWithLogin: (login) =>
      [...org.users.values()]
        .filter((u) => loginOf(u).toLowerCase() === login.toLowerCase())
        .map((u) => ({ id: u.id, login: loginOf(u), status: u.status, groupIds: groupIdsOf(u.id) })),
    appsLabelled: (prefix) =>
      [...org.apps.values()]
        .filter((a) => a.label.startsWith(prefix))
        .map((a) => ({
          id: a.id,
          label: a.label,
          status: a.status,
          signOnMode: a.signOnMode,
          clientId: clientIdOf(a.credentials),
          groupIds: [...a.groups.keys()],
        })),
    idps: (namePrefix = '') =>
      [...org.idps.values()]
        .filter((i) => i.name.startsWith(namePrefix))
        .map((i) => ({ id: i.id, name: i.name, status: i.status, kid: i.kid, issuer: i.issuer, ssoUrl: i.ssoUrl })),
    idpKeyIds: () => [...org.idpKeys.keys()],
    deleteOutOfBand(kind, id) {
      if (kind === 'group') forgetGroup(org, id);
      else if (kind === 'user') forgetUser(org, id);
      else if (kind === 'app') org.apps.delete(id);
      else org.idps.delete(id);
    },
  };
}

function clientIdOf(credentials: JsonObject): string | undefined {
  const client = credentials['oauthClient'];
  if (client === null || typeof client !== 'object' || Array.isArray(client)) return undefined;
  const id = client['client_id'];
  return typeof id === 'string' ? id : undefined;
}
