/**
 * Writes the tenant's feature flags (the plan's flags with the deal's
 * overrides) into its configuration record, and optionally pushes them to a
 * flags service. The record holds exactly the planned flags afterwards; flags
 * found there that the plan manifest does not know are reported, because
 * someone set them outside the manifest and should hear they are gone.
 */
import { z } from 'zod';
import { FlagNameSchema, LimitNameSchema } from '../domain/plan.ts';
import { defineStep, type Outputs, type StepContext } from './step.ts';
import {
  enabledFlags,
  flagDifferences,
  flagsOutsidePlan,
  storedFlags,
  tenantConfigRecords,
  type TenantConfigRecord,
} from './feature-flags/record.ts';
import { pushFlags } from './feature-flags/push.ts';
import { databaseNameSchema, isolationSchema, tenantConfigCollection, tenantIdSchema } from './tenant-data/layout.ts';
import { tenantDb } from './tenant-data/mongo.ts';
import { EndpointNameSchema, endpointProblems, endpointUrl } from './webhook-endpoints.ts';

const input = z.strictObject({
  tenantId: tenantIdSchema,
  database: databaseNameSchema,
  isolation: isolationSchema,
  flags: z.record(FlagNameSchema, z.boolean({ error: 'Feature flags must be true or false' })),
  /** The plan's limits (users, storage_gb, …), kept beside the flags so drift reports compare both. */
  limits: z.record(LimitNameSchema, z.number().nonnegative()).optional(),
  webhookUrl: z.url({ protocol: /^https?$/, error: 'webhookUrl must be an http(s) URL' }).optional(),
  /** Or a named webhook endpoint from configuration (e.g. feature_flags), looked up when the step runs. */
  webhookEndpoint: EndpointNameSchema.optional(),
});
type Input = z.output<typeof input>;

function records(ctx: StepContext<Input>) {
  return tenantConfigRecords(ctx.services.tenantData, ctx.input);
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** Through the shared client, which reconnects after an outage (see tenantDb). */
function flagsDb<T>(ctx: StepContext<Input>, doing: string, call: () => Promise<T>): Promise<T> {
  return tenantDb(doing, call, ctx.services.tenantData);
}

const PreviousFlags = z.object({ previousFlags: z.record(z.string(), z.unknown()), previousUpdatedBy: z.string() });

/** The flags another job had set before this one, when there were any and this is the first run that saw them. */
function previousOutputs(ctx: StepContext<Input>, before: TenantConfigRecord | null): Outputs {
  const recorded = PreviousFlags.safeParse(ctx.outputs);
  if (recorded.success) return recorded.data;
  const by = before?.featuresUpdatedBy;
  if (typeof by !== 'string' || by === ctx.jobId || before?.features === undefined) return {};
  return { previousFlags: storedFlags(before), previousUpdatedBy: by };
}

export const featureFlagsStep = defineStep({
  type: 'feature_flags',
  description: "Sets the tenant's feature flags (plan + deal overrides) in its tenant_config record; optional signed push.",
  input,
  async run(ctx) {
    const { tenantId, flags } = ctx.input;
    // One atomic write that also hands back the record as it was, to report flags outside the plan.
    // A re-run after a crash finds the flags already applied: same record, nothing left to report.
    const before = await flagsDb(ctx, `setting the feature flags of ${tenantId}`, () =>
      records(ctx).findOneAndUpdate(
        { _id: tenantId },
        { $set: { features: flags, ...(ctx.input.limits ? { limits: ctx.input.limits } : {}), featuresUpdatedBy: ctx.jobId } },
        { upsert: true, returnDocument: 'before' },
      ),
    );
    const outputs: Outputs = {
      database: ctx.input.database,
      applied: Object.keys(flags).length,
      enabled: enabledFlags(flags),
      unknownFlags: flagsOutsidePlan(storedFlags(before), flags),
      // What a later job (a plan change) found, so its rollback puts it back; a re-run finds its own flags and keeps the first answer.
      ...previousOutputs(ctx, before),
    };
    const pushUrl =
      ctx.input.webhookUrl ?? (ctx.input.webhookEndpoint ? endpointUrl(ctx.services.webhookEndpoints, ctx.input.webhookEndpoint) : undefined);
    if (pushUrl !== undefined) outputs['pushHttpStatus'] = await pushFlags(ctx, pushUrl, tenantId, flags);
    return { status: 'done', outputs };
  },
  async check(ctx) {
    const { tenantId } = ctx.input;
    const record = await flagsDb(ctx, `reading the feature flags of ${tenantId}`, () => records(ctx).findOne({ _id: tenantId }));
    if (record === null) return { status: 'missing', reason: `the configuration record of ${tenantId} is gone` };
    const differences = flagDifferences(storedFlags(record), ctx.input.flags);
    if (differences.length > 0) return { status: 'missing', reason: differences.join('; ') };
    return { status: 'done' };
  },
  async rollback(ctx) {
    const { tenantId } = ctx.input;
    // Only flags this job wrote: a later job's flags are not ours to remove. Look first:
    // FerretDB creates the database on an update even when nothing matches, and a
    // rollback must not bring back a database the database step's rollback dropped.
    const record = await flagsDb(ctx, `reading the feature flags of ${tenantId}`, () => records(ctx).findOne({ _id: tenantId }));
    if (record?.featuresUpdatedBy !== ctx.jobId) return;
    const previous = PreviousFlags.safeParse(ctx.outputs);
    if (previous.success) {
      // Flags an earlier job set (a plan change undone): back to them, not to none.
      const { previousFlags, previousUpdatedBy } = previous.data;
      await flagsDb(ctx, `putting back the feature flags of ${tenantId}`, () =>
        records(ctx).updateOne(
          { _id: tenantId, featuresUpdatedBy: ctx.jobId },
          { $set: { features: previousFlags, featuresUpdatedBy: previousUpdatedBy } },
        ),
      );
      return;
    }
    await flagsDb(ctx, `removing the feature flags of ${tenantId}`, () =>
      records(ctx).updateOne({ _id: tenantId, featuresUpdatedBy: ctx.jobId }, { $unset: { features: '', limits: '', featuresUpdatedBy: '' } }),
    );
  },
  crossCheck(cfg, facts) {
    return cfg.webhookEndpoint === undefined ? [] : endpointProblems(cfg.webhookEndpoint, facts.webhookEndpoints);
  },
  plan(cfg) {
    const on = enabledFlags(cfg.flags);
    const off = Object.keys(cfg.flags).filter((flag) => !cfg.flags[flag]);
    const where = tenantConfigCollection(cfg.database, cfg.isolation, cfg.tenantId);
    const push = cfg.webhookUrl ? new URL(cfg.webhookUrl).host : cfg.webhookEndpoint ? `the ${cfg.webhookEndpoint} endpoint` : undefined;
    return {
      summary: `Switch on ${plural(on.length, 'flag')}${on.length > 0 ? `: ${on.join(', ')}` : ''}${push ? `, and push them to ${push}` : ''}`,
      resources: [
        {
          system: 'MongoDB',
          kind: 'configuration record',
          name: `${where.collectionName} ${cfg.tenantId}`,
          place: `database ${where.dbName}`,
          settings: [`on: ${on.join(', ') || 'none'}`, `off: ${off.join(', ') || 'none'}`],
          unknown: [],
        },
      ],
    };
  },
  describe(cfg, outputs) {
    const enabled = 'enabled' in outputs ? stringList(outputs['enabled']) : enabledFlags(cfg.flags);
    const shown = enabled.length > 0 ? `: ${enabled.join(', ')}` : '';
    let sentence = `${plural(Object.keys(cfg.flags).length, 'feature flag')} set for ${cfg.tenantId} (${enabled.length} on${shown})`;
    const unknown = stringList(outputs['unknownFlags']);
    if (unknown.length > 0) {
      sentence += `; ${plural(unknown.length, 'flag')} not in the plan manifest removed: ${unknown.join(', ')}`;
    }
    return sentence;
  },
});
