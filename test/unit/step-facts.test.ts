/**
 * What a step type declares worth showing people once it is done (an id they
 * copy into another tool) travels with the job: the definition carries the
 * declaration, the job view the values, and no reader guesses from step names
 * or output keys.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { PipelineStep } from '../../src/domain/graph.ts';
import { parseIntake } from '../../src/domain/intake.ts';
import { buildJobDefinition, parseJobDefinition, type InputCatalogue } from '../../src/domain/job-definition.ts';
import { buildJobView, type StepDetails } from '../../src/domain/job-view.ts';
import type { StepSnapshot } from '../../src/domain/job.ts';
import { stepTypes } from '../../src/steps/registry.ts';
import { realManifests } from '../slack/blocks/fixtures.ts';
import { loadConfig } from '../../src/config.ts';

const deal = {
  companyName: 'Acme Corp',
  slug: 'acme',
  adminEmail: 'jane@acme.example',
  plan: 'starter',
  contractStartDate: '2026-12-01',
  contractValue: 10_000,
  dataResidency: 'us',
  crmOpportunityId: '006ACME0001',
  requestedBy: 'jane.ae',
};

function definitionWith(catalogue: InputCatalogue, pipeline: readonly PipelineStep[] = realManifests().pipeline.steps) {
  const manifests = realManifests();
  const parsed = parseIntake(deal, manifests.plans, new Date('2026-11-25T09:00:00Z'));
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  const plan = manifests.plans.plans[parsed.intake.plan];
  if (!plan) throw new Error('no starter plan');
  const built = buildJobDefinition({
    intake: parsed.intake,
    plan,
    planId: parsed.intake.plan,
    pipeline,
    settings: loadConfig({}).tenant,
    catalogue,
    now: new Date('2026-11-25T09:00:00Z'),
    residencyRegions: manifests.plans.residencyRegions,
  });
  if (!built.ok) throw new Error(JSON.stringify(built.problems));
  return built.definition;
}

function viewOf(definition: ReturnType<typeof definitionWith>, outputs: Record<string, Record<string, unknown>>) {
  const steps = new Map<string, StepSnapshot>(
    definition.steps.map((s) => [
      s.id,
      { id: s.id, state: 'succeeded', ticket: 1, remaining: 0, criticality: s.criticality, needs: s.needs, dependents: s.dependents },
    ]),
  );
  const details = new Map<string, StepDetails>(Object.entries(outputs).map(([id, o]) => [id, { outputs: o }]));
  return buildJobView(definition, { mode: 'forward', failedBlocking: 0, seq: 3, steps, details });
}

describe('facts a step type declares', () => {
  it('the billing step declares its Stripe customer; the job view shows it once billing has run', () => {
    const definition = definitionWith(stepTypes);
    // Stored (MongoDB, Redis) and read back: the declaration survives.
    const stored = parseJobDefinition(JSON.stringify(definition));
    const view = viewOf(stored, { billing: { customerId: 'cus_ACME123', subscriptionId: 'sub_9', httpStatus: 200 } });
    const billing = view.steps.find((s) => s.id === 'billing');
    expect(billing?.facts).toEqual([
      { label: 'Billing customer', value: 'cus_ACME123' },
      { label: 'Subscription', value: 'sub_9' },
    ]);
    expect(view.steps.filter((s) => s.id !== 'billing').every((s) => s.facts === undefined)).toBe(true);
  });

  it('follows the declaration, not the step name: a step type without one shows nothing', () => {
    const quiet: InputCatalogue = new Map([['sandbox', { input: z.unknown() }]]);
    const pipeline: PipelineStep[] = [
      {
        id: 'billing',
        type: 'sandbox',
        needs: [],
        criticality: 'blocking',
        retry: { attempts: 1, backoff: { type: 'fixed', delayMs: 0, jitter: 0 } },
        timeoutMs: 1000,
        pollTimeoutMs: 1000,
        config: {},
      },
    ];
    const view = viewOf(definitionWith(quiet, pipeline), { billing: { customerId: 'cus_GUESSED' } });
    expect(view.steps.find((s) => s.id === 'billing')?.facts).toBeUndefined();
  });
});
