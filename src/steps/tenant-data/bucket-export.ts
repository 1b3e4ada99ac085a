/**
 * The tenant's files, copied out of its S3 bucket into the decommissioning's
 * export before the bucket is emptied and deleted: the current version of
 * every object, under `bucket/` in the archive. Object keys become file paths
 * segment by segment, each segment percent-encoded ("." and ".." become
 * "%2E" and "%2E%2E", an empty one "%00"), so a key such as
 * `../../etc/passwd` or `a//b` can never write outside the export folder.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { bucketExists, s3Error } from '../aws/s3-buckets.ts';

export type BucketExport = { name: string; region: string; objects: number; bytes: number };

/** Where an object key lands under `root`: every segment encoded, and "", "." and ".." made names, so nothing climbs out. */
export function exportPathOf(root: string, key: string): string {
  const segments = key.split('/').map((segment) => {
    if (segment === '') return '%00';
    if (segment === '.' || segment === '..') return segment.replaceAll('.', '%2E');
    return encodeURIComponent(segment);
  });
  return path.join(root, ...segments);
}

/** Copies every object of `bucket` into `root`; undefined when the tenant has no bucket (never made, or already gone). */
export async function exportBucket(
  call: { client: S3Client; signal: AbortSignal },
  bucket: { name: string; region: string },
  root: string,
): Promise<BucketExport | undefined> {
  // Imported here: only a decommissioning that exports a bucket needs the S3 SDK.
  const { GetObjectCommand, ListObjectsV2Command } = await import('@aws-sdk/client-s3');
  try {
    if (!(await bucketExists(call, bucket.name))) return undefined;
    let objects = 0;
    let bytes = 0;
    let token: string | undefined;
    do {
      const page = await call.client.send(new ListObjectsV2Command({ Bucket: bucket.name, ...(token ? { ContinuationToken: token } : {}) }), {
        abortSignal: call.signal,
      });
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined) continue;
        const body = await call.client.send(new GetObjectCommand({ Bucket: bucket.name, Key: object.Key }), { abortSignal: call.signal });
        const content = body.Body ? await body.Body.transformToByteArray() : new Uint8Array();
        const file = exportPathOf(root, object.Key);
        await mkdir(path.dirname(file), { recursive: true });
        await writeFile(file, content);
        objects += 1;
        bytes += content.byteLength;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return { ...bucket, objects, bytes };
  } catch (err) {
    throw s3Error(err, bucket.name);
  }
}
