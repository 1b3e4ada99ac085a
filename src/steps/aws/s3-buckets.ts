/**
 * A tenant's S3 bucket through the SDK's own client: its name (derived, valid
 * and deterministic), creating it in its region, the settings every tenant
 * bucket carries, reading them back, and emptying every version before
 * deleting it. Each call names the bucket in its errors, never a value sent.
 */
import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { PermanentError } from '../../domain/errors.ts';
import { awsFailure, isAccessDenied, isAwsError, isTransientAwsFailure, transientAwsError } from './errors.ts';

/** The SDK's module, imported on a step's first call: a process that runs no bucket step never loads it. */
const sdk = () => import('@aws-sdk/client-s3');

type Call = { client: S3Client; signal: AbortSignal };

const MAX_NAME = 63;

/**
 * `<prefix>-<slug>-<region>`, within S3's 63 characters: a name too long keeps
 * the start of the slug and adds 8 hex of its hash, so two long slugs never meet.
 */
export function bucketName(prefix: string, slug: string, region: string): string {
  const whole = `${prefix}-${slug}-${region}`;
  if (whole.length <= MAX_NAME) return whole;
  const hash = createHash('sha256').update(slug).digest('hex').slice(0, 8);
  const room = MAX_NAME - prefix.length - region.length - hash.length - 3;
  const start = slug.slice(0, Math.max(room, 1)).replace(/-+$/, '');
  return `${prefix}-${start}-${hash}-${region}`;
}

/** The bucket's region as S3 reports it (us-east-1 answers an empty constraint); undefined when there is no such bucket. */
export async function bucketRegion(call: Call, bucket: string): Promise<string | undefined> {
  const { GetBucketLocationCommand } = await sdk();
  try {
    const answer = await call.client.send(new GetBucketLocationCommand({ Bucket: bucket }), { abortSignal: call.signal });
    const constraint = answer.LocationConstraint ?? '';
    return constraint === '' ? 'us-east-1' : constraint === 'EU' ? 'eu-west-1' : constraint;
  } catch (err) {
    if (isAwsError(err, 'NoSuchBucket', 'NotFound')) return undefined;
    throw s3Error(err, bucket);
  }
}

export async function bucketExists(call: Call, bucket: string): Promise<boolean> {
  const { HeadBucketCommand } = await sdk();
  try {
    await call.client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal: call.signal });
    return true;
  } catch (err) {
    if (isAwsError(err, 'NoSuchBucket', 'NotFound') || awsFailure(err).httpStatus === 404) return false;
    throw s3Error(err, bucket);
  }
}

/** 'created'; 'ours' when this AWS account has it already (an earlier attempt?); 'another-account' when the global name is someone else's. */
export async function createBucket(call: Call, bucket: string, region: string): Promise<'created' | 'ours' | 'another-account'> {
  const { BucketLocationConstraint, CreateBucketCommand } = await sdk();
  // Outside us-east-1 the region must be named, or S3 refuses (or, on older endpoints, puts it in us-east-1).
  const constraint = Object.values(BucketLocationConstraint).find((known) => known === region);
  if (region !== 'us-east-1' && constraint === undefined) throw new PermanentError(`S3 has no region named ${region} for bucket ${bucket}`);
  const location = constraint === undefined ? {} : { CreateBucketConfiguration: { LocationConstraint: constraint } };
  try {
    await call.client.send(new CreateBucketCommand({ Bucket: bucket, ...location }), { abortSignal: call.signal });
    return 'created';
  } catch (err) {
    if (isAwsError(err, 'BucketAlreadyOwnedByYou')) return 'ours';
    if (isAwsError(err, 'BucketAlreadyExists')) return 'another-account';
    throw s3Error(err, bucket);
  }
}

export type BucketSettings = { tags: Record<string, string>; versioning: boolean; noncurrentVersionDays: number | undefined };

/** Every setting is a PUT of the whole setting, so running this again changes nothing. */
export async function configureBucket(call: Call, bucket: string, settings: BucketSettings): Promise<void> {
  const {
    PutBucketEncryptionCommand,
    PutBucketLifecycleConfigurationCommand,
    PutBucketTaggingCommand,
    PutBucketVersioningCommand,
    PutPublicAccessBlockCommand,
  } = await sdk();
  const opts = { abortSignal: call.signal };
  const { client } = call;
  const Bucket = bucket;
  try {
    await client.send(
      new PutPublicAccessBlockCommand({
        Bucket,
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true },
      }),
      opts,
    );
    const encryptByDefault = { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' as const }, BucketKeyEnabled: true };
    await client.send(new PutBucketEncryptionCommand({ Bucket, ServerSideEncryptionConfiguration: { Rules: [encryptByDefault] } }), opts);
    const TagSet = Object.entries(settings.tags).map(([Key, Value]) => ({ Key, Value }));
    await client.send(new PutBucketTaggingCommand({ Bucket, Tagging: { TagSet } }), opts);
    // Versioning cannot be switched off once on, only suspended: a plan without it leaves a new bucket as it is.
    if (settings.versioning) await client.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }), opts);
    if (settings.noncurrentVersionDays !== undefined) {
      const expire = { NoncurrentDays: settings.noncurrentVersionDays };
      const rule = { ID: 'expire-replaced-versions', Status: 'Enabled' as const, Filter: { Prefix: '' }, NoncurrentVersionExpiration: expire };
      await client.send(new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules: [rule] } }), opts);
    }
  } catch (err) {
    throw s3Error(err, bucket);
  }
}

/** The bucket's tags, {} when it has none; undefined when the bucket is gone. */
export async function bucketTags(call: Call, bucket: string): Promise<Record<string, string> | undefined> {
  const { GetBucketTaggingCommand } = await sdk();
  try {
    const answer = await call.client.send(new GetBucketTaggingCommand({ Bucket: bucket }), { abortSignal: call.signal });
    return Object.fromEntries((answer.TagSet ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
  } catch (err) {
    if (isAwsError(err, 'NoSuchTagSet', 'NoSuchTagSetError')) return {};
    if (isAwsError(err, 'NoSuchBucket', 'NotFound')) return undefined;
    throw s3Error(err, bucket);
  }
}

/** What a person (or check) wants to know the bucket still has: encryption, the public access block, versioning. */
export async function bucketSafeguards(call: Call, bucket: string): Promise<{ encrypted: boolean; publicBlocked: boolean; versioned: boolean }> {
  const { GetBucketEncryptionCommand, GetBucketVersioningCommand, GetPublicAccessBlockCommand } = await sdk();
  try {
    const opts = { abortSignal: call.signal };
    const encryption = await call.client
      .send(new GetBucketEncryptionCommand({ Bucket: bucket }), opts)
      .catch(absent('ServerSideEncryptionConfigurationNotFoundError'));
    const block = await call.client
      .send(new GetPublicAccessBlockCommand({ Bucket: bucket }), opts)
      .catch(absent('NoSuchPublicAccessBlockConfiguration'));
    const versioning = await call.client.send(new GetBucketVersioningCommand({ Bucket: bucket }), opts);
    const b = block?.PublicAccessBlockConfiguration;
    return {
      encrypted: (encryption?.ServerSideEncryptionConfiguration?.Rules ?? []).length > 0,
      publicBlocked: b?.BlockPublicAcls === true && b.IgnorePublicAcls === true && b.BlockPublicPolicy === true && b.RestrictPublicBuckets === true,
      versioned: versioning.Status === 'Enabled',
    };
  } catch (err) {
    throw s3Error(err, bucket);
  }
}

function absent(code: string): (err: unknown) => undefined {
  return (err) => {
    if (isAwsError(err, code)) return undefined;
    throw err;
  };
}

/** Deletes every object version and delete marker (1,000 a request), then the bucket; a bucket already gone is fine. */
export async function emptyAndDeleteBucket(call: Call, bucket: string): Promise<void> {
  const { DeleteBucketCommand, DeleteObjectsCommand, ListObjectVersionsCommand } = await sdk();
  try {
    for (;;) {
      const page = await call.client.send(new ListObjectVersionsCommand({ Bucket: bucket, MaxKeys: 1000 }), { abortSignal: call.signal });
      const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({ Key: v.Key ?? '', VersionId: v.VersionId }));
      if (objects.length === 0) break;
      await call.client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }), { abortSignal: call.signal });
    }
    await call.client.send(new DeleteBucketCommand({ Bucket: bucket }), { abortSignal: call.signal });
  } catch (err) {
    if (isAwsError(err, 'NoSuchBucket', 'NotFound')) return;
    throw s3Error(err, bucket);
  }
}

export function s3Error(err: unknown, bucket: string): Error {
  const failure = awsFailure(err);
  if (isTransientAwsFailure(failure)) return transientAwsError('S3', failure);
  if (isAccessDenied(failure)) {
    return new PermanentError(
      `the bot's AWS credentials may not manage bucket ${bucket} (${failure.code}); grant s3:CreateBucket, PutBucket*, GetBucket*, ` +
        'ListBucketVersions, DeleteObjectVersion and DeleteBucket on it',
    );
  }
  return new PermanentError(`S3 rejected a request for bucket ${bucket} (${failure.code}): ${failure.message}`);
}
