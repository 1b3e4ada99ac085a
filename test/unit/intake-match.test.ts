/**
 * A CRM opportunity names one deal. When it comes back, the service (and the
 * future HTTP API's 409) ask intakeDifferences whether it is the same deal
 * sent again or a different customer reusing the id.
 */
import { describe, expect, it } from 'vitest';
import { type Deal, intakeDifferences, opportunityTakenMessage } from '../../src/domain/intake-match.ts';

const acme: Deal = {
  companyName: 'Acme Corp',
  slug: 'acme',
  adminEmail: 'it-admin@acme.example',
  plan: 'growth',
  contractStartDate: '2026-12-01',
  contractValue: 120_000,
  dataResidency: 'us',
  featureOverrides: { sso: false },
  crmOpportunityId: '006ACME',
};
const growthFeatures = { sso: true, audit_log: true, api_access: true };

describe('the same opportunity sent twice', () => {
  it('is the same deal when every business fact matches, whoever sends it', () => {
    expect(intakeDifferences(acme, { ...acme })).toEqual([]);
    // requestedBy is not a business fact: it is not even compared.
    expect(intakeDifferences(acme, { ...acme, ...{ requestedBy: 'someone.else' } })).toEqual([]);
  });

  it('ignores case and spacing in the company name and the case of the email', () => {
    expect(intakeDifferences(acme, { ...acme, companyName: '  ACME   corp ', adminEmail: 'IT-Admin@ACME.example' })).toEqual([]);
  });

  it('reads a feature override that restates the plan default as no override', () => {
    expect(intakeDifferences(acme, { ...acme, featureOverrides: { sso: false, audit_log: true } }, growthFeatures)).toEqual([]);
    expect(intakeDifferences(acme, { ...acme, featureOverrides: {} }, growthFeatures)).toEqual(['featureOverrides']);
    expect(intakeDifferences(acme, { ...acme, featureOverrides: { sso: false, audit_log: false } }, growthFeatures)).toEqual(['featureOverrides']);
  });

  it('names every business field that differs, in reading order', () => {
    const globex: Deal = {
      companyName: 'Globex Inc',
      slug: 'globex',
      adminEmail: 'ops@globex.example',
      plan: 'enterprise',
      contractStartDate: '2027-01-01',
      contractValue: 120_000.01,
      dataResidency: 'eu',
      featureOverrides: { sso: true },
      crmOpportunityId: '006acme',
    };
    expect(intakeDifferences(acme, globex, growthFeatures)).toEqual([
      'companyName',
      'slug',
      'adminEmail',
      'plan',
      'contractStartDate',
      'contractValue',
      'dataResidency',
      'featureOverrides',
      'crmOpportunityId',
    ]);
  });
});

describe('the refusal', () => {
  it('names the tenant holding the opportunity and what differs, in words', () => {
    const holder = { slug: 'acme', companyName: 'Acme Corp', jobId: 'acme-1a2b3c4d5e' };
    expect(opportunityTakenMessage('006ACME', holder, ['companyName', 'slug', 'plan'])).toBe(
      'Opportunity 006ACME already belongs to tenant acme (Acme Corp, job acme-1a2b3c4d5e); this request differs in company name, slug and plan. ' +
        'Check the opportunity id, or send the same details to follow that job.',
    );
    expect(opportunityTakenMessage('006ACME', holder, ['adminEmail'])).toContain('differs in admin email.');
  });
});
