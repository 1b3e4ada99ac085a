/**
 * The deals of a chaos run: a mix of plans like a sales quarter's. Starter
 * deals go straight through; growth deals at or above the deal-desk threshold
 * and every enterprise deal (dedicated database) wait for an approver. Names,
 * slugs, emails and opportunity ids are unique per run, so each resource can
 * be traced back to exactly one tenant.
 */
import { isoDay } from '../../src/domain/calendar.ts';

export type Deal = {
  companyName: string;
  slug: string;
  adminEmail: string;
  plan: 'starter' | 'growth' | 'enterprise';
  contractStartDate: string;
  contractValue: number;
  dataResidency: string;
  featureOverrides: Record<string, boolean>;
  crmOpportunityId: string;
  requestedBy: string;
};

/** A small seeded generator (mulberry32), so a run's deal mix can be repeated. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PLANS: readonly Deal['plan'][] = ['starter', 'starter', 'growth', 'growth', 'enterprise'];
const RESIDENCIES = ['us', 'us', 'eu', 'uk', 'au'];

export function dealsFor(run: string, count: number, random: () => number): Deal[] {
  const today = isoDay(new Date());
  return Array.from({ length: count }, (_, i): Deal => {
    const plan = PLANS[Math.floor(random() * PLANS.length)] ?? 'starter';
    const n = String(i).padStart(4, '0');
    // Growth deals straddle the 100,000 approval threshold.
    const contractValue = plan === 'starter' ? 9_000 : plan === 'growth' ? (random() < 0.5 ? 60_000 : 150_000) : 400_000;
    return {
      companyName: `Chaos ${run} Customer ${n}`,
      slug: `c${run}-${n}`,
      adminEmail: `admin.${n}@c${run}.example`,
      plan,
      contractStartDate: today,
      contractValue,
      dataResidency: plan === 'enterprise' ? (RESIDENCIES[Math.floor(random() * RESIDENCIES.length)] ?? 'us') : 'us',
      featureOverrides: plan === 'starter' && random() < 0.2 ? { audit_log: true } : {},
      crmOpportunityId: `006CHAOS${run}${n}`,
      requestedBy: 'chaos.ae',
    };
  });
}
