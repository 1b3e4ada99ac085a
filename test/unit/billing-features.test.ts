/**
 * A platform engineer maps the billing providers' features onto our flags and
 * limits in manifests/billing-features.yaml; a name that plans.yaml does not
 * know stops the bot with the file, the path and the line.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { mapProviderFeatures } from '../../src/domain/billing-features.ts';
import { loadManifests, ManifestError } from '../../src/manifests/load.ts';
import { stepTypes } from '../../src/steps/registry.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const roots: string[] = [];
afterEach(() => {
  for (const dir of roots.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A copy of the real manifests with billing-features.yaml edited (or removed). */
function manifestsWith(edit: (text: string) => string | undefined) {
  const root = mkdtempSync(path.join(tmpdir(), 'billing-features-'));
  roots.push(root);
  const manifestsDir = path.join(root, 'manifests');
  cpSync(path.join(repoRoot, 'manifests'), manifestsDir, { recursive: true });
  const file = path.join(manifestsDir, 'billing-features.yaml');
  const edited = edit(readFileSync(file, 'utf8'));
  if (edited === undefined) rmSync(file);
  else writeFileSync(file, edited);
  return { manifestsDir, seedDir: path.join(repoRoot, 'seed-manifests'), stepTypes, sampleTenantSettings: loadConfig({}).tenant };
}

function problemsOf(load: () => unknown) {
  try {
    load();
  } catch (error) {
    if (error instanceof ManifestError) return error.problems.map((p) => `${path.basename(p.file)}: ${p.path}: ${p.message} (line ${p.line})`);
    throw error;
  }
  throw new Error('expected the manifests to be refused');
}

describe('the billing feature map at load', () => {
  it('loads the repository map: Stripe lookup keys and Bunny codes name real flags and limits', () => {
    const { billingFeatures } = loadManifests(manifestsWith((text) => text));
    expect(billingFeatures.stripe.features['sso']).toEqual({ flag: 'sso' });
    // Our prices are flat (quantity 1): no quantity sets a limit.
    expect(billingFeatures.stripe.quantityLimit).toBeUndefined();
    expect(billingFeatures.bunny.features['USERS']).toEqual({ limit: 'users' });
  });

  it('maps a Stripe feature to a flag plans.yaml lacks and a Bunny code to a made-up limit', () => {
    const dirs = manifestsWith((text) =>
      text.replace('sso: { flag: sso }', 'sso: { flag: sso_v2 }').replace('{ limit: storage_gb }', '{ limit: disk }'),
    );
    expect(problemsOf(() => loadManifests(dirs))).toEqual([
      'billing-features.yaml: stripe.features.sso.flag: unknown feature flag "sso_v2" (plans.yaml featureFlags has: sso, audit_log, api_access, custom_roles, data_export, sandbox_env, priority_support, advanced_analytics) (line 20)',
      'billing-features.yaml: bunny.features.STORAGE_GB.limit: unknown limit "disk" (plans.yaml tenantLimits has: users, storage_gb, api_calls_per_day) (line 40)',
    ]);
  });

  it('gives a Bunny code both a flag and a limit, and a Stripe feature a limit (Stripe features are on/off)', () => {
    const dirs = manifestsWith((text) =>
      text.replace('SSO: { flag: sso }', 'SSO: { flag: sso, limit: users }').replace('sandbox: { flag: sandbox_env }', 'sandbox: { limit: users }'),
    );
    expect(problemsOf(() => loadManifests(dirs))).toEqual([
      'billing-features.yaml: stripe.features.sandbox.flag: missing; expected a string (line 25)',
      'billing-features.yaml: stripe.features.sandbox.limit: unrecognized key "limit"; check its spelling and indentation (line 25)',
      'billing-features.yaml: bunny.features.SSO: name exactly one of flag (an on/off feature) or limit (a quantity) (line 31)',
    ]);
  });

  it('runs without the file: subscriptions then map onto plans only', () => {
    const { billingFeatures } = loadManifests(manifestsWith(() => undefined));
    expect(billingFeatures).toEqual({ version: 1, stripe: { features: {} }, bunny: { features: {} } });
  });
});

describe('a provider feature list as flags and limits', () => {
  const map = { SSO: { flag: 'sso' }, AUDIT: { flag: 'audit_log' }, USERS: { limit: 'users' }, STORAGE: { limit: 'storage_gb' } };

  it.each([
    {
      story: 'SSO on and 25 users',
      stated: [
        { code: 'SSO', enabled: true },
        { code: 'USERS', enabled: true, quantity: 25 },
      ],
      features: { sso: true, audit_log: false },
      limits: { users: 25 },
      unmapped: [],
    },
    {
      story: 'an empty list switches every mapped flag off and sets no limit',
      stated: [],
      features: { sso: false, audit_log: false },
      limits: {},
      unmapped: [],
    },
    {
      story: 'a disabled feature is off, a disabled quantity sets nothing, an unknown code is reported',
      stated: [
        { code: 'AUDIT', enabled: false },
        { code: 'STORAGE', enabled: false, quantity: 100 },
        { code: 'WHITE_LABEL', enabled: true },
      ],
      features: { sso: false, audit_log: false },
      limits: {},
      unmapped: ['WHITE_LABEL'],
    },
    {
      story: 'a code named like an object member is just unknown',
      stated: [{ code: 'constructor', enabled: true }],
      features: { sso: false, audit_log: false },
      limits: {},
      unmapped: ['constructor'],
    },
  ])('$story', ({ stated, features, limits, unmapped }) => {
    expect(mapProviderFeatures(stated, map)).toEqual({ features, limits, unmapped });
  });
});
