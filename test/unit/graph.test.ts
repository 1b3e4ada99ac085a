import { describe, it, expect } from 'vitest';
import {
  checkGraph,
  dependentsOf,
  levels,
  PipelineManifestSchema,
  PipelineStepSchema,
  RetryPolicySchema,
  StepIdSchema,
  topologicalOrder,
} from '../../src/domain/graph.ts';
import type { PipelineStep } from '../../src/domain/graph.ts';

type StepSketch = { id: string; needs?: string[]; criticality?: 'blocking' | 'notification' };

/** Steps as a platform engineer would write them, with the schema's defaults applied. */
function pipeline(...sketches: StepSketch[]): PipelineStep[] {
  return PipelineManifestSchema.parse({
    version: 1,
    steps: sketches.map((sketch) => ({ type: 'sandbox', ...sketch })),
  }).steps;
}

// The demo graph from manifests/pipeline.yaml, in the same order.
const demo = pipeline(
  { id: 'database' },
  { id: 'seed_data', needs: ['database'] },
  { id: 'dns' },
  { id: 'secrets', needs: ['database'] },
  { id: 'sso', needs: ['secrets'] },
  { id: 'feature_flags', needs: ['database'] },
  { id: 'billing', needs: ['feature_flags'] },
  { id: 'welcome_email', needs: ['sso', 'dns', 'billing'], criticality: 'notification' },
  { id: 'slack_notice', needs: ['dns', 'billing', 'seed_data'], criticality: 'notification' },
  { id: 'cs_record', needs: ['billing'], criticality: 'notification' },
);

describe('a platform engineer declares a step with only an id and a type', () => {
  it('gets blocking criticality, three exponential attempts and the default time limits', () => {
    expect(PipelineStepSchema.parse({ id: 'dns', type: 'sandbox' })).toEqual({
      id: 'dns',
      type: 'sandbox',
      needs: [],
      criticality: 'blocking',
      retry: { attempts: 3, backoff: { type: 'exponential', delayMs: 1000, jitter: 0.5 } },
      timeoutMs: 30_000,
      pollTimeoutMs: 600_000,
      config: {},
    });
  });

  it('can change one backoff field and keep the other defaults', () => {
    expect(RetryPolicySchema.parse({ attempts: 5, backoff: { type: 'fixed' } })).toEqual({
      attempts: 5,
      backoff: { type: 'fixed', delayMs: 1000, jitter: 0.5 },
    });
  });

  it.each([
    [{ attempts: 0 }, ['attempts']],
    [{ attempts: 21 }, ['attempts']],
    [{ attempts: 2.5 }, ['attempts']],
    [{ backoff: { jitter: 1.5 } }, ['backoff', 'jitter']],
    [{ backoff: { delayMs: -1 } }, ['backoff', 'delayMs']],
    [{ backoff: { type: 'linear' } }, ['backoff', 'type']],
    [{ tries: 3 }, []],
  ])('rejects the retry policy %j at %j', (policy, path) => {
    const result = RetryPolicySchema.safeParse(policy);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(path);
  });

  it('may not set a zero timeout or a misspelt field', () => {
    expect(PipelineStepSchema.safeParse({ id: 'dns', type: 'sandbox', timeoutMs: 0 }).error?.issues[0]?.path).toEqual(['timeoutMs']);
    expect(PipelineStepSchema.safeParse({ id: 'dns', type: 'sandbox', pollTimeoutMs: 0 }).error?.issues[0]?.path).toEqual(['pollTimeoutMs']);
    expect(PipelineStepSchema.safeParse({ id: 'dns', type: 'sandbox', neeeds: ['x'] }).error?.issues[0]).toMatchObject({
      code: 'unrecognized_keys',
      keys: ['neeeds'],
    });
  });

  it('may not ship an empty pipeline', () => {
    expect(PipelineManifestSchema.safeParse({ version: 1, steps: [] }).error?.issues[0]?.path).toEqual(['steps']);
  });
});

describe('step ids become database keys and job id parts', () => {
  it.each(['dns', 'feature_flags', 'welcome-email', 'a', 's3', 'a'.repeat(40)])('accepts %s', (id) => {
    expect(StepIdSchema.parse(id)).toBe(id);
  });

  it.each(['dns.primary', 'dns:primary', 'DNS', '3dns', '_dns', '', 'a'.repeat(41), 'dns record'])('rejects %j with a hint', (id) => {
    expect(StepIdSchema.safeParse(id).error?.issues[0]?.message).toBe(
      'Step ids are lowercase letters, digits, "_" and "-", at most 40 characters, starting with a letter (e.g. feature_flags)',
    );
  });
});

describe('checkGraph: loading refuses graphs the engine could not run', () => {
  it('finds nothing wrong with the demo graph', () => {
    expect(checkGraph(demo)).toEqual([]);
  });

  it('a platform engineer copies a step and forgets to rename it', () => {
    expect(checkGraph(pipeline({ id: 'database' }, { id: 'dns' }, { id: 'database' }))).toEqual([
      { path: ['steps', 2, 'id'], message: 'duplicate step id "database" (first used by steps[0])' },
    ]);
  });

  it('mistypes a need and sees every step id it could have meant', () => {
    expect(checkGraph(pipeline({ id: 'database' }, { id: 'dns' }, { id: 'secrets', needs: ['database'] }, { id: 'sso', needs: ['dnss'] }))).toEqual([
      { path: ['steps', 3, 'needs', 0], message: 'unknown step "dnss" (known: database, dns, secrets, sso)' },
    ]);
  });

  it('adds a step that needs itself', () => {
    expect(checkGraph(pipeline({ id: 'database' }, { id: 'dns', needs: ['database', 'dns'] }))).toEqual([
      { path: ['steps', 1, 'needs', 1], message: 'step "dns" needs itself; remove "dns" from its needs' },
    ]);
  });

  it('makes two steps need each other and the cycle is named in need order', () => {
    expect(checkGraph(pipeline({ id: 'dns', needs: ['secrets'] }, { id: 'secrets', needs: ['dns'] }))).toEqual([
      { path: ['steps', 1, 'needs', 0], message: 'cycle: dns → secrets → dns (each step needs the next; break one of these needs)' },
    ]);
  });

  it('closes a longer loop and is pointed at the need that closes it', () => {
    const steps = pipeline(
      { id: 'database', needs: ['billing'] },
      { id: 'feature_flags', needs: ['database'] },
      { id: 'billing', needs: ['feature_flags'] },
      { id: 'dns' },
    );
    expect(checkGraph(steps)).toEqual([
      {
        // feature_flags (steps[1]) needing database is the edge the walk found last.
        path: ['steps', 1, 'needs', 0],
        message: 'cycle: database → billing → feature_flags → database (each step needs the next; break one of these needs)',
      },
    ]);
  });

  it('makes billing wait for a notification step, which never blocks', () => {
    const steps = pipeline({ id: 'welcome_email', criticality: 'notification' }, { id: 'billing', needs: ['welcome_email'] });
    expect(checkGraph(steps)).toEqual([
      {
        path: ['steps', 1, 'needs', 0],
        message:
          'blocking step "billing" needs notification step "welcome_email"; notification steps never block, so nothing may wait on them (make "welcome_email" blocking or drop the need)',
      },
    ]);
  });

  it('may chain notification steps (a follow-up after the welcome email)', () => {
    const steps = pipeline(
      { id: 'welcome_email', criticality: 'notification' },
      { id: 'follow_up', needs: ['welcome_email'], criticality: 'notification' },
    );
    expect(checkGraph(steps)).toEqual([]);
  });

  it('reports every problem at once, in manifest order by rule', () => {
    const steps = pipeline({ id: 'dns', needs: ['secrets'] }, { id: 'secrets', needs: ['dns', 'vault'] }, { id: 'dns' });
    expect(checkGraph(steps).map((problem) => problem.message)).toEqual([
      'duplicate step id "dns" (first used by steps[0])',
      'unknown step "vault" (known: dns, secrets)',
      'cycle: dns → secrets → dns (each step needs the next; break one of these needs)',
    ]);
  });
});

describe('the engine walks the graph', () => {
  it('dependentsOf lists, for every step, the steps waiting on it', () => {
    expect(Object.fromEntries(dependentsOf(demo))).toEqual({
      database: ['seed_data', 'secrets', 'feature_flags'],
      seed_data: ['slack_notice'],
      dns: ['welcome_email', 'slack_notice'],
      secrets: ['sso'],
      sso: ['welcome_email'],
      feature_flags: ['billing'],
      billing: ['welcome_email', 'slack_notice', 'cs_record'],
      welcome_email: [],
      slack_notice: [],
      cs_record: [],
    });
  });

  it('topologicalOrder puts needs first and breaks ties by manifest order', () => {
    expect(topologicalOrder(demo)).toEqual([
      'database',
      'seed_data',
      'dns',
      'secrets',
      'sso',
      'feature_flags',
      'billing',
      'welcome_email',
      'slack_notice',
      'cs_record',
    ]);
    const declaredLate = pipeline({ id: 'billing', needs: ['database'] }, { id: 'dns' }, { id: 'database' });
    expect(topologicalOrder(declaredLate)).toEqual(['dns', 'database', 'billing']);
  });

  it('topologicalOrder refuses a cycle and says to run checkGraph', () => {
    expect(() => topologicalOrder(pipeline({ id: 'dns', needs: ['secrets'] }, { id: 'secrets', needs: ['dns'] }))).toThrow(
      'Cannot order steps dns, secrets: a step needs an unknown step, needs itself, is in a cycle or repeats an id; run checkGraph on the manifest first',
    );
  });

  it('levels shows which steps run in parallel', () => {
    expect(levels(demo)).toEqual([
      ['database', 'dns'],
      ['seed_data', 'secrets', 'feature_flags'],
      ['sso', 'billing'],
      ['welcome_email', 'slack_notice', 'cs_record'],
    ]);
  });
});
