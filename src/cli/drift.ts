/** `provisioner drift [slug]`: what tenants pay for against what they have, as lines for a terminal. */
import type { DriftReport } from '../app/billing.ts';
import { driftLine, hasDrift } from '../domain/drift.ts';

export function driftText(reports: readonly DriftReport[], asked: string | undefined): string[] {
  if (reports.length === 0) return [asked ? `${asked} has what billing pays for: no drift.` : 'No tenant drifts from what billing pays for.'];
  const lines: string[] = [];
  for (const report of reports) {
    if (!hasDrift(report.drift)) {
      lines.push(`${report.slug} (${report.companyName}) has what billing pays for: no drift.`);
      continue;
    }
    lines.push(`${report.slug} (${report.companyName})`);
    if (report.drift.paidNotEnabled.length > 0) {
      lines.push('  Paid but not enabled (lost value, churn risk):');
      for (const item of report.drift.paidNotEnabled) lines.push(`    ${driftLine(item)}`);
    }
    if (report.drift.enabledNotPaid.length > 0) {
      lines.push('  Enabled but not paid (an upsell the account team may not know about):');
      for (const item of report.drift.enabledNotPaid) lines.push(`    ${driftLine(item)}`);
    }
  }
  return lines;
}
