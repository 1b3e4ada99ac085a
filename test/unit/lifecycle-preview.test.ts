/**
 * A lifecycle job (suspend, change plan, decommission, billing's
 * entitlements) shows on the admin page what it will change and where, like
 * a provisioning job: each lifecycle step type says its own part, from the
 * job's definition alone, touching nothing.
 */
import { describe, expect, it } from 'vitest';
import { previewDefinition } from '../../src/app/preview.ts';
import { loadConfig, placementOf } from '../../src/config.ts';
import { parseIntake } from '../../src/domain/intake.ts';
import { buildJobDefinition, type LifecycleRequest } from '../../src/domain/job-definition.ts';
import type { LifecycleKind } from '../../src/domain/job-kind.ts';
import { planNamed } from '../../src/domain/plan.ts';
import { plannedResources, previewLines, type JobPreview } from '../../src/domain/preview.ts';
import { stepTypes } from '../../src/steps/registry.ts';
import { realManifests } from '../slack/blocks/fixtures.ts';

const now = new Date('2026-11-25T09:00:00Z');
const config = loadConfig({ ROUTE53_HOSTED_ZONE_ID: 'Z0TENANTS', AWS_REGION: 'us-east-1', EXPORTS_DIR: '/var/exports' });
const manifests = realManifests();

/** The job the lifecycle service would build for Acme Corp, on the starter plan in the EU. */
function preview(kind: LifecycleKind, toPlan: string, details: Record<string, unknown>): JobPreview {
  const parsed = parseIntake(
    {
      companyName: 'Acme Corp',
      slug: 'acme',
      adminEmail: 'jane@acme.example',
      plan: 'starter',
      contractStartDate: '2026-12-01',
      contractValue: 12_000,
      dataResidency: 'eu',
      crmOpportunityId: '006ACME0001',
      requestedBy: 'Dana Ops',
    },
    manifests.plans,
    now,
  );
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  const plan = planNamed(manifests.plans, toPlan);
  const pipeline = manifests.lifecycle.get(kind);
  if (!plan || !pipeline) throw new Error(`no ${toPlan} plan or ${kind} pipeline`);
  const request: LifecycleRequest = { requestKey: 'r1', reason: 'asked', source: 'Dana Ops in Slack', fromPlan: 'starter', toPlan, details };
  const built = buildJobDefinition({
    intake: { ...parsed.intake, plan: toPlan },
    requester: { door: 'slack', id: 'U-dana' },
    plan,
    planId: toPlan,
    pipeline: pipeline.steps,
    settings: config.tenant,
    catalogue: stepTypes,
    now,
    residencyRegions: manifests.plans.residencyRegions,
    lifecycle: { kind, request, approvalReasons: [] },
  });
  if (!built.ok) throw new Error(JSON.stringify(built.problems));
  return previewDefinition(built.definition, { planners: stepTypes, placement: placementOf(config), manifests });
}

function summaryOf(p: JobPreview, stepId: string): string | undefined {
  return p.steps.find((step) => step.id === stepId)?.plan.summary;
}

describe('the preview of lifecycle jobs', () => {
  it('a suspension names the Okta app it deactivates, in the Okta org, and the status it records', () => {
    const p = preview('suspend', 'starter', {});
    // Starter has no SSO: nothing to block at Okta, and the plan says so instead of naming an app.
    expect(p.steps.map((step) => step.plan.summary).join('\n')).toMatch(/Leave sign-in to Acme Corp alone: the plan does not include SSO/);
    const growth = preview('suspend', 'growth', {});
    const [app] = plannedResources(growth).filter((r) => r.system === 'Okta');
    expect(app).toMatchObject({
      kind: 'app',
      place: placementOf(config).oktaOrg,
      settings: ['deactivated', expect.stringMatching(/^unassigned from /)],
    });
    expect(plannedResources(growth).filter((r) => r.kind === 'tenant record')).toEqual([
      expect.objectContaining({ system: 'MongoDB', name: 'acme', settings: ['event suspend'] }),
    ]);
  });

  it('a plan change names the new flags and limits, where they are written, and the Stripe price it moves to', () => {
    const p = preview('change_plan', 'growth', { fromPriceRef: 'price_starter_monthly' });
    const [record] = plannedResources(p).filter((r) => r.kind === 'configuration record');
    expect(record?.settings).toContain('limits: users 100, storage_gb 500, api_calls_per_day 100,000');
    expect(record?.settings).toContain('billing state: left as billing last said');
    expect(record?.place).toMatch(/^database /);
    const [item] = plannedResources(p).filter((r) => r.system === 'Stripe');
    expect(item?.settings[0]).toBe(`price price_starter_monthly → ${manifests.plans.plans['growth']?.billing.priceRef}`);
  });

  it('an upgrade to a plan with SSO says it sets SSO up in Okta unless it is there, which it keeps; a downgrade leaves Okta as it is', () => {
    const up = preview('change_plan', 'growth', { fromPriceRef: 'price_starter_monthly' });
    expect(summaryOf(up, 'sso')).toBe(
      'Set up Okta single sign-on for Acme Corp, admin jane@acme.example, unless it is already there: what is there is reused and kept',
    );
    const okta = plannedResources(up).filter((r) => r.system === 'Okta');
    expect(okta.map((r) => r.kind)).toEqual(['group', 'user', 'OIDC app']);
    expect(okta.find((r) => r.kind === 'OIDC app')?.unknown).toContain(
      'created only if missing: one already in Okta is reused and kept, even if this job is rolled back',
    );
    const down = preview('change_plan', 'starter', { fromPriceRef: 'price_growth_annual' });
    expect(summaryOf(down, 'sso')).toBe(
      'Leave Okta as it is for Acme Corp: the plan does not include SSO; a single sign-on setup already there is kept, with its people',
    );
    expect(plannedResources(down).filter((r) => r.system === 'Okta')).toEqual([]);
  });

  it('a decommissioning says how long the grace period is, where the export goes and what removes the rest', () => {
    const p = preview('decommission', 'starter', { provisioningJobId: 'acme-0123456789' });
    expect(previewLines(p).join('\n')).toMatch(/after a grace period of 14 days, reminding in the thread every 1 day/);
    const [archive] = plannedResources(p).filter((r) => r.kind === 'archive');
    expect(archive).toMatchObject({ place: '/var/exports', namedAtCreation: true });
    expect(summaryOf(p, 'teardown')).toMatch(/^Remove every resource acme-0123456789 provisioned, by its own rollback/);
  });

  it("billing's entitlements name the source, the state and the limits", () => {
    const p = preview('sync_entitlements', 'growth', {
      features: { sso: true },
      limits: { users: 40, storage_gb: 500, api_calls_per_day: 100_000 },
      billing: { source: 'stripe', state: 'active', planId: 'growth', payment: 'paid', eventKey: 'stripe:evt_1' },
    });
    expect(summaryOf(p, 'entitlements')).toBe(
      "Apply stripe's entitlements to tnt_acme: 1 flag on, limits users 40, storage_gb 500, api_calls_per_day 100,000",
    );
  });

  it('is worded as the change it is, not as provisioning', () => {
    const lines = previewLines(preview('suspend', 'starter', {}));
    expect(lines[0]).toBe('Preview: suspend Acme Corp (slug acme), on the starter plan, data in EU: nothing has been changed.');
    expect(lines[2]).toBe('Approval: not needed; the job starts at once.');
    expect(lines.join('\n')).not.toMatch(/provisioning starts|nothing has been created/);
  });

  it('is the same answer every time', () => {
    const details = { provisioningJobId: 'acme-0123456789' };
    expect(preview('decommission', 'starter', details)).toEqual(preview('decommission', 'starter', details));
  });
});
