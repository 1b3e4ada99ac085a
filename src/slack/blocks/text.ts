/**
 * Text for Slack surfaces: the pure mrkdwn rules (escaping, truncation,
 * limits) live on the domain floor, shared with steps that post to Slack;
 * what only Block Kit messages use (dates, the audit pointer) lives here.
 */
export { code, escapeMrkdwn, LIMITS, literal, packLines, truncate } from '../../domain/mrkdwn.ts';

/**
 * A time every reader sees in their own time zone; the fallback (UTC) shows
 * where Slack cannot format it.
 */
export function slackTime(epochMs: number): string {
  const seconds = Math.floor(epochMs / 1000);
  const fallback = `${new Date(epochMs).toISOString().slice(11, 16)} UTC`;
  return `<!date^${seconds}^{time}|${fallback}>`;
}

/** "/provision audit acme": accepts the full command, or just the slash command. */
export function auditCommandFor(slug: string, auditCommand: string = '/provision'): string {
  const trimmed = auditCommand.trim();
  return /\s/.test(trimmed) ? trimmed : `${trimmed} audit ${slug}`;
}
