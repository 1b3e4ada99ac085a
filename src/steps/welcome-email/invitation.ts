/**
 * The words of the welcome email: a short invitation to the customer's first
 * administrator. Every value a person typed is escaped in the HTML version, so
 * a company called "<Acme & Sons>" reads as written and injects nothing.
 */

export type Invitation = {
  companyName: string;
  tenantUrl: string;
  adminName?: string | undefined;
  signInUrl?: string | undefined;
};

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch] ?? ch);
}

/** Headers are one line: a stray line break in a typed name must not start a new header. */
function oneLine(value: string): string {
  return value.replace(/\s+/g, ' ').trim();
}

export function invitationSubject(inv: Invitation): string {
  return `Your ${oneLine(inv.companyName)} workspace is ready`;
}

export function invitationText(inv: Invitation): string {
  const signIn = inv.signInUrl ?? inv.tenantUrl;
  return [
    `Hi ${inv.adminName ?? 'there'},`,
    '',
    `Your ${inv.companyName} workspace is ready at ${inv.tenantUrl}`,
    '',
    `Sign in here to get started: ${signIn}`,
    '',
    'You are its first administrator, so once you are in you can invite your colleagues.',
    'If you were not expecting this email, you can safely ignore it.',
    '',
    'Welcome aboard,',
    'The onboarding team',
  ].join('\n');
}

export function invitationHtml(inv: Invitation): string {
  const name = escapeHtml(inv.adminName ?? 'there');
  const company = escapeHtml(inv.companyName);
  const tenantUrl = escapeHtml(inv.tenantUrl);
  const signIn = escapeHtml(inv.signInUrl ?? inv.tenantUrl);
  return [
    '<!doctype html>',
    '<html><body style="font-family: sans-serif; line-height: 1.5">',
    `<p>Hi ${name},</p>`,
    `<p>Your ${company} workspace is ready at <a href="${tenantUrl}">${tenantUrl}</a></p>`,
    `<p><a href="${signIn}">Sign in to get started</a></p>`,
    '<p>You are its first administrator, so once you are in you can invite your colleagues.<br>',
    'If you were not expecting this email, you can safely ignore it.</p>',
    '<p>Welcome aboard,<br>The onboarding team</p>',
    '</body></html>',
  ].join('\n');
}
