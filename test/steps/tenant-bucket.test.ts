/**
 * The tenant bucket step against moto's S3: each test at its own slug. The
 * bucket lands in the residency's region with its safeguards, a second run
 * makes no second bucket, a rollback empties every version and removes it,
 * and failures are told apart: unreachable S3 is worth retrying, a bucket
 * that is another tenant's is not.
 */
import { randomBytes } from 'node:crypto';
import {
  GetBucketLocationCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  PutBucketTaggingCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { PermanentError, TransientError } from '../../src/domain/errors.ts';
import { bucketName } from '../../src/steps/aws/s3-buckets.ts';
import { tenantBucketStep } from '../../src/steps/tenant-bucket.ts';
import { AWS_TEST_CREDENTIALS, CLOSED_PORT, stepContext } from '../support/step-context.ts';

const MOTO = process.env['AWS_ENDPOINT_URL'] ?? 'http://127.0.0.1:5000';
const prefix = `tb${randomBytes(3).toString('hex')}`;
const clients = new Map<string, S3Client>();
function s3(region: string, endpoint = MOTO): S3Client {
  const key = `${endpoint} ${region}`;
  const known = clients.get(key);
  if (known) return known;
  const client = new S3Client({ endpoint, region, credentials: AWS_TEST_CREDENTIALS, forcePathStyle: true, maxAttempts: 1 });
  clients.set(key, client);
  return client;
}
afterAll(() => {
  for (const client of clients.values()) client.destroy();
});

function config(slug: string, region: string, storage: Record<string, unknown> = { versioning: true, noncurrentVersionDays: 30 }) {
  return { prefix, slug, region, tenantId: `tnt_${slug.replaceAll('-', '_')}`, planId: 'growth', storage };
}

function context(opts: { endpoint?: string; outputs?: Record<string, unknown> } = {}) {
  return stepContext({
    jobId: 'acme-bucket-job',
    stepId: 'storage',
    outputs: opts.outputs ?? {},
    services: { storage: { s3: async (region) => s3(region, opts.endpoint) } },
  });
}

async function ourBuckets(): Promise<string[]> {
  const listed = await s3('us-east-1').send(new ListBucketsCommand({}));
  return (listed.Buckets ?? []).flatMap((b) => (b.Name?.startsWith(prefix) ? [b.Name] : []));
}

describe('the tenant bucket step', () => {
  it('creates the bucket in the residency region, encrypted, closed to the public, versioned and tagged; check agrees', async () => {
    const step = tenantBucketStep.bind(config('globex', 'eu-west-1'));
    const result = await step.run(context());
    const bucket = `${prefix}-globex-eu-west-1`;
    expect(result).toEqual({ status: 'done', outputs: { bucket, region: 'eu-west-1', arn: `arn:aws:s3:::${bucket}` } });
    const client = s3('eu-west-1');
    expect((await client.send(new GetBucketLocationCommand({ Bucket: bucket }))).LocationConstraint).toBe('eu-west-1');
    expect((await client.send(new GetPublicAccessBlockCommand({ Bucket: bucket }))).PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
    expect((await client.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status).toBe('Enabled');
    expect((await client.send(new GetBucketTaggingCommand({ Bucket: bucket }))).TagSet).toEqual(
      expect.arrayContaining([
        { Key: 'tenant-id', Value: 'tnt_globex' },
        { Key: 'plan', Value: 'growth' },
      ]),
    );
    expect(await step.check(context({ outputs: result.status === 'done' ? (result.outputs ?? {}) : {} }))).toMatchObject({ status: 'done' });
  });

  it('run twice makes one bucket; rollback empties every version and delete marker, and a second rollback is fine', async () => {
    const step = tenantBucketStep.bind(config('initech', 'ap-southeast-2'));
    await step.run(context());
    await step.run(context());
    expect((await ourBuckets()).filter((name) => name.includes('-initech-'))).toHaveLength(1);
    const bucket = `${prefix}-initech-ap-southeast-2`;
    const client = s3('ap-southeast-2');
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'report.csv', Body: 'v1' }));
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'report.csv', Body: 'v2' }));
    await step.rollback(context());
    await expect(client.send(new HeadBucketCommand({ Bucket: bucket }))).rejects.toMatchObject({ name: 'NotFound' });
    await step.rollback(context());
    expect(await step.check(context())).toEqual({ status: 'missing', reason: `S3 bucket ${bucket} does not exist` });
  });

  it("refuses, permanently, a bucket under its name that is another tenant's, and never deletes it", async () => {
    const step = tenantBucketStep.bind(config('hooli', 'us-east-1', { versioning: false }));
    await step.run(context());
    const bucket = `${prefix}-hooli-us-east-1`;
    await s3('us-east-1').send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: [{ Key: 'tenant-id', Value: 'tnt_other' }] } }));
    await expect(step.run(context())).rejects.toThrow(
      new PermanentError(`S3 bucket ${bucket} belongs to tenant tnt_other, not tnt_hooli; remove or rename it, then retry`),
    );
    await step.rollback(context());
    await expect(s3('us-east-1').send(new HeadBucketCommand({ Bucket: bucket }))).resolves.toBeDefined();
  });

  it('an unreachable S3 is a transient failure, worth retrying', async () => {
    const step = tenantBucketStep.bind(config('umbrella', 'eu-west-2'));
    await expect(step.run(context({ endpoint: `http://127.0.0.1:${CLOSED_PORT}` }))).rejects.toBeInstanceOf(TransientError);
  });

  it('derives valid, distinct names within 63 characters even for the longest slugs and regions', () => {
    const a = bucketName('acme-prod-tenants-01', 'a-very-long-company-slug-01234', 'ap-southeast-2');
    const b = bucketName('acme-prod-tenants-01', 'a-very-long-company-slug-01235', 'ap-southeast-2');
    for (const name of [a, b]) {
      expect(name.length).toBeLessThanOrEqual(63);
      expect(name).toMatch(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/);
      expect(name.endsWith('-ap-southeast-2')).toBe(true);
    }
    expect(a).not.toBe(b);
    expect(bucketName('acme-prod-tenants-01', 'a-very-long-company-slug-01234', 'ap-southeast-2')).toBe(a);
  });
});
