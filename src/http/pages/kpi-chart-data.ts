/**
 * What the page's script hands Chart.js for one KPI table: the first column
 * as labels, the chosen columns as datasets, durations in one unit per axis
 * (seconds, minutes, hours or days, whichever reads best), shares in percent.
 */
import type { Cell, Column, KpiTable } from './kpi-tables.ts';

export type Axis = { title: string };
export type ChartData = {
  name: string;
  type: 'bar' | 'line';
  horizontal: boolean;
  labels: string[];
  datasets: { label: string; data: (number | null)[]; axis: 'left' | 'right' }[];
  axes: { left: Axis; right?: Axis };
};

const UNITS = [
  { title: 'seconds', ms: 1000, upTo: 120_000 },
  { title: 'minutes', ms: 60_000, upTo: 7_200_000 },
  { title: 'hours', ms: 3_600_000, upTo: 172_800_000 },
  { title: 'days', ms: 86_400_000, upTo: Number.POSITIVE_INFINITY },
] as const;

function scale(kind: Column['kind'], values: readonly Cell[]): { title: string; of(n: number): number } {
  if (kind === 'share') return { title: 'percent', of: (n) => Math.round(n * 1000) / 10 };
  if (kind !== 'duration') return { title: 'count', of: (n) => n };
  const largest = Math.max(0, ...values.filter((v): v is number => typeof v === 'number'));
  const unit = UNITS.find((u) => largest <= u.upTo) ?? UNITS[3];
  return { title: unit.title, of: (n) => Math.round((n / unit.ms) * 100) / 100 };
}

export function chartData(table: KpiTable): ChartData {
  const rows = table.rows.slice(0, table.pageRows ?? table.rows.length);
  const column = (i: number) => rows.map((r) => r[i]);
  const axes: ChartData['axes'] = { left: { title: '' } };
  const datasets = table.chart.series.map((s) => {
    const kind = table.columns[s.column]?.kind ?? 'count';
    const axis = s.axis ?? 'left';
    // One unit per axis: the largest value of every series on it decides.
    const onAxis = table.chart.series.filter((o) => (o.axis ?? 'left') === axis).flatMap((o) => column(o.column));
    const unit = scale(kind, onAxis);
    axes[axis] = { title: unit.title };
    const data = column(s.column).map((v) => (typeof v === 'number' ? unit.of(v) : null));
    return { label: table.columns[s.column]?.label ?? '', data, axis };
  });
  return {
    name: table.name,
    type: table.chart.type,
    horizontal: table.chart.horizontal === true,
    labels: column(0).map((v) => (v === undefined ? '' : String(v))),
    datasets,
    axes,
  };
}
