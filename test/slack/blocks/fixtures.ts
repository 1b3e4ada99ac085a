/** Jobs as the recorder would store them, and helpers to look inside rendered payloads. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JobView, StepView } from '../../../src/domain/job-view.ts';
import type { JobStatus, StepState } from '../../../src/domain/job.ts';
import { loadManifests, type Manifests } from '../../../src/manifests/load.ts';
import { stepTypes } from '../../../src/steps/registry.ts';
import { loadConfig } from '../../../src/config.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export function realManifests(): Manifests {
  return loadManifests({
    manifestsDir: path.join(repoRoot, 'manifests'),
    seedDir: path.join(repoRoot, 'seed-manifests'),
    stepTypes,
    sampleTenantSettings: loadConfig({}).tenant,
  });
}

export function step(id: string, state: StepState, extra: Partial<StepView> = {}): StepView {
  return { id, label: id.replace(/[_-]+/g, ' '), type: 'sandbox', criticality: 'blocking', state, needs: [], outputs: {}, ...extra };
}

export function job(opts: { status: JobStatus; steps: StepView[]; companyName?: string; slug?: string; seq?: number }): JobView {
  const slug = opts.slug ?? 'acme';
  const done = opts.steps.filter((s) => s.state === 'succeeded' || s.state === 'overridden' || s.state === 'compensated').length;
  return {
    jobId: `${slug}-3f9a1c0b2d`,
    status: opts.status,
    mode: opts.status === 'rolled_back' || opts.status === 'rollback_failed' || opts.status === 'rolling_back' ? 'rollback' : 'forward',
    seq: opts.seq ?? 17,
    tenant: {
      slug,
      companyName: opts.companyName ?? 'Acme Corp',
      planId: 'enterprise',
      tenantUrl: `https://${slug}.tenants.example.com`,
      dnsName: `${slug}.tenants.example.com`,
    },
    requestedBy: 'alice.ae',
    requestedAt: '2026-11-25T09:00:00.000Z',
    crmOpportunityId: '006ACME0001',
    progress: { done, total: opts.steps.length },
    steps: opts.steps,
  };
}

/** The demo pipeline, halfway: approval given, billing failed, the rest waiting. */
export function typicalSteps(): StepView[] {
  return [
    step('approval_gate', 'succeeded', { type: 'approval', durationMs: 40, approvedBy: 'sam.approver' }),
    step('database', 'succeeded', { durationMs: 1200 }),
    step('seed_data', 'succeeded', { durationMs: 800 }),
    step('dns', 'running'),
    step('secrets', 'succeeded', { durationMs: 300 }),
    step('sso', 'waiting_input', { waitingFor: "the customer's IdP metadata URL" }),
    step('feature_flags', 'succeeded', { durationMs: 90 }),
    step('billing', 'failed', { error: 'price_enterprise_annual: rejected by the billing provider (card declined)' }),
    step('welcome_email', 'pending', { criticality: 'notification' }),
    step('slack_notice', 'pending', { criticality: 'notification' }),
  ];
}

type Json = unknown;

/** Every string under a `text` key, anywhere in a payload: what Slack renders. */
export function allTexts(payload: Json): string[] {
  const out: string[] = [];
  const walk = (node: Json): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node !== null && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'text' && typeof value === 'string') out.push(value);
        else walk(value);
      }
    }
  };
  walk(payload);
  return out;
}

export type FoundButton = { action_id?: string; text: string; value?: string; style?: string; hasConfirm: boolean };

/** Every button element in a payload. */
export function buttons(payload: Json): FoundButton[] {
  const out: FoundButton[] = [];
  const walk = (node: Json): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node !== null && typeof node === 'object') {
      const entries = Object.fromEntries(Object.entries(node));
      if (entries['type'] === 'button') {
        const label = allTexts(entries['text'])[0] ?? '';
        out.push({
          text: label,
          hasConfirm: entries['confirm'] !== undefined,
          ...(typeof entries['action_id'] === 'string' ? { action_id: entries['action_id'] } : {}),
          ...(typeof entries['value'] === 'string' ? { value: entries['value'] } : {}),
          ...(typeof entries['style'] === 'string' ? { style: entries['style'] } : {}),
        });
      }
      Object.values(node).forEach(walk);
    }
  };
  walk(payload);
  return out;
}
