/**
 * The tenant's own S3 bucket, in its data residency's region: encrypted by
 * default, every kind of public access blocked, versioned when the plan says
 * so (with the plan's expiry of replaced versions), and tagged with the tenant
 * and plan. The name comes from a configured prefix, the slug and the region,
 * so every attempt, check and rollback finds the same bucket.
 *
 * Buckets have no idempotency token; S3 itself tells "this account's" from
 * "someone else's" (BucketAlreadyExists: a permanent error naming the bucket);
 * a bucket of this account is adopted unless another tenant's tag is on it.
 */
import { z } from 'zod';
import { PermanentError, TransientError } from '../domain/errors.ts';
import { AwsRegionSchema } from '../domain/plan.ts';
import {
  bucketExists,
  bucketName,
  bucketRegion,
  bucketSafeguards,
  bucketTags,
  configureBucket,
  createBucket,
  emptyAndDeleteBucket,
} from './aws/s3-buckets.ts';
import { JOB_TAG, TENANT_TAG } from './aws/secrets-manager.ts';
import { defineStep, type CheckResult, type StepContext } from './step.ts';
import { tenantIdSchema } from './tenant-data/layout.ts';

const PLAN_TAG = 'plan';

const input = z.strictObject({
  /** TENANT_BUCKET_PREFIX: S3 names are global, so it says whose buckets these are. */
  prefix: z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,18}[a-z0-9])?$/, { error: 'a bucket prefix is 1–20 lowercase letters, digits and hyphens' }),
  slug: z.string().regex(/^[a-z0-9](?:[a-z0-9-]{1,28}[a-z0-9])$/, { error: 'slug is 3–30 lowercase letters, digits and hyphens' }),
  region: AwsRegionSchema,
  tenantId: tenantIdSchema,
  planId: z.string().min(1),
  storage: z.strictObject({ versioning: z.boolean().default(false), noncurrentVersionDays: z.int().positive().max(3650).optional() }).prefault({}),
});
type Input = z.output<typeof input>;

const output = z.strictObject({ bucket: z.string(), region: AwsRegionSchema, arn: z.string() });

async function where(ctx: StepContext<Input>) {
  return { client: await ctx.services.storage.s3(ctx.input.region), signal: ctx.signal };
}

function nameOf(cfg: Input): string {
  return bucketName(cfg.prefix, cfg.slug, cfg.region);
}

function outputsOf(cfg: Input): z.output<typeof output> {
  const bucket = nameOf(cfg);
  return output.parse({ bucket, region: cfg.region, arn: `arn:aws:s3:::${bucket}` });
}

/** Ours to configure: new, or this tenant's bucket in this region from an earlier attempt; permanent otherwise. */
async function requireOwnBucket(ctx: StepContext<Input>, bucket: string): Promise<void> {
  const s3 = await where(ctx);
  const region = await bucketRegion(s3, bucket);
  if (region === undefined) throw new TransientError(`S3 reported bucket ${bucket} as ours but cannot find it yet`);
  const owner = (await bucketTags(s3, bucket))?.[TENANT_TAG];
  if (region !== ctx.input.region) {
    throw new PermanentError(`S3 bucket ${bucket} already exists in ${region}, not ${ctx.input.region}; remove it or pick another slug, then retry`);
  }
  if (owner !== undefined && owner !== ctx.input.tenantId) {
    throw new PermanentError(`S3 bucket ${bucket} belongs to tenant ${owner}, not ${ctx.input.tenantId}; remove or rename it, then retry`);
  }
}

async function verify(ctx: StepContext<Input>): Promise<CheckResult> {
  const bucket = nameOf(ctx.input);
  const s3 = await where(ctx);
  const region = await bucketRegion(s3, bucket);
  if (region === undefined) return { status: 'missing', reason: `S3 bucket ${bucket} does not exist` };
  if (region !== ctx.input.region) return { status: 'missing', reason: `S3 bucket ${bucket} is in ${region}, not ${ctx.input.region}` };
  const owner = (await bucketTags(s3, bucket))?.[TENANT_TAG];
  if (owner !== ctx.input.tenantId) return { status: 'missing', reason: `S3 bucket ${bucket} is not tagged as tenant ${ctx.input.tenantId}'s` };
  const guards = await bucketSafeguards(s3, bucket);
  if (!guards.encrypted) return { status: 'missing', reason: `S3 bucket ${bucket} has no default encryption` };
  if (!guards.publicBlocked) return { status: 'missing', reason: `S3 bucket ${bucket} does not block all public access` };
  if (ctx.input.storage.versioning && !guards.versioned) return { status: 'missing', reason: `S3 bucket ${bucket} is not versioned` };
  return { status: 'done', outputs: outputsOf(ctx.input) };
}

export const tenantBucketStep = defineStep({
  type: 'tenant_bucket',
  description: "Creates the tenant's S3 bucket in its residency's region: encrypted, public access blocked, versioned per plan, tagged.",
  facts: { bucket: 'S3 bucket', region: 'Bucket region' },
  input,
  output,
  uses: ['aws-s3'],
  async run(ctx) {
    const bucket = nameOf(ctx.input);
    const s3 = await where(ctx);
    const created = await createBucket(s3, bucket, ctx.input.region);
    if (created === 'another-account') {
      throw new PermanentError(`S3 bucket name ${bucket} is taken by another AWS account; set another TENANT_BUCKET_PREFIX, then retry`);
    }
    // In us-east-1 S3 answers 200 to creating a bucket this account already has: look at every bucket we get.
    await requireOwnBucket(ctx, bucket);
    const tags = { [TENANT_TAG]: ctx.input.tenantId, [PLAN_TAG]: ctx.input.planId, [JOB_TAG]: ctx.jobId };
    await configureBucket(s3, bucket, { tags, ...ctx.input.storage, noncurrentVersionDays: ctx.input.storage.noncurrentVersionDays });
    return { status: 'done', outputs: outputsOf(ctx.input) };
  },
  check: verify,
  async rollback(ctx) {
    const bucket = nameOf(ctx.input);
    const s3 = await where(ctx);
    if (!(await bucketExists(s3, bucket))) return;
    // Only this tenant's bucket is emptied: an untagged or foreign one under our name is a person's to sort out.
    if ((await bucketTags(s3, bucket))?.[TENANT_TAG] !== ctx.input.tenantId) return;
    await emptyAndDeleteBucket(s3, bucket);
  },
  plan(cfg) {
    const { versioning, noncurrentVersionDays } = cfg.storage;
    const expiry = noncurrentVersionDays === undefined ? [] : [`replaced versions expire after ${noncurrentVersionDays} days`];
    return {
      summary: `Create the S3 bucket ${nameOf(cfg)} in ${cfg.region}, encrypted and closed to the public`,
      resources: [
        {
          system: 'AWS S3',
          kind: 'bucket',
          name: nameOf(cfg),
          place: cfg.region,
          settings: [
            'default encryption (SSE-S3)',
            'all public access blocked',
            `versioning ${versioning ? 'on' : 'off'}`,
            ...expiry,
            `tagged tenant ${cfg.tenantId}, plan ${cfg.planId}`,
          ],
          unknown: [],
        },
      ],
    };
  },
  describe(cfg) {
    return `S3 bucket ${nameOf(cfg)} ready in ${cfg.region} for ${cfg.tenantId}`;
  },
});
