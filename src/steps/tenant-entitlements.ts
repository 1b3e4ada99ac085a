/**
 * Applies what billing pays for to the tenant's configuration record (the
 * tenant_config record the feature_flags step writes): its flags, its limits
 * (users, storage_gb, …) and its billing state, in one atomic write. A plan
 * change gives no billing state (it is not a billing event): the step sets the
 * new plan's flags and limits and leaves the recorded billing state alone. The
 * record keeps what it held before, so a rollback puts back exactly that.
 */
import { z } from 'zod';
import { BILLING_SOURCES, SUBSCRIPTION_STATES } from '../domain/entitlements.ts';
import { FlagNameSchema, LimitNameSchema } from '../domain/plan.ts';
import { tenantConfigRecords } from './feature-flags/record.ts';
import { defineStep, type StepContext } from './step.ts';
import { databaseNameSchema, isolationSchema, tenantConfigCollection, tenantIdSchema } from './tenant-data/layout.ts';
import { tenantDb } from './tenant-data/mongo.ts';

const BillingStateSchema = z.strictObject({
  source: z.enum([...BILLING_SOURCES, 'plan']),
  state: z.enum([...SUBSCRIPTION_STATES, 'unknown']),
  planId: z.string().min(1),
  payment: z.enum(['failed', 'paid', 'unknown']),
  /** The billing event this was worked out from ("stripe:evt_…"). */
  eventKey: z.string().min(1),
});

const input = z.strictObject({
  tenantId: tenantIdSchema,
  database: databaseNameSchema,
  isolation: isolationSchema,
  flags: z.record(FlagNameSchema, z.boolean({ error: 'Feature flags must be true or false' })),
  limits: z.record(LimitNameSchema, z.number().nonnegative()),
  /** Absent for a plan change: what billing last said stays recorded. */
  billing: BillingStateSchema.optional(),
});
type Input = z.output<typeof input>;

const Previous = z.object({ features: z.unknown(), limits: z.unknown(), billing: z.unknown() });

function records(ctx: StepContext<Input>) {
  return tenantConfigRecords(ctx.services.tenantData, ctx.input);
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function onOff(flags: Record<string, boolean>): { on: string[]; off: string[] } {
  const names = Object.keys(flags).sort();
  return { on: names.filter((f) => flags[f] === true), off: names.filter((f) => flags[f] !== true) };
}

/** "users 25, storage_gb 100": the limits as people read them. */
function limitsText(limits: Record<string, number>): string {
  const text = Object.entries(limits)
    .map(([name, value]) => `${name} ${value.toLocaleString('en-US')}`)
    .join(', ');
  return text || 'none';
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

export const tenantEntitlementsStep = defineStep({
  type: 'tenant_entitlements',
  description: "Applies billing's entitlements to the tenant: flags on/off, limits set, billing state recorded.",
  input,
  async run(ctx) {
    const { tenantId, flags, limits, billing } = ctx.input;
    const before = await tenantDb(
      `applying the entitlements of ${tenantId}`,
      () =>
        records(ctx).findOneAndUpdate(
          { _id: tenantId },
          { $set: { features: flags, limits, ...(billing ? { billing } : {}), entitlementsUpdatedBy: ctx.jobId } },
          { upsert: true, returnDocument: 'before' },
        ),
      ctx.services.tenantData,
    );
    // A re-run after a crash finds its own write: what was there before it is already in the outputs.
    const previous = before === null || Reflect.get(before, 'entitlementsUpdatedBy') === ctx.jobId ? undefined : before;
    const { on, off } = onOff(flags);
    return {
      status: 'done',
      outputs: {
        on,
        off,
        limits,
        ...(billing ? { state: billing.state } : {}),
        ...(previous
          ? {
              previous: {
                features: previous.features ?? null,
                limits: Reflect.get(previous, 'limits') ?? null,
                billing: Reflect.get(previous, 'billing') ?? null,
              },
            }
          : {}),
      },
    };
  },
  async check(ctx) {
    const { tenantId } = ctx.input;
    const record = await tenantDb(`reading the entitlements of ${tenantId}`, () => records(ctx).findOne({ _id: tenantId }), ctx.services.tenantData);
    if (record === null) return { status: 'missing', reason: `the configuration record of ${tenantId} is gone` };
    if (!same(record.features, ctx.input.flags)) return { status: 'missing', reason: 'the flags differ from the entitlements' };
    if (!same(Reflect.get(record, 'limits'), ctx.input.limits)) return { status: 'missing', reason: 'the limits differ from the entitlements' };
    return { status: 'done' };
  },
  async rollback(ctx) {
    const { tenantId } = ctx.input;
    const record = await tenantDb(`reading the entitlements of ${tenantId}`, () => records(ctx).findOne({ _id: tenantId }), ctx.services.tenantData);
    // Only our own write: a later job's entitlements are not ours to undo.
    if (record === null || Reflect.get(record, 'entitlementsUpdatedBy') !== ctx.jobId) return;
    const previous = Previous.safeParse(ctx.outputs['previous']);
    const restore = previous.success ? previous.data : { features: null, limits: null, billing: null };
    await tenantDb(
      `restoring the entitlements of ${tenantId}`,
      () =>
        records(ctx).updateOne(
          { _id: tenantId, entitlementsUpdatedBy: ctx.jobId },
          {
            $set: {
              features: restore.features ?? {},
              limits: restore.limits ?? {},
              // Only what this step wrote: without a billing state of its own, the recorded one was never touched.
              ...(ctx.input.billing ? { billing: restore.billing ?? null } : {}),
            },
            $unset: { entitlementsUpdatedBy: '' },
          },
        ),
      ctx.services.tenantData,
    );
  },
  plan(cfg) {
    const { on, off } = onOff(cfg.flags);
    const where = tenantConfigCollection(cfg.database, cfg.isolation, cfg.tenantId);
    return {
      summary: `${cfg.billing ? `Apply ${cfg.billing.source}'s entitlements to` : 'Set the plan’s flags and limits on'} ${cfg.tenantId}: ${plural(on.length, 'flag')} on, limits ${limitsText(cfg.limits)}`,
      resources: [
        {
          system: 'MongoDB',
          kind: 'configuration record',
          name: `${where.collectionName} ${cfg.tenantId}`,
          place: `database ${where.dbName}`,
          settings: [
            `on: ${on.join(', ') || 'none'}`,
            `off: ${off.join(', ') || 'none'}`,
            `limits: ${limitsText(cfg.limits)}`,
            cfg.billing ? `billing: ${cfg.billing.state} on ${cfg.billing.planId}` : 'billing state: left as billing last said',
          ],
          unknown: [],
        },
      ],
    };
  },
  describe(cfg) {
    const { on } = onOff(cfg.flags);
    const limits = Object.keys(cfg.limits).length > 0 ? limitsText(cfg.limits) : 'no limits';
    const from = cfg.billing ? ` from ${cfg.billing.source} (${cfg.billing.state}, ${cfg.billing.planId})` : ' from the plan';
    return `Entitlements applied to ${cfg.tenantId}${from}: ${on.length > 0 ? on.join(', ') : 'no flags'} on; ${limits}`;
  },
});
