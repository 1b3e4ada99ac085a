/**
 * The names this step gives things in Okta, derived from the tenant alone
 * so that every attempt, check and rollback finds the same resources even
 * when no outputs were recorded.
 */

export type SsoNames = {
  groupName: string;
  appLabel: string;
  idpName: string;
  /**
   * Written to the admin user's standard `userType` profile attribute when
   * this step creates the user: after a crash, it tells "we created this
   * person" apart from "this person already had an Okta account".
   */
  adminUserType: string;
};

// Okta caps app labels and IdP names at 100 characters; company names may be 120.
const COMPANY_CHARS = 55;

export function ssoNames(tenant: { tenantId: string; companyName: string }): SsoNames {
  const key = tenant.tenantId
    .replace(/^tnt_/, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  const company = tenant.companyName.trim().slice(0, COMPANY_CHARS).trim();
  return {
    groupName: `tenant-${key}-admins`,
    appLabel: `${company} (${tenant.tenantId})`,
    idpName: `${company} (${tenant.tenantId}) SAML IdP`,
    adminUserType: `Customer admin (${tenant.tenantId})`,
  };
}

/** "jane.doe@acme.com" → Jane / Doe: Okta requires both names, the intake only has the email. */
export function namesFromEmail(email: string): { firstName: string; lastName: string } {
  const local = email.split('@')[0] ?? email;
  const parts = local.split(/[._+-]+/).filter((part) => part.length > 0);
  const capitalised = parts.map((part) => part.charAt(0).toUpperCase() + part.slice(1));
  const [first = local, ...rest] = capitalised;
  return { firstName: first, lastName: rest.length > 0 ? rest.join(' ') : 'Admin' };
}
