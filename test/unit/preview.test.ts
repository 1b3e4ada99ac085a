/**
 * Before pressing Submit, an account executive (or an engineer at the CLI)
 * sees what the job will create, where, with which settings, who must approve
 * and what will wait for the customer. Each step type says its own part; the
 * preview composes them along the graph, and nothing is touched to say it.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { previewRequest } from '../../src/app/preview.ts';
import { loadConfig, placementOf } from '../../src/config.ts';
import { InvalidInputError } from '../../src/domain/errors.ts';
import { plannedResources, previewLines, type JobPreview } from '../../src/domain/preview.ts';
import type { PipelineStep } from '../../src/domain/graph.ts';
import { defineStep } from '../../src/steps/step.ts';
import { stepTypes } from '../../src/steps/registry.ts';
import { realManifests } from '../slack/blocks/fixtures.ts';

const now = new Date('2026-11-25T09:00:00Z');
const config = loadConfig({ ROUTE53_HOSTED_ZONE_ID: 'Z0TENANTS', AWS_REGION: 'us-east-1' });
const who = { door: 'cli' as const, id: 'dana', name: 'Dana Ops' };

function deal(overrides: Record<string, unknown> = {}) {
  return {
    companyName: 'Acme Corp',
    slug: 'acme',
    adminEmail: 'jane@acme.example',
    plan: 'enterprise',
    contractStartDate: '2026-12-01',
    contractValue: 250_000,
    dataResidency: 'eu',
    crmOpportunityId: '006ACME0001',
    ...overrides,
  };
}

function preview(raw: unknown, pipeline?: readonly PipelineStep[]): JobPreview {
  const manifests = realManifests();
  const withPipeline = pipeline ? { ...manifests, pipeline: { ...manifests.pipeline, steps: [...pipeline] } } : manifests;
  return previewRequest(raw, who, {
    manifests: withPipeline,
    settings: config.tenant,
    catalogue: stepTypes,
    planners: stepTypes,
    placement: placementOf(config),
    now,
  });
}

function resource(p: JobPreview, system: string, kind: string) {
  return plannedResources(p).filter((r) => r.system === system && r.kind === kind);
}

describe('the preview of an enterprise deal in the EU', () => {
  const p = preview(deal());

  it('names who must approve before anything runs, and puts the gate first', () => {
    expect(p.approvalReasons).toEqual(['Plan uses a dedicated database', 'Custom data residency: eu']);
    expect(p.steps[0]?.id).toBe('approval_gate');
    expect(p.steps[0]?.plan.approvalReasons).toEqual(p.approvalReasons);
  });

  it('lists the steps in the order the graph runs them', () => {
    const order = p.steps.map((s) => s.id);
    for (const step of p.steps) for (const need of step.needs) expect(order.indexOf(need)).toBeLessThan(order.indexOf(step.id));
  });

  it('names the dedicated database, its collections and the seed records', () => {
    expect(resource(p, 'MongoDB', 'database')).toEqual([expect.objectContaining({ name: 'tenant_acme', settings: ['dedicated to this tenant'] })]);
    expect(resource(p, 'MongoDB', 'collection').map((r) => r.name)).toEqual([
      'roles',
      'permission_sets',
      'workflow_templates',
      'reference_data',
      'tenant_config',
    ]);
    expect(p.steps.find((s) => s.id === 'seed_data')?.plan.summary).toBe('Load 13 seed records from seed 2026.11.0 into tenant_acme');
  });

  it('names the DNS record in its zone, the secret in its region and the Okta objects, saying what is assigned later', () => {
    expect(resource(p, 'Route 53', 'CNAME record')).toEqual([
      expect.objectContaining({ name: 'acme.tenants.example.com', place: 'hosted zone Z0TENANTS (tenants.example.com)' }),
      expect.objectContaining({ name: 'ACM validation record for acme.tenants.example.com', namedAtCreation: true, stepId: 'certificate' }),
    ]);
    expect(resource(p, 'AWS Secrets Manager', 'secret')).toEqual([
      expect.objectContaining({ name: 'tenants/acme', place: 'eu-west-1', unknown: ['ARN: assigned at creation'] }),
    ]);
    const app = resource(p, 'Okta', 'OIDC app')[0];
    expect(app?.name).toBe('Acme Corp (tnt_acme)');
    expect(app?.unknown).toEqual(['app id and client id: assigned at creation']);
  });

  it('says what the subscription costs and when billing starts', () => {
    const billing = p.steps.find((s) => s.id === 'billing')?.plan.summary;
    expect(billing).toBe('Bill Acme Corp in Stripe on price_enterprise_annual, contract value 250,000, billing starts 2026-12-01');
  });

  it('reads as plain language, line by line', () => {
    const lines = previewLines(p);
    expect(lines[0]).toBe('Preview for Acme Corp (slug acme) on the enterprise plan, data in EU: nothing has been created.');
    expect(lines).toContain('Approval needed before anything runs: Plan uses a dedicated database; Custom data residency: eu.');
    expect(lines).toContain(
      '  + Route 53 CNAME record acme.tenants.example.com in hosted zone Z0TENANTS (tenants.example.com) (→ edge.tenants.example.com; TTL 300 s)',
    );
  });
});

describe('the preview of other deals', () => {
  it('a starter deal in the US needs no approval, shares the database and skips SSO', () => {
    const p = preview(deal({ plan: 'starter', dataResidency: 'us', contractValue: 5_000 }));
    expect(p.approvalReasons).toEqual([]);
    expect(p.steps.some((s) => s.type === 'approval')).toBe(false);
    expect(resource(p, 'MongoDB', 'database')).toEqual([]);
    expect(resource(p, 'MongoDB', 'collection').every((r) => r.place === 'database tenants_shared' && r.name.startsWith('tnt_acme'))).toBe(true);
    expect(p.steps.find((s) => s.id === 'sso')?.plan).toEqual({
      summary: 'Skip single sign-on for Acme Corp: the plan does not include SSO',
      resources: [],
    });
    expect(p.steps.find((s) => s.id === 'billing')?.plan.summary).toContain('billing starts 2026-12-15');
  });

  it('the data residency moves the secret, the bucket and the certificate to its region', () => {
    for (const [residency, region] of [
      ['us', 'us-east-1'],
      ['eu', 'eu-west-1'],
      ['uk', 'eu-west-2'],
      ['au', 'ap-southeast-2'],
    ]) {
      const p = preview(deal({ plan: 'growth', dataResidency: residency, contractValue: 5_000 }));
      expect(resource(p, 'AWS S3', 'bucket')).toEqual([expect.objectContaining({ name: `provisioner-local-acme-${region}`, place: region })]);
      expect(resource(p, 'AWS ACM', 'certificate')).toEqual([expect.objectContaining({ name: 'acme.tenants.example.com', place: region })]);
      expect(resource(p, 'AWS Secrets Manager', 'secret')[0]?.place).toBe(region);
    }
  });

  it('the plan decides the bucket history', () => {
    const settings = (plan: string) => resource(preview(deal({ plan, dataResidency: 'us', contractValue: 5_000 })), 'AWS S3', 'bucket')[0]?.settings;
    expect(settings('starter')).toContain('versioning off');
    expect(settings('growth')).toEqual(expect.arrayContaining(['versioning on', 'replaced versions expire after 30 days']));
  });

  it('a negotiated override shows in the flags the tenant gets', () => {
    const p = preview(deal({ plan: 'starter', dataResidency: 'us', featureOverrides: { sso: true, audit_log: true } }));
    expect(resource(p, 'MongoDB', 'configuration record')[0]?.settings[0]).toBe('on: api_access, audit_log, data_export, sso');
    expect(resource(p, 'Okta', 'group').map((r) => r.name)).toEqual(['tenant-acme-admins']);
  });

  it("a step that waits for the customer's metadata says so up front", () => {
    const pipeline = realManifests().pipeline.steps.map((s) => (s.id === 'sso' ? { ...s, config: { ...s.config, mode: 'customer_idp' } } : s));
    const p = preview(deal(), pipeline);
    expect(p.waitsForCustomer).toEqual([{ stepId: 'sso', what: "the SAML metadata of Acme Corp's identity provider" }]);
    expect(previewLines(p)).toContain("Will wait for the customer at sso: the SAML metadata of Acme Corp's identity provider.");
  });

  it('bad input is refused as provision refuses it, naming the field', () => {
    expect(() => preview(deal({ dataResidency: 'mars' }))).toThrow(InvalidInputError);
    try {
      preview(deal({ dataResidency: 'mars', adminEmail: 'nope' }));
    } catch (err) {
      expect(err instanceof InvalidInputError ? err.problems.map((p) => p.field).sort() : []).toEqual(['adminEmail', 'dataResidency']);
    }
  });

  it('is the same answer every time (nothing in it depends on the clock or on a system)', () => {
    expect(preview(deal())).toEqual(preview(deal()));
  });
});

describe('the step contract', () => {
  it('a step type without a plan does not compile', () => {
    const input = z.strictObject({});
    // @ts-expect-error plan is required: every step type says what it will do before it runs
    const planless = defineStep({
      type: 'planless',
      description: 'no plan',
      input,
      run: async () => ({ status: 'done' }),
      check: async () => ({ status: 'done' }),
      rollback: async () => {},
      describe: () => 'done',
    });
    expect(planless.type).toBe('planless');
  });
});
