import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.ts';
import { loadManifests } from '../../../src/manifests/load.ts';
import { isLifecycleVerb, LIFECYCLE_BLOCKS, lifecycleAskedText, lifecycleModal, readLifecycleSubmission } from '../../../src/slack/blocks/index.ts';
import { stepTypes } from '../../../src/steps/registry.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const { plans } = loadManifests({
  manifestsDir: path.join(root, 'manifests'),
  seedDir: path.join(root, 'seed-manifests'),
  stepTypes,
  sampleTenantSettings: loadConfig({}).tenant,
});

const reason = (text: string) => ({ [LIFECYCLE_BLOCKS.reason.blockId]: { reason_input: { type: 'plain_text_input', value: text } } });
const plan = (id: string) => ({
  [LIFECYCLE_BLOCKS.plan.blockId]: {
    plan_select: { type: 'static_select', selected_option: { text: { type: 'plain_text' as const, text: id }, value: id } },
  },
});

describe('the lifecycle confirmation modal', () => {
  it('knows the verbs people type after /provision', () => {
    expect(['suspend', 'reactivate', 'upgrade', 'downgrade', 'decommission'].every(isLifecycleVerb)).toBe(true);
    expect(isLifecycleVerb('status')).toBe(false);
  });

  it('asks an upgrade for the plan to move to, with every plan on offer; a suspension only for a reason', () => {
    const upgrade = lifecycleModal({ verb: 'upgrade', slug: 'acme', channel: 'C1' }, plans);
    expect(upgrade.blocks.map((b) => b.block_id).filter(Boolean)).toEqual([LIFECYCLE_BLOCKS.reason.blockId, LIFECYCLE_BLOCKS.plan.blockId]);
    expect(JSON.stringify(upgrade.blocks)).toContain('"value":"growth"');
    const suspend = lifecycleModal({ verb: 'suspend', slug: 'acme', channel: 'C1' }, plans);
    expect(suspend.blocks.map((b) => b.block_id).filter(Boolean)).toEqual([LIFECYCLE_BLOCKS.reason.blockId]);
    expect(suspend.title.text).toBe('Suspend tenant');
  });

  it('reads back the verb, tenant, reason and plan, and names the missing fields', () => {
    const meta = lifecycleModal({ verb: 'downgrade', slug: 'acme', channel: 'C1' }, plans).private_metadata ?? '';
    expect(readLifecycleSubmission(meta, { ...reason(' renewal on starter '), ...plan('starter') })).toEqual({
      ok: true,
      meta: { verb: 'downgrade', slug: 'acme', channel: 'C1' },
      reason: 'renewal on starter',
      plan: 'starter',
    });
    expect(readLifecycleSubmission(meta, reason('ok'))).toEqual({
      ok: false,
      errors: {
        [LIFECYCLE_BLOCKS.reason.blockId]: 'Give a reason (it goes in the audit trail)',
        [LIFECYCLE_BLOCKS.plan.blockId]: 'Choose the plan to move to',
      },
    });
    expect(readLifecycleSubmission('{"verb":"explode","slug":"acme","channel":"C1"}', reason('why not'))).toBeUndefined();
    expect(readLifecycleSubmission('not json', reason('why not'))).toBeUndefined();
  });

  it('answers in plain words with the job', () => {
    expect(lifecycleAskedText('suspend', 'acme', 'acme-suspend-1', 'created')).toBe(
      'Asked to suspend acme: job acme-suspend-1. Its progress is posted in the onboarding channel.',
    );
    expect(lifecycleAskedText('suspend', 'acme', 'acme-suspend-1', 'existing')).toMatch(/^Already asked to suspend acme/);
  });
});
