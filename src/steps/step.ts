/**
 * The shape of a step type, after Backstage's scaffolder actions: an input
 * schema, run, check and rollback, and a plain sentence for the audit trail.
 * A new integration is one file that calls defineStep and one line in the
 * registry.
 */
import type { z } from 'zod';
import type { DerivedTenant } from '../domain/intake.ts';
import type { JobDefinition } from '../domain/job-definition.ts';
import type { RollbackPurpose } from '../domain/job.ts';
import type { StepPlan } from '../domain/preview.ts';
import type { ManifestFacts } from '../manifests/load.ts';
import type { SeedManifest } from '../manifests/seed.ts';
import type { Integration, Placement, StepServices } from '../ports/step-services.ts';

export type { PlannedResource, StepPlan } from '../domain/preview.ts';

export type Outputs = Record<string, unknown>;

export type StepContext<I> = {
  jobId: string;
  stepId: string;
  input: I;
  tenant: DerivedTenant;
  /** Same for every attempt and every re-delivery of this step of this job: pass it to APIs as their idempotency key. */
  idempotencyKey: string;
  /** 1 for the first try of this run. */
  attempt: number;
  /** Aborted when the step's timeout passes. */
  signal: AbortSignal;
  /** What an earlier run or poll of this step returned (for check and rollback). */
  outputs: Outputs;
  /** What a person supplied while the step waited for input. */
  providedInput: unknown;
  /** Who approved, when the step waited for approval. */
  approvedBy: string | undefined;
  /**
   * What a rollback is for (see RollbackPurpose): `undo` unless the job's rollback was started to
   * decommission its tenant. Only rollback reads it.
   */
  rollbackPurpose: RollbackPurpose;
  services: StepServices;
};

/** What a step's plan may know before anything runs: the job's facts and where the deployment puts things, never a client. */
export type PlanContext = {
  stepId: string;
  tenant: DerivedTenant;
  intake: JobDefinition['intake'];
  placement: Placement;
  seeds: ReadonlyMap<string, SeedManifest>;
  /** When the job is (or was) created: plans that depend on the date (a trial's end) read it, never the clock. */
  at: Date;
};

export type RunResult =
  | { status: 'done'; outputs?: Outputs }
  /** Started an async operation; the engine calls check after pollAfterMs. */
  | { status: 'pending'; pollAfterMs: number; outputs?: Outputs };

/** What an undo may say instead of the plain "Undone: …", when it did something else than remove (it scheduled an end). */
export type RollbackResult = { summary: string } | undefined;

export type CheckResult =
  | { status: 'done'; outputs?: Outputs }
  /** Not yet; `reminder` is said to people (the audit trail, the job's thread) when given. */
  | { status: 'pending'; pollAfterMs: number; reminder?: string }
  | { status: 'missing'; reason: string };

export type StepDefinition<S extends z.ZodType> = {
  type: string;
  description: string;
  input: S;
  /** What run and check return, when the step declares it: later readers parse outputs with it instead of guessing keys. */
  output?: z.ZodType;
  /** Outside systems this step talks to: the production profile refuses to start without their settings. */
  uses?: readonly Integration[];
  /** A test seam that only pretends to work (the sandbox): the production profile refuses a pipeline using it. */
  simulated?: boolean;
  /** Problems with a valid config that only the other manifests reveal (e.g. an unpublished seed version). */
  crossCheck?(input: z.output<S>, facts: ManifestFacts): string[];
  run(ctx: StepContext<z.output<S>>): Promise<RunResult>;
  check(ctx: StepContext<z.output<S>>): Promise<CheckResult>;
  /** Undoes run; may return what it did in words when that is more than a removal (see RollbackResult). */
  rollback(ctx: StepContext<z.output<S>>): Promise<RollbackResult>;
  /** Past-tense plain sentence, e.g. "DNS record acme.example.com created". */
  describe(input: z.output<S>, outputs: Outputs): string;
  /**
   * Without side effects: what run will create or change, where, with which key
   * settings, and what cannot be known before it exists (the dry-run preview).
   */
  plan(input: z.output<S>, context: PlanContext): StepPlan;
  /**
   * Outputs people copy into other tools once the step is done, shown verbatim
   * when the tenant goes live: output key → label, e.g. { customerId: 'Billing customer' }.
   */
  facts?: Readonly<Record<string, string>>;
};

type Bound = {
  run(ctx: StepContext<unknown>): Promise<RunResult>;
  check(ctx: StepContext<unknown>): Promise<CheckResult>;
  rollback(ctx: StepContext<unknown>): Promise<RollbackResult>;
  describe(outputs: Outputs): string;
  plan(context: PlanContext): StepPlan;
};

/** A registered step type with its input type hidden: the engine binds raw config, the step gets it parsed. */
export type StepType = {
  type: string;
  description: string;
  input: z.ZodType;
  output: z.ZodType | undefined;
  uses: readonly Integration[];
  simulated: boolean;
  /** Cross-checks a config that already passed `input` against the other manifests. */
  crossCheck(parsedInput: unknown, facts: ManifestFacts): string[];
  /** Outputs worth showing people once done: output key → label (see StepDefinition.facts). */
  facts: Readonly<Record<string, string>>;
  /** Validates raw config; throws a ZodError naming the bad field. */
  bind(rawInput: unknown): Bound;
};

export function defineStep<S extends z.ZodType>(def: StepDefinition<S>): StepType {
  return {
    type: def.type,
    description: def.description,
    input: def.input,
    output: def.output,
    uses: def.uses ?? [],
    simulated: def.simulated ?? false,
    facts: def.facts ?? {},
    crossCheck(parsedInput, facts) {
      const input = def.input.safeParse(parsedInput);
      return input.success && def.crossCheck ? def.crossCheck(input.data, facts) : [];
    },
    bind(rawInput) {
      const input = def.input.parse(rawInput);
      const withInput = (ctx: StepContext<unknown>): StepContext<z.output<S>> => ({ ...ctx, input });
      return {
        run: (ctx) => def.run(withInput(ctx)),
        check: (ctx) => def.check(withInput(ctx)),
        rollback: (ctx) => def.rollback(withInput(ctx)),
        describe: (outputs) => def.describe(input, outputs),
        plan: (context) => def.plan(input, context),
      };
    },
  };
}

/** Deterministic per job and step, never per attempt: retries must reuse it. */
export function idempotencyKeyFor(jobId: string, stepId: string): string {
  return `${jobId}.${stepId}`;
}
