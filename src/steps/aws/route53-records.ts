/**
 * The Route 53 calls the DNS record step makes, and what their failures mean.
 * Route 53 has no client token: UPSERT is what makes a re-run harmless, and a
 * DELETE must repeat the record's exact TTL and values, so it is read first.
 */
import type { ResourceRecordSet, Route53Client } from '@aws-sdk/client-route-53';
import { PermanentError } from '../../domain/errors.ts';
import { awsFailure, isAccessDenied, isAwsError, isTransientAwsFailure, transientAwsError } from './errors.ts';

/** The SDK's module, imported on a step's first call: a process that runs no DNS step never loads it. */
const sdk = () => import('@aws-sdk/client-route-53');

export type RecordType = 'CNAME' | 'A';

/** Where a record lives: enough to find it again without anything this step recorded. */
export type RecordAddress = { zoneId: string; name: string; type: RecordType };

export type DesiredRecord = RecordAddress & { values: readonly string[]; ttl: number };

type Call = { client: Route53Client; signal: AbortSignal };

/** Route 53 answers names lower-case, with a trailing dot and `*` as `\052`. */
export function normaliseDnsName(name: string): string {
  return name
    .trim()
    .replace(/\\(\d{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)))
    .replace(/\.$/, '')
    .toLowerCase();
}

function normaliseValue(type: string, value: string): string {
  return type === 'CNAME' ? normaliseDnsName(value) : value.trim();
}

/** Same values in any order (Route 53 keeps the order it was given, but a person may not). */
export function sameValues(type: string, actual: readonly string[], wanted: readonly string[]): boolean {
  const a = actual.map((v) => normaliseValue(type, v)).sort();
  const b = wanted.map((v) => normaliseValue(type, v)).sort();
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export function valuesOf(set: ResourceRecordSet): string[] {
  return (set.ResourceRecords ?? []).flatMap((r) => (r.Value === undefined ? [] : [r.Value]));
}

/** Route 53 strips nothing from what it returns: "/change/C123" becomes "C123". */
function bareChangeId(id: string): string {
  return id.replace(/^\/change\//, '');
}

export async function upsertRecord(call: Call, record: DesiredRecord, comment: string): Promise<{ changeId: string; status: string }> {
  const { ChangeResourceRecordSetsCommand } = await sdk();
  try {
    const answer = await call.client.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: record.zoneId,
        ChangeBatch: {
          // Route 53 caps the comment at 256 characters.
          Comment: comment.slice(0, 256),
          Changes: [
            {
              Action: 'UPSERT',
              ResourceRecordSet: {
                Name: record.name,
                Type: record.type,
                TTL: record.ttl,
                ResourceRecords: record.values.map((value) => ({ Value: value })),
              },
            },
          ],
        },
      }),
      { abortSignal: call.signal },
    );
    return { changeId: bareChangeId(answer.ChangeInfo?.Id ?? ''), status: answer.ChangeInfo?.Status ?? 'PENDING' };
  } catch (err) {
    throw route53Error(err, record);
  }
}

/** PENDING or INSYNC; 'unknown' when Route 53 no longer knows the change (then look at the record itself). */
export async function changeStatus(call: Call, changeId: string, where: RecordAddress): Promise<string> {
  const { GetChangeCommand } = await sdk();
  try {
    const answer = await call.client.send(new GetChangeCommand({ Id: changeId }), { abortSignal: call.signal });
    return answer.ChangeInfo?.Status ?? 'unknown';
  } catch (err) {
    if (isAwsError(err, 'NoSuchChange')) return 'unknown';
    throw route53Error(err, where);
  }
}

/** The record set with this exact name and type, or undefined. */
export async function findRecordSet(call: Call, where: RecordAddress): Promise<ResourceRecordSet | undefined> {
  const { ListResourceRecordSetsCommand } = await sdk();
  try {
    // The listing starts at the given name and type, in Route 53's order: the
    // first set is ours only if its name and type match.
    const answer = await call.client.send(
      new ListResourceRecordSetsCommand({
        HostedZoneId: where.zoneId,
        StartRecordName: where.name,
        StartRecordType: where.type,
        MaxItems: 1,
      }),
      { abortSignal: call.signal },
    );
    const first = answer.ResourceRecordSets?.[0];
    if (first === undefined) return undefined;
    const matches = normaliseDnsName(first.Name ?? '') === normaliseDnsName(where.name) && first.Type === where.type;
    return matches ? first : undefined;
  } catch (err) {
    throw route53Error(err, where);
  }
}

/**
 * Deletes the set as read. A rejected DELETE usually means someone removed or
 * changed it in between (moto says InvalidInput, AWS InvalidChangeBatch "not
 * found"): look again, and only a record still there is a real failure.
 */
export async function deleteRecordSet(call: Call, where: RecordAddress, set: ResourceRecordSet, comment: string): Promise<void> {
  const { ChangeResourceRecordSetsCommand } = await sdk();
  try {
    await call.client.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: where.zoneId,
        ChangeBatch: { Comment: comment.slice(0, 256), Changes: [{ Action: 'DELETE', ResourceRecordSet: set }] },
      }),
      { abortSignal: call.signal },
    );
  } catch (err) {
    if (isAwsError(err, 'InvalidInput', 'InvalidChangeBatch') && (await findRecordSet(call, where)) === undefined) return;
    throw route53Error(err, where);
  }
}

/** Transient for throttling and server trouble; otherwise a message a person can act on. */
export function route53Error(err: unknown, where: RecordAddress): Error {
  const failure = awsFailure(err);
  if (isTransientAwsFailure(failure)) return transientAwsError('Route 53', failure);
  const record = `${where.name} (${where.type})`;
  if (failure.code === 'NoSuchHostedZone') {
    return new PermanentError(`Route 53 has no hosted zone ${where.zoneId} (check ROUTE53_HOSTED_ZONE_ID)`);
  }
  if (isAccessDenied(failure)) {
    return new PermanentError(
      `the bot's AWS credentials may not change DNS record ${record} in hosted zone ${where.zoneId} (${failure.code}); ` +
        'grant route53:ChangeResourceRecordSets, route53:GetChange and route53:ListResourceRecordSets on that zone',
    );
  }
  if (failure.code === 'InvalidChangeBatch' || failure.code === 'InvalidInput') {
    return new PermanentError(`Route 53 rejected DNS record ${record} in hosted zone ${where.zoneId}: ${failure.message}`);
  }
  return new PermanentError(`Route 53 refused the request for DNS record ${record} (${failure.code}): ${failure.message}`);
}
