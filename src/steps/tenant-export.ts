/**
 * Before a decommissioning removes anything, the tenant's data is exported:
 * one JSON-lines file per collection (MongoDB Extended JSON, so ids and dates
 * survive) and a manifest.json counting them, packed into one tar.gz any operator can open, in the folder the
 * configuration names; with the tenant's bucket, every file in it too, under
 * `bucket/` (the bucket itself is emptied and deleted by the teardown after). Written under a temporary name and renamed when
 * complete, so a crash never leaves a half archive under the real name; a
 * re-run finds the archive and is done. The archive is kept whatever happens
 * to the job: it is the customer's data, and deleting it is a person's call.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { BSON, type MongoClient } from 'mongodb';
import { create } from 'tar';
import { z } from 'zod';
import { PermanentError } from '../domain/errors.ts';
import { AwsRegionSchema } from '../domain/plan.ts';
import { bucketName } from './aws/s3-buckets.ts';
import { defineStep, type StepContext } from './step.ts';
import { exportBucket } from './tenant-data/bucket-export.ts';
import { databaseNameSchema, isolationSchema, tenantIdSchema } from './tenant-data/layout.ts';
import { tenantDb } from './tenant-data/mongo.ts';

const input = z.strictObject({
  tenantId: tenantIdSchema,
  slug: z.string().regex(/^[a-z0-9-]{1,63}$/),
  database: databaseNameSchema,
  isolation: isolationSchema,
  /** The folder exports are written to (EXPORTS_DIR). */
  dir: z.string().min(1),
  /** The tenant's bucket, named as the tenant_bucket step names it; absent on jobs stored before buckets existed. */
  bucket: z.strictObject({ prefix: z.string().min(1), region: AwsRegionSchema }).optional(),
});
type Input = z.output<typeof input>;

/** The tenant's collections and the names they get in the archive (a shared tenant's without its prefix). */
async function tenantCollections(client: MongoClient, cfg: Input): Promise<{ name: string; file: string }[]> {
  const names = (await client.db(cfg.database).listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
  if (cfg.isolation === 'dedicated') return names.sort().map((name) => ({ name, file: `${name}.jsonl` }));
  const prefix = `${cfg.tenantId}__`;
  return names
    .filter((name) => name.startsWith(prefix))
    .sort()
    .map((name) => ({ name, file: `${name.slice(prefix.length)}.jsonl` }));
}

async function writeLines(client: MongoClient, cfg: Input, collection: string, file: string): Promise<number> {
  const out = createWriteStream(file);
  let count = 0;
  for await (const doc of client.db(cfg.database).collection(collection).find({})) {
    if (!out.write(`${BSON.EJSON.stringify(doc, { relaxed: false })}\n`)) await once(out, 'drain');
    count += 1;
  }
  out.end();
  await finished(out);
  return count;
}

function archiveOf(ctx: StepContext<Input>): string {
  return path.join(ctx.input.dir, `${ctx.input.slug}-${ctx.jobId}.tar.gz`);
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

async function where(ctx: StepContext<Input>, region: string): Promise<{ client: S3Client; signal: AbortSignal }> {
  return { client: await ctx.services.storage.s3(region), signal: ctx.signal };
}

function bucketOf(cfg: Input, bucket: NonNullable<Input['bucket']>): { name: string; region: string } {
  return { name: bucketName(bucket.prefix, cfg.slug, bucket.region), region: bucket.region };
}

async function exportTenant(ctx: StepContext<Input>): Promise<{ records: number; collections: string[] }> {
  const { tenantData } = ctx.services;
  const cfg = ctx.input;
  await mkdir(cfg.dir, { recursive: true });
  const work = await mkdtemp(path.join(cfg.dir, `.${cfg.slug}-`));
  try {
    const collections = await tenantDb(`listing the collections of ${cfg.tenantId}`, () => tenantCollections(tenantData, cfg), tenantData);
    const counts: Record<string, number> = {};
    for (const { name, file } of collections) {
      counts[file] = await tenantDb(`exporting ${name}`, () => writeLines(tenantData, cfg, name, path.join(work, file)), tenantData);
    }
    const bucket = cfg.bucket
      ? await exportBucket(await where(ctx, cfg.bucket.region), bucketOf(cfg, cfg.bucket), path.join(work, 'bucket'))
      : undefined;
    // What the archive holds, so a tenant with no data still has an archive saying so.
    const manifest = {
      tenantId: cfg.tenantId,
      slug: cfg.slug,
      exportedBy: ctx.jobId,
      exportedAt: new Date().toISOString(),
      collections: counts,
      ...(bucket ? { bucket } : {}),
    };
    await writeFile(path.join(work, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    const partial = `${archiveOf(ctx)}.partial`;
    const files = ['manifest.json', ...collections.map((c) => c.file), ...(bucket && bucket.objects > 0 ? ['bucket'] : [])];
    await create({ gzip: true, file: partial, cwd: work, portable: true }, files);
    const records = Object.values(counts).reduce((sum, n) => sum + n, 0);
    await rename(partial, archiveOf(ctx));
    return { records, collections: collections.map((c) => c.file) };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export const tenantExportStep = defineStep({
  type: 'tenant_export',
  description: "Exports the tenant's database as a tar.gz of JSON lines per collection, before anything is removed.",
  facts: { archive: 'Data export' },
  input,
  async run(ctx) {
    const archive = archiveOf(ctx);
    if (await exists(archive)) return { status: 'done', outputs: { archive } };
    try {
      const { records, collections } = await exportTenant(ctx);
      return { status: 'done', outputs: { archive, records, collections } };
    } catch (err) {
      if (err instanceof Error && 'code' in err && (err.code === 'EACCES' || err.code === 'EROFS' || err.code === 'ENOSPC')) {
        throw new PermanentError(`cannot write the export to ${ctx.input.dir}: ${err.message} (check EXPORTS_DIR)`);
      }
      throw err;
    }
  },
  async check(ctx) {
    return (await exists(archiveOf(ctx))) ? { status: 'done' } : { status: 'missing', reason: `the export ${archiveOf(ctx)} is not there` };
  },
  async rollback() {
    // The export is the customer's data: kept even when the decommissioning is undone (see the file's comment).
  },
  plan(cfg) {
    return {
      summary: `Export ${cfg.slug}'s data from ${cfg.database}${cfg.bucket ? ' and its bucket' : ''} to a tar.gz in ${cfg.dir} before anything is removed`,
      resources: [
        {
          system: 'Local folder',
          kind: 'archive',
          name: `${cfg.slug}-<job id>.tar.gz`,
          namedAtCreation: true,
          place: cfg.dir,
          settings: ['one JSON-lines file per collection (Extended JSON)', 'manifest.json with the counts', 'kept whatever happens to the job'],
          unknown: ['records: counted while exporting'],
        },
        ...(cfg.bucket
          ? [
              {
                system: 'AWS S3',
                kind: 'bucket export',
                name: bucketName(cfg.bucket.prefix, cfg.slug, cfg.bucket.region),
                place: cfg.bucket.region,
                settings: ['every current object, under bucket/ in the same archive', 'before the teardown empties and deletes the bucket'],
                unknown: ['objects: counted while exporting'],
              },
            ]
          : []),
      ],
    };
  },
  describe(cfg, outputs) {
    const records = typeof outputs['records'] === 'number' ? `${outputs['records']} records` : 'the data';
    return `Exported ${records} of ${cfg.slug} to ${String(outputs['archive'] ?? cfg.dir)}`;
  },
});
