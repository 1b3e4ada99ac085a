/** Reads the Prometheus text format the way a scraper does, to assert on real values. */

export type Sample = { name: string; labels: Record<string, string>; value: number };

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = LINE.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const [, name = '', labelText = '', value = ''] = match;
    const labels: Record<string, string> = {};
    for (const [, key = '', raw = ''] of labelText.matchAll(LABEL)) labels[key] = raw.replace(/\\(.)/g, '$1');
    samples.push({ name, labels, value: Number(value) });
  }
  return samples;
}

/** The one sample with this name whose labels include `labels`; fails when there is none or several. */
export function sample(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length !== 1) {
    const seen = samples.filter((s) => s.name === name).map((s) => JSON.stringify(s.labels));
    throw new Error(`expected one ${name}${JSON.stringify(labels)}, found ${found.length}; series: ${seen.join(' ') || 'none'}`);
  }
  return found[0]?.value ?? Number.NaN;
}

/** Scrapes a running server's /metrics. */
export async function scrape(baseUrl: string): Promise<{ contentType: string; samples: Sample[] }> {
  const response = await fetch(`${baseUrl}/metrics`);
  if (response.status !== 200) throw new Error(`GET /metrics answered ${response.status}`);
  return { contentType: response.headers.get('content-type') ?? '', samples: parsePrometheus(await response.text()) };
}
