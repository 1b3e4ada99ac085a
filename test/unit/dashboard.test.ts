/**
 * The Grafana dashboard in ops/grafana queries the provisioner's metrics by
 * name. Renaming a metric or a label without the dashboard would leave an
 * empty panel nobody notices until an incident: this fails first.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PrometheusMetrics, SERIES } from '../../src/adapters/metrics.ts';

const DASHBOARD = resolve(import.meta.dirname, '../../ops/grafana/provisioner-dashboard.json');
/** Labels Prometheus adds to every series, and a histogram's bucket label. */
const ALWAYS = new Set(['instance', 'job', 'le']);
const METRIC = /\b((?:provisioner|nodejs|process)_[a-z0-9_]+)\b(\{[^}]*\})?/g;
const BY = /\bby \(([^)]*)\)/g;

type Panel = { title?: string; type?: string; targets?: { expr?: string }[] };

function queries(): { panel: string; expr: string }[] {
  const dashboard: { panels?: Panel[] } = JSON.parse(readFileSync(DASHBOARD, 'utf8'));
  return (dashboard.panels ?? []).flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title ?? '?', expr: t.expr ?? '' })));
}

/** A histogram is queried through its _bucket, _sum and _count series. */
function baseName(name: string, known: ReadonlySet<string>): string {
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return known.has(name) ? name : base;
}

describe('the Grafana dashboard', () => {
  const registered = new Set(new PrometheusMetrics().registry.getMetricsAsArray().map((m) => m.name));
  const ours = new Map<string, readonly string[]>(Object.values(SERIES).map((s) => [s.name, s.labelNames]));

  it('is valid JSON with panels, and queries only metrics this process registers', () => {
    const all = queries();
    expect(all.length).toBeGreaterThan(10);
    for (const { panel, expr } of all) {
      const names = [...expr.matchAll(METRIC)].map((m) => baseName(m[1] ?? '', registered));
      expect(names.length, `panel "${panel}" queries no metric`).toBeGreaterThan(0);
      for (const name of names) expect(registered.has(name), `panel "${panel}" queries ${name}`).toBe(true);
    }
  });

  it("uses only labels our metrics have, in selectors and in 'by' clauses", () => {
    for (const { panel, expr } of queries()) {
      const used = [...expr.matchAll(METRIC)].flatMap((m) => {
        const labels = ours.get(baseName(m[1] ?? '', registered));
        return labels ? [{ labels, selector: m[2] ?? '' }] : [];
      });
      const allowed = new Set([...ALWAYS, ...used.flatMap((u) => u.labels)]);
      const selected = used.flatMap((u) => [...u.selector.matchAll(/([a-z_]+)\s*(?:=~|!~|!=|=)/g)].map((m) => m[1] ?? ''));
      const grouped = [...expr.matchAll(BY)].flatMap((m) => (m[1] ?? '').split(',').map((l) => l.trim()));
      for (const label of [...selected, ...grouped]) expect(allowed.has(label), `panel "${panel}" uses label ${label}`).toBe(true);
    }
  });

  it('shows every metric of ours somewhere', () => {
    const shown = new Set(queries().flatMap(({ expr }) => [...expr.matchAll(METRIC)].map((m) => baseName(m[1] ?? '', registered))));
    for (const name of ours.keys()) expect(shown.has(name), name).toBe(true);
  });
});
