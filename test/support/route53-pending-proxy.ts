/**
 * A loopback proxy in front of moto for what moto cannot show: moto answers
 * every Route 53 change INSYNC under one fixed change id. This proxy forwards
 * every request to moto unchanged, but gives each ChangeResourceRecordSets
 * answer its own change id and says PENDING for that id's first N GetChange
 * polls, then INSYNC, the way Route 53 does while name servers catch up.
 *
 * failNext answers the next requests with the service's real error shape, so
 * the SDK raises its real exception types: Route 53's XML ErrorResponse, or
 * the JSON error of Secrets Manager (any request carrying X-Amz-Target) when
 * a Secrets Manager client is pointed here too.
 *
 * holdNext lets a request through (moto commits it, a GetChange counts as a
 * poll) but sends the answer late: "AWS did it, the caller never heard back".
 *
 * latency makes every request wait a random time before it reaches moto and
 * again before it is answered, as real AWS calls take time (the chaos run).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { pause, type Latency } from '../../src/emulators/latency.ts';

const MOTO_FIXED_CHANGE_ID = 'C2682N5HXP0BZ4';
const ROUTE53_XMLNS = 'https://route53.amazonaws.com/doc/2013-04-01/';
const GET_CHANGE = /^\/2013-04-01\/change\/([^/?]+)/;
const CHANGE_RECORD_SETS = /^\/2013-04-01\/hostedzone\/[^/]+\/rrset\/?(\?|$)/;

export type Route53PendingProxy = {
  url: string;
  close(): Promise<void>;
  /** Answer the next `count` requests with an error; the code defaults by status and protocol (400 → Throttling). */
  failNext(count: number, status?: number, code?: string): void;
  /**
   * The next `count` requests matching `match` (an X-Amz-Target such as
   * secretsmanager.CreateSecret, or a path prefix; any request when omitted)
   * are carried out at once but answered only `ms` later.
   */
  holdNext(count: number, ms: number, match?: string): void;
  /** How many PENDING answers each change issued from now on gets before INSYNC. */
  setPendingPolls(polls: number): void;
  /** The change ids handed out, oldest first. */
  changeIds(): readonly string[];
  /** GetChange calls seen for one change id. */
  pollsOf(changeId: string): number;
};

type Injected = { remaining: number; status: number; code: string | undefined };

type Change = { pendingPolls: number; polls: number; submittedAt: string };

type Hold = { remaining: number; ms: number; match: string | undefined };

function holdMatches(hold: Hold, req: IncomingMessage): boolean {
  if (hold.remaining <= 0) return false;
  if (hold.match === undefined) return true;
  return req.headers['x-amz-target'] === hold.match || (req.url ?? '/').startsWith(hold.match);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function defaultCode(status: number, json: boolean): string {
  if (status === 400 || status === 429) return json ? 'ThrottlingException' : 'Throttling';
  if (status === 403) return json ? 'AccessDeniedException' : 'AccessDenied';
  if (status === 503) return 'ServiceUnavailable';
  return json ? 'InternalServiceError' : 'InternalFailure';
}

function messageFor(code: string): string {
  if (/Throttling/.test(code)) return 'Rate exceeded';
  if (/AccessDenied/.test(code)) return 'User: arn:aws:iam::123456789012:user/provisioner is not authorized to perform this action';
  return 'We encountered an internal error. Please try again.';
}

function answerError(req: IncomingMessage, res: ServerResponse, status: number, code: string | undefined): void {
  const requestId = randomUUID();
  if (req.headers['x-amz-target'] !== undefined) {
    const type = code ?? defaultCode(status, true);
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId, 'x-amzn-errortype': type });
    res.end(JSON.stringify({ __type: type, message: messageFor(type) }));
    return;
  }
  const type = code ?? defaultCode(status, false);
  const fault = status >= 500 ? 'Receiver' : 'Sender';
  res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
  res.end(
    `<?xml version="1.0"?>\n<ErrorResponse xmlns="${ROUTE53_XMLNS}"><Error><Type>${fault}</Type><Code>${type}</Code>` +
      `<Message>${messageFor(type)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  );
}

function getChangeXml(id: string, status: string, submittedAt: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<GetChangeResponse xmlns="${ROUTE53_XMLNS}"><ChangeInfo>` +
    `<Id>/change/${id}</Id><Status>${status}</Status><SubmittedAt>${submittedAt}</SubmittedAt></ChangeInfo></GetChangeResponse>`
  );
}

/** Sends the request to moto as it came; hands back moto's status, headers and body. */
function forward(target: URL, req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      readBody(answer).then((data) => resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: data }), reject);
    });
    upstream.on('error', reject);
    upstream.end(body);
  });
}

export async function startRoute53PendingProxy(opts: {
  target: string;
  pendingPolls?: number;
  port?: number;
  latency?: Latency;
}): Promise<Route53PendingProxy> {
  const target = new URL(opts.target);
  let pendingPolls = opts.pendingPolls ?? 2;
  const changes = new Map<string, Change>();
  const injected: Injected = { remaining: 0, status: 400, code: undefined };

  const holds: Hold[] = [];
  const released = new AbortController();

  /** Waits out a matching hold; closing the proxy ends every wait at once. */
  async function holdIfAsked(req: IncomingMessage): Promise<void> {
    const hold = holds.find((h) => holdMatches(h, req));
    if (hold === undefined) return;
    hold.remaining -= 1;
    await sleep(hold.ms, undefined, { signal: released.signal }).catch(() => undefined);
  }

  async function pollChange(req: IncomingMessage, res: ServerResponse, id: string, change: Change): Promise<void> {
    change.polls += 1;
    const status = change.polls <= change.pendingPolls ? 'PENDING' : 'INSYNC';
    await holdIfAsked(req);
    await pause(opts.latency);
    if (res.destroyed) return;
    res.writeHead(200, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() });
    res.end(getChangeXml(id, status, change.submittedAt));
  }

  /** moto's fixed id becomes a fresh one, still PENDING, as Route 53 answers a change. */
  function issueChange(xml: string): string {
    const id = `C${randomBytes(10).toString('hex').toUpperCase()}`;
    changes.set(id, { pendingPolls, polls: 0, submittedAt: new Date().toISOString() });
    const renamed = xml.replaceAll(MOTO_FIXED_CHANGE_ID, id);
    return pendingPolls > 0 ? renamed.replace('<Status>INSYNC</Status>', '<Status>PENDING</Status>') : renamed;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    await pause(opts.latency);
    if (injected.remaining > 0) {
      injected.remaining -= 1;
      return answerError(req, res, injected.status, injected.code);
    }
    const path = req.url ?? '/';
    const polled = GET_CHANGE.exec(path)?.[1];
    const known = polled === undefined ? undefined : changes.get(polled);
    if (req.method === 'GET' && polled !== undefined && known !== undefined) return pollChange(req, res, polled, known);
    const answer = await forward(target, req, body);
    let payload = answer.body;
    if (req.method === 'POST' && CHANGE_RECORD_SETS.test(path) && answer.status === 200) {
      payload = Buffer.from(issueChange(payload.toString('utf8')), 'utf8');
    }
    const headers = { ...answer.headers, 'content-length': String(payload.length) };
    delete headers['transfer-encoding'];
    await holdIfAsked(req);
    await pause(opts.latency);
    // A caller that died meanwhile has no one left to answer.
    if (res.destroyed) return;
    res.writeHead(answer.status, headers);
    res.end(payload);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.writeHead(502, { 'content-type': 'text/plain' }).end(`proxy could not reach moto: ${String(err)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no TCP address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        released.abort();
        server.close(() => resolve());
      }),
    failNext(count, status = 400, code) {
      Object.assign(injected, { remaining: count, status, code });
    },
    holdNext(count, ms, match) {
      holds.push({ remaining: count, ms, match });
    },
    setPendingPolls(polls) {
      pendingPolls = polls;
    },
    changeIds: () => [...changes.keys()],
    pollsOf: (changeId) => changes.get(changeId)?.polls ?? 0,
  };
}
