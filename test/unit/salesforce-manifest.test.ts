/**
 * manifests/salesforce.yaml, the Salesforce field map, is checked at load like
 * the other manifests: a missing field, a misspelt key, a plan or residency
 * plans.yaml does not have each stop the bot with the file, path and line.
 * Without the file, Salesforce is simply not configured.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument, type Document } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { loadManifests, ManifestError } from '../../src/manifests/load.ts';
import { stepTypes } from '../../src/steps/registry.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const realManifestsDir = path.join(repoRoot, 'manifests');
const seedDir = path.join(repoRoot, 'seed-manifests');

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The repository's manifests, with salesforce.yaml edited (or left out with `null`). */
function manifestsWith(salesforce: string | null): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'sf-manifests-'));
  dirs.push(dir);
  mkdirSync(dir, { recursive: true });
  for (const name of ['plans.yaml', 'pipeline.yaml']) copyFileSync(path.join(realManifestsDir, name), path.join(dir, name));
  if (salesforce !== null) writeFileSync(path.join(dir, 'salesforce.yaml'), salesforce);
  return dir;
}

function salesforceYamlWith(edit: (doc: Document) => void): string {
  const doc = parseDocument(readFileSync(path.join(realManifestsDir, 'salesforce.yaml'), 'utf8'));
  edit(doc);
  return doc.toString();
}

const load = (manifestsDir: string) => loadManifests({ manifestsDir, seedDir, stepTypes, sampleTenantSettings: loadConfig({}).tenant });

function problemsOf(manifestsDir: string): { file: string; path: string; message: string; line?: number }[] {
  try {
    load(manifestsDir);
  } catch (error) {
    if (error instanceof ManifestError) return [...error.problems];
    throw error;
  }
  throw new Error('expected loading to fail');
}

describe('the Salesforce field map', () => {
  it('in the repository maps the Opportunity fields and picklist values onto plans.yaml', () => {
    const { salesforce } = load(realManifestsDir);
    expect(salesforce).toEqual({
      version: 1,
      object: 'Opportunity',
      fields: {
        companyName: 'Account_Name__c',
        plan: 'Plan__c',
        adminEmail: 'Admin_Email__c',
        contractStartDate: 'CloseDate',
        contractValue: 'Amount',
        dataResidency: 'Data_Residency__c',
      },
      plans: { Starter: 'starter', Growth: 'growth', Enterprise: 'enterprise' },
      dataResidencies: { 'United States': 'us', 'European Union': 'eu', 'United Kingdom': 'uk', Australia: 'au' },
    });
  });

  it('is optional: without the file, Salesforce is not configured and everything else loads', () => {
    expect(load(manifestsWith(null)).salesforce).toBeUndefined();
  });

  it('names a plan id plans.yaml does not have, with its line', () => {
    const dir = manifestsWith(salesforceYamlWith((doc) => doc.setIn(['plans', 'Platinum'], 'platinum')));
    const problems = problemsOf(dir);
    expect(problems).toEqual([
      expect.objectContaining({
        path: 'plans.Platinum',
        message: 'unknown plan "platinum" (plans.yaml has: starter, growth, enterprise)',
        line: expect.any(Number),
      }),
    ]);
    expect(problems[0]?.file).toMatch(/salesforce\.yaml$/);
  });

  it('names a missing business field, a misspelt key and a field name Salesforce could not have', () => {
    const dir = manifestsWith(
      salesforceYamlWith((doc) => {
        doc.deleteIn(['fields', 'adminEmail']);
        doc.setIn(['fields', 'companyName'], 'Account Name');
        doc.setIn(['fields', 'contractVallue'], 'Amount');
      }),
    );
    const problems = problemsOf(dir).map((p) => `${p.path}: ${p.message}`);
    expect(problems).toEqual(
      expect.arrayContaining([
        'fields.adminEmail: missing; expected a string',
        'fields.companyName: a Salesforce field API name has letters, digits and "_" (at most 80), e.g. Plan__c',
        'fields.contractVallue: unrecognized key "contractVallue"; check its spelling and indentation',
      ]),
    );
    expect(problems).toHaveLength(3);
  });

  it('names a residency plans.yaml does not have, and residencies mapped for no field', () => {
    const unknownResidency = manifestsWith(salesforceYamlWith((doc) => doc.setIn(['dataResidencies', 'Japan'], 'jp')));
    expect(problemsOf(unknownResidency).map((p) => `${p.path}: ${p.message}`)).toEqual([
      'dataResidencies.Japan: unknown data residency "jp" (plans.yaml has: us, eu, uk, au)',
    ]);
    const noField = manifestsWith(salesforceYamlWith((doc) => doc.deleteIn(['fields', 'dataResidency'])));
    expect(problemsOf(noField).map((p) => p.path)).toEqual(['dataResidencies']);
  });

  it('maps Opportunity outbound messages only', () => {
    const dir = manifestsWith(salesforceYamlWith((doc) => doc.set('object', 'Lead')));
    expect(problemsOf(dir).map((p) => `${p.path}: ${p.message}`)).toEqual([
      'object: only Opportunity outbound messages are mapped: object must be Opportunity',
    ]);
  });
});
