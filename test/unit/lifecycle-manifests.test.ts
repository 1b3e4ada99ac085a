/**
 * The lifecycle pipelines (manifests/lifecycle/<kind>.yaml) are checked at
 * startup like pipeline.yaml: their shape, their step types, every config
 * against every plan, and the rules of each kind.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { LIFECYCLE_KINDS } from '../../src/domain/job-kind.ts';
import { loadManifests, ManifestError } from '../../src/manifests/load.ts';
import { stepTypes } from '../../src/steps/registry.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const seedDir = path.join(repoRoot, 'seed-manifests');
const sampleTenantSettings = loadConfig({}).tenant;

const copies: string[] = [];
afterEach(() => {
  for (const dir of copies.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A copy of the repository's manifests with some lifecycle files written over. */
function manifestsWith(lifecycle: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'lifecycle-'));
  copies.push(dir);
  cpSync(path.join(repoRoot, 'manifests'), dir, { recursive: true });
  for (const [name, text] of Object.entries(lifecycle)) writeFileSync(path.join(dir, 'lifecycle', name), text);
  return dir;
}

function problemsOf(manifestsDir: string): string[] {
  try {
    loadManifests({ manifestsDir, seedDir, stepTypes, sampleTenantSettings });
  } catch (error) {
    if (error instanceof ManifestError) return error.problems.map((p) => `${path.basename(p.file)}: ${p.path}: ${p.message}`);
    throw error;
  }
  return [];
}

describe('lifecycle manifests', () => {
  it('loads a pipeline for every lifecycle kind from the repository', () => {
    const manifests = loadManifests({ manifestsDir: path.join(repoRoot, 'manifests'), seedDir, stepTypes, sampleTenantSettings });
    expect([...manifests.lifecycle.keys()].sort()).toEqual([...LIFECYCLE_KINDS].sort());
    expect(manifests.lifecycle.get('decommission')?.approval.always).toBe(true);
  });

  it('refuses a decommissioning pipeline that does not always ask for approval', () => {
    const dir = manifestsWith({
      'decommission.yaml': 'version: 1\nsteps:\n  - id: gone\n    type: tenant_status\n    config: { slug: "${tenant.slug}", event: decommission }\n',
    });
    expect(problemsOf(dir)).toEqual([
      'decommission.yaml: approval.always: decommissioning deletes a customer’s data, so it always needs approval: set always: true',
    ]);
  });

  it('refuses a file named after no lifecycle kind, an unknown step type, and a reference to nothing', () => {
    const dir = manifestsWith({
      'hibernate.yaml': 'version: 1\nsteps: []\n',
      'suspend.yaml':
        'version: 1\nsteps:\n  - id: block\n    type: okta_block\n  - id: status\n    type: tenant_status\n    config: { slug: "${request.slug}", event: suspend }\n',
    });
    const problems = problemsOf(dir);
    expect(problems).toContain(
      'hibernate.yaml: : "hibernate" is not a lifecycle kind; name the file one of: change_plan, suspend, reactivate, decommission, sync_entitlements',
    );
    expect(problems.some((p) => p.startsWith('suspend.yaml: steps[0].type: unknown step type "okta_block"'))).toBe(true);
    expect(problems.some((p) => p.startsWith('suspend.yaml: steps[1].config.slug: unknown reference ${request.slug}'))).toBe(true);
  });

  it('refuses ${request.…} in the provisioning pipeline, where there is no request', () => {
    const dir = manifestsWith({});
    writeFileSync(
      path.join(dir, 'pipeline.yaml'),
      'version: 1\nsteps:\n  - id: status\n    type: tenant_status\n    config: { slug: "${request.reason}", event: suspend }\n',
    );
    expect(problemsOf(dir)).toEqual([
      'pipeline.yaml: steps[0].config.slug: reference ${request.reason} must start with intake., tenant., plan. or settings. (e.g. ${tenant.dnsName})',
    ]);
  });
});
