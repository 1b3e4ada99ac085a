/**
 * A loopback OTLP/HTTP trace receiver: accepts POST /v1/traces in the JSON
 * encoding (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/json) like a collector
 * would, and keeps the spans for the test to read.
 */
import { createServer, type Server } from 'node:http';

export type ReceivedSpan = {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  /** OTLP span kind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  attributes: Record<string, unknown>;
  service: string | undefined;
};

export type OtlpReceiver = { url: string; spans(): ReceivedSpan[]; close(): Promise<void> };

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !String(req.headers['content-type']).startsWith('application/json')) {
        res.writeHead(404).end();
        return;
      }
      spans.push(...spansIn(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error('the receiver has no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    spans: () => [...spans],
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

type Json = Record<string, unknown>;
const list = (v: unknown): Json[] => (Array.isArray(v) ? v.filter((x): x is Json => x !== null && typeof x === 'object') : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Attribute values are typed wrappers ({ stringValue }, { intValue }…): unwrap them. */
function attributes(raw: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of list(raw)) {
    const value = a['value'];
    const key = str(a['key']);
    if (key && value !== null && typeof value === 'object') out[key] = Object.values(value)[0];
  }
  return out;
}

function spansIn(body: Json): ReceivedSpan[] {
  return list(body['resourceSpans']).flatMap((rs) => {
    const resource = rs['resource'];
    const service = str(attributes(resource !== null && typeof resource === 'object' ? Reflect.get(resource, 'attributes') : [])['service.name']);
    return list(rs['scopeSpans']).flatMap((ss) =>
      list(ss['spans']).map(
        (s): ReceivedSpan => ({
          traceId: String(s['traceId']),
          spanId: String(s['spanId']),
          parentSpanId: str(s['parentSpanId']),
          name: String(s['name']),
          kind: Number(s['kind']),
          attributes: attributes(s['attributes']),
          service,
        }),
      ),
    );
  });
}
