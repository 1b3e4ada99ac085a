/**
 * A KPI table as CSV (RFC 4180): raw numbers a spreadsheet can sum —
 * durations in seconds, shares from 0 to 1, times in ISO 8601 UTC — and text
 * that a spreadsheet will not run as a formula.
 */
import type { Cell, Column, KpiTable } from './kpi-tables.ts';

const UNIT: Readonly<Record<Column['kind'], string>> = { text: '', count: '', duration: ' (s)', share: ' (0-1)', time: ' (UTC)' };

/** A cell starting like a formula (=, +, -, @, tab, CR) is read as text by spreadsheets when it starts with a quote. */
function safeText(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

function field(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function value(cell: Cell, kind: Column['kind']): string {
  if (cell === undefined) return '';
  if (typeof cell === 'string') return field(safeText(cell));
  if (kind === 'duration') return String(Math.round(cell) / 1000);
  if (kind === 'share') return String(Math.round(cell * 10_000) / 10_000);
  if (kind === 'time') return new Date(cell).toISOString();
  return String(cell);
}

export function tableCsv(table: Pick<KpiTable, 'columns' | 'rows'>): string {
  const header = table.columns.map((c) => field(safeText(`${c.label}${UNIT[c.kind]}`)));
  const lines = table.rows.map((row) => table.columns.map((c, i) => value(row[i], c.kind)).join(','));
  return `${[header.join(','), ...lines].join('\r\n')}\r\n`;
}
