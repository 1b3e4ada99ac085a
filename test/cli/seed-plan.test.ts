import { describe, expect, it } from 'vitest';
import { seedPlanText } from '../../src/cli/seed-plan.ts';
import { loadConfig } from '../../src/config.ts';
import { realManifests } from '../slack/blocks/fixtures.ts';

describe('provisioner seed-plan', () => {
  const manifests = realManifests();
  const settings = loadConfig({}).tenant;

  it('refuses a plan named like a JavaScript property ("toString"), naming the plans there are', () => {
    for (const planId of ['toString', 'constructor', '__proto__']) {
      const { lines, ok } = seedPlanText(manifests, settings, planId, 'acme');
      expect(ok).toBe(false);
      expect(lines).toEqual([`Unknown plan "${planId}"; choose one of: starter, growth, enterprise`]);
    }
  });

  it('shows a real plan', () => {
    const { lines, ok } = seedPlanText(manifests, settings, 'starter', 'acme');
    expect(ok).toBe(true);
    expect(lines[0]).toBe('Dry run for tenant "acme" on the starter plan: nothing is written.');
  });
});
