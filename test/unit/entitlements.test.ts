/**
 * Billing events arrive duplicated and out of order; the tenant's billing
 * truth is the newest statement of each part, whatever the arrival order. The
 * entitlements follow the subscribed plan, the deal's overrides and the
 * provider's feature lists; drift compares them with what the tenant has.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { driftKey, driftLine, driftOf, hasDrift } from '../../src/domain/drift.ts';
import { billingTruth, entitlementsOf, type EntitlementsEvent, type PlanCatalogue } from '../../src/domain/entitlements.ts';

const catalogue: PlanCatalogue = {
  flags: ['sso', 'audit_log', 'api_access'],
  plan: (id) =>
    ({
      starter: { features: { sso: false, audit_log: false, api_access: true }, limits: { users: 10, storage_gb: 50 } },
      growth: { features: { sso: true, audit_log: true, api_access: true }, limits: { users: 100, storage_gb: 500 } },
    })[id],
};

let n = 0;
function event(at: number, parts: Partial<EntitlementsEvent>, rank = 0): EntitlementsEvent {
  n += 1;
  return {
    source: 'stripe',
    sourceEventId: `evt_${String(n).padStart(4, '0')}`,
    sourceType: 'customer.subscription.updated',
    tenant: { slug: 'acme' },
    version: { at, rank },
    facts: {},
    ...parts,
  };
}

const acme = { planId: 'starter', overrides: {} };

describe('billing truth from events in any order', () => {
  const created = event(1_000, { subscription: { id: 'sub_1', state: 'trialing', planId: 'starter' } });
  const upgraded = event(2_000, { subscription: { id: 'sub_1', state: 'active', planId: 'growth' } });
  const failed = event(2_500, { payment: 'failed' });
  const seats = event(3_000, { limits: { users: 40 } });
  const paid = event(4_000, { payment: 'paid' });
  const all = [created, upgraded, failed, seats, paid];

  it('keeps the newest statement of each part: the upgrade, the 40 seats and the payment', () => {
    const truth = billingTruth(all);
    expect(truth.subscription?.value).toEqual({ id: 'sub_1', state: 'active', planId: 'growth' });
    expect(truth.limits?.value).toEqual({ users: 40 });
    expect(truth.payment?.value).toBe('paid');
  });

  it('an older event arriving late never overwrites newer state', () => {
    const late = billingTruth([upgraded, paid, created, failed]);
    expect(late.subscription?.value.planId).toBe('growth');
    expect(late.payment?.value).toBe('paid');
  });

  it('folds every order and every duplication of the same events to the same truth', () => {
    const expected = billingTruth(all);
    fc.assert(
      fc.property(fc.shuffledSubarray([...all, ...all], { minLength: all.length * 2 }), (shuffled) => {
        expect(billingTruth(shuffled)).toEqual(expected);
      }),
    );
  });

  it('breaks a same-instant tie by rank: a cancellation stamped in the same second as an update wins', () => {
    const update = event(5_000, { subscription: { id: 'sub_1', state: 'active', planId: 'growth' } }, 1);
    const cancel = event(5_000, { subscription: { id: 'sub_1', state: 'canceled', planId: 'growth' } }, 9);
    expect(billingTruth([cancel, update]).subscription?.value.state).toBe('canceled');
    expect(billingTruth([update, cancel]).subscription?.value.state).toBe('canceled');
  });
});

describe('what billing pays for', () => {
  it.each([
    {
      story: 'no billing event yet: the tenant’s own plan',
      events: [],
      tenant: acme,
      flags: { sso: false, audit_log: false, api_access: true },
      limits: { users: 10, storage_gb: 50 },
    },
    {
      story: 'a subscription on growth: growth’s flags and limits',
      events: [event(1, { subscription: { id: 's', state: 'active', planId: 'growth' } })],
      tenant: acme,
      flags: { sso: true, audit_log: true, api_access: true },
      limits: { users: 100, storage_gb: 500 },
    },
    {
      story: 'a negotiated override stays paid; a feature list on top wins over both',
      events: [event(1, { features: { audit_log: true } })],
      tenant: { planId: 'starter', overrides: { sso: true } },
      flags: { sso: true, audit_log: true, api_access: true },
      limits: { users: 10, storage_gb: 50 },
    },
    {
      story: 'a seat quantity sets the users limit',
      events: [event(1, { limits: { users: 25 } })],
      tenant: acme,
      flags: { sso: false, audit_log: false, api_access: true },
      limits: { users: 25, storage_gb: 50 },
    },
    {
      story: 'a canceled subscription pays for no feature',
      events: [event(1, { subscription: { id: 's', state: 'canceled', planId: 'growth' } })],
      tenant: acme,
      flags: { sso: false, audit_log: false, api_access: false },
      limits: { users: 100, storage_gb: 500 },
    },
    {
      story: 'past due is still within dunning: the plan stays paid',
      events: [event(1, { subscription: { id: 's', state: 'past_due', planId: 'growth' } })],
      tenant: acme,
      flags: { sso: true, audit_log: true, api_access: true },
      limits: { users: 100, storage_gb: 500 },
    },
  ])('$story', ({ events, tenant, flags, limits }) => {
    expect(entitlementsOf(billingTruth(events), tenant, catalogue)).toMatchObject({ flags, limits });
  });
});

describe('drift between what is paid and what is applied', () => {
  const paid = { flags: { sso: true, audit_log: false, api_access: true }, limits: { users: 25, storage_gb: 50 } };

  it.each([
    {
      story: 'in step: no drift',
      applied: { flags: { sso: true, audit_log: false, api_access: true }, limits: { users: 25, storage_gb: 50 } },
      paidNotEnabled: [],
      enabledNotPaid: [],
    },
    {
      story: 'SSO paid but off, and 10 seats where 25 are paid',
      applied: { flags: { sso: false, audit_log: false, api_access: true }, limits: { users: 10, storage_gb: 50 } },
      paidNotEnabled: ['sso', 'users: pays for 25, has 10'],
      enabledNotPaid: [],
    },
    {
      story: 'audit log on without paying, more storage than sold, and a limit nobody sells',
      applied: { flags: { sso: true, audit_log: true, api_access: true }, limits: { users: 25, storage_gb: 80, api_calls_per_day: 5 } },
      paidNotEnabled: [],
      enabledNotPaid: ['audit_log', 'api_calls_per_day: pays for none, has 5', 'storage_gb: pays for 50, has 80'],
    },
    {
      story: 'a flag missing from the record and a hand-typed "yes" are not on; a paid limit never set is missing',
      applied: { flags: { sso: 'yes', custom_roles: true }, limits: { storage_gb: 50 } },
      paidNotEnabled: ['api_access', 'sso', 'users: pays for 25, has none set'],
      enabledNotPaid: ['custom_roles'],
    },
  ])('$story', ({ applied, paidNotEnabled, enabledNotPaid }) => {
    const drift = driftOf(applied, paid);
    expect({ paid: drift.paidNotEnabled.map(driftLine), enabled: drift.enabledNotPaid.map(driftLine) }).toEqual({
      paid: paidNotEnabled,
      enabled: enabledNotPaid,
    });
    expect(hasDrift(drift)).toBe(paidNotEnabled.length + enabledNotPaid.length > 0);
  });

  it('gives the same drift the same key and a changed drift another', () => {
    const a = driftOf({ flags: { sso: false }, limits: {} }, paid);
    const b = driftOf({ flags: { sso: false }, limits: {} }, paid);
    const c = driftOf({ flags: { sso: true }, limits: {} }, paid);
    expect(driftKey(a)).toBe(driftKey(b));
    expect(driftKey(a)).not.toBe(driftKey(c));
  });
});
