/**
 * The DNS record step against moto's Route 53, each test in its own hosted
 * zone. moto applies every change at once; the PENDING → INSYNC wait and
 * injected failures go through the loopback proxy in front of it.
 */
import { randomUUID } from 'node:crypto';
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
  type ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PermanentError, TransientError } from '../../src/domain/errors.ts';
import { dnsRecordStep } from '../../src/steps/dns-record.ts';
import type { StepContext } from '../../src/steps/step.ts';
import { startRoute53PendingProxy, type Route53PendingProxy } from '../support/route53-pending-proxy.ts';
import { AWS_TEST_CREDENTIALS, CLOSED_PORT, stepContext } from '../support/step-context.ts';

const MOTO = process.env['AWS_ENDPOINT_URL'] ?? 'http://127.0.0.1:5000';
const EDGE = 'edge.example.net';

function route53(endpoint = MOTO): Route53Client {
  // One attempt: the step, not the SDK, decides what a failure means.
  return new Route53Client({ endpoint, region: 'us-east-1', credentials: AWS_TEST_CREDENTIALS, maxAttempts: 1 });
}

const moto = route53();

type Zone = { zoneId: string; zoneName: string; hostname: string };

async function newZone(): Promise<Zone> {
  const suffix = randomUUID().slice(0, 8);
  const zoneName = `t${suffix}.tenants.example.com`;
  const answer = await moto.send(new CreateHostedZoneCommand({ Name: zoneName, CallerReference: `dns-test-${suffix}` }));
  const zoneId = (answer.HostedZone?.Id ?? '').replace('/hostedzone/', '');
  return { zoneId, zoneName, hostname: `acme.${zoneName}` };
}

function dnsContext(
  zone: Zone,
  opts: { client?: Route53Client; jobId?: string; outputs?: Record<string, unknown>; zoneId?: string } = {},
): StepContext<unknown> {
  return stepContext({
    jobId: opts.jobId ?? 'acme-dns-job',
    stepId: 'dns',
    outputs: opts.outputs ?? {},
    services: { dns: { client: async () => opts.client ?? moto, hostedZoneId: opts.zoneId ?? zone.zoneId } },
  });
}

/** Every record set in the zone with this name (moto's state, not the step's word). */
async function recordsNamed(zone: Zone, name: string): Promise<ResourceRecordSet[]> {
  const answer = await moto.send(new ListResourceRecordSetsCommand({ HostedZoneId: zone.zoneId }));
  return (answer.ResourceRecordSets ?? []).filter((set) => set.Name === `${name}.`);
}

async function changeOutOfBand(zone: Zone, action: 'UPSERT' | 'DELETE', set: ResourceRecordSet): Promise<void> {
  await moto.send(
    new ChangeResourceRecordSetsCommand({ HostedZoneId: zone.zoneId, ChangeBatch: { Changes: [{ Action: action, ResourceRecordSet: set }] } }),
  );
}

describe('the DNS record step points a tenant hostname at our edge', () => {
  let zone: Zone;
  beforeEach(async () => {
    zone = await newZone();
  });

  it('creates the record, says it is pending, and check confirms it once Route 53 is in sync', async () => {
    const step = dnsRecordStep.bind({ name: zone.hostname, values: [EDGE] });
    const result = await step.run(dnsContext(zone));
    expect(result).toEqual({
      status: 'pending',
      pollAfterMs: 2000,
      outputs: { changeId: 'C2682N5HXP0BZ4', name: zone.hostname, type: 'CNAME', values: [EDGE], ttl: 300 },
    });
    const outputs = result.outputs ?? {};
    expect(await step.check(dnsContext(zone, { outputs }))).toEqual({ status: 'done' });
    const [record, ...others] = await recordsNamed(zone, zone.hostname);
    expect(others).toEqual([]);
    expect(record).toMatchObject({ Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: EDGE }] });
    expect(step.describe(outputs)).toBe(`DNS record ${zone.hostname} (CNAME) points at ${EDGE}`);
  });

  it('running twice (a retry after a crash) leaves exactly one record, updated in place', async () => {
    await dnsRecordStep.bind({ name: zone.hostname, type: 'A', values: ['10.0.0.1'], ttl: 60 }).run(dnsContext(zone));
    const again = dnsRecordStep.bind({ name: zone.hostname, type: 'A', values: ['10.0.0.2', '10.0.0.1'], ttl: 60 });
    await again.run(dnsContext(zone));
    const records = await recordsNamed(zone, zone.hostname);
    expect(records).toHaveLength(1);
    expect(records[0]?.ResourceRecords?.map((r) => r.Value).sort()).toEqual(['10.0.0.1', '10.0.0.2']);
    // A check with no recorded outputs (the engine's look-before-running after a crash) reads the record itself.
    expect(await again.check(dnsContext(zone))).toEqual({ status: 'done' });
  });

  it('rollback deletes the record, and a second rollback is a no-op', async () => {
    const step = dnsRecordStep.bind({ name: zone.hostname, values: [EDGE] });
    const { outputs } = await step.run(dnsContext(zone));
    await step.rollback(dnsContext(zone, { outputs }));
    expect(await recordsNamed(zone, zone.hostname)).toEqual([]);
    await step.rollback(dnsContext(zone, { outputs }));
    expect(await step.check(dnsContext(zone, { outputs }))).toEqual({
      status: 'missing',
      reason: `DNS record ${zone.hostname} (CNAME) does not exist in hosted zone ${zone.zoneId}`,
    });
  });

  it('rollback with no recorded outputs still finds the record, with whatever TTL and value it has now', async () => {
    const step = dnsRecordStep.bind({ name: zone.hostname, values: [EDGE] });
    await step.run(dnsContext(zone));
    await changeOutOfBand(zone, 'UPSERT', { Name: zone.hostname, Type: 'CNAME', TTL: 60, ResourceRecords: [{ Value: 'other.example.net' }] });
    await step.rollback(dnsContext(zone));
    expect(await recordsNamed(zone, zone.hostname)).toEqual([]);
  });

  it('check reports the record missing after someone deletes or repoints it out of band', async () => {
    const step = dnsRecordStep.bind({ name: zone.hostname, values: [EDGE] });
    const { outputs } = await step.run(dnsContext(zone));
    await changeOutOfBand(zone, 'UPSERT', { Name: zone.hostname, Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: 'elsewhere.example.org' }] });
    expect(await step.check(dnsContext(zone, { outputs }))).toEqual({
      status: 'missing',
      reason: `DNS record ${zone.hostname} (CNAME) points at elsewhere.example.org, not ${EDGE}`,
    });
    await changeOutOfBand(zone, 'DELETE', { Name: zone.hostname, Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: 'elsewhere.example.org' }] });
    expect(await step.check(dnsContext(zone, { outputs }))).toMatchObject({ status: 'missing' });
  });

  it('a hosted zone that does not exist fails for good, naming the zone and the setting', async () => {
    const step = dnsRecordStep.bind({ name: zone.hostname, values: [EDGE] });
    const run = step.run(dnsContext(zone, { zoneId: 'Z0NOSUCHZONE42' }));
    await expect(run).rejects.toBeInstanceOf(PermanentError);
    await expect(run).rejects.toThrow('Route 53 has no hosted zone Z0NOSUCHZONE42 (check ROUTE53_HOSTED_ZONE_ID)');
  });

  it('a name outside the hosted zone fails for good with Route 53 reason', async () => {
    const step = dnsRecordStep.bind({ name: 'acme.not-our-zone.example.org', values: [EDGE] });
    const run = step.run(dnsContext(zone));
    await expect(run).rejects.toBeInstanceOf(PermanentError);
    await expect(run).rejects.toThrow(/Route 53 rejected DNS record acme\.not-our-zone\.example\.org \(CNAME\) in hosted zone .*not permitted/);
  });

  it('refuses configs Route 53 would reject, before any call', () => {
    expect(() => dnsRecordStep.bind({ name: zone.hostname, values: [EDGE, 'edge2.example.net'] })).toThrow(/exactly one name/);
    expect(() => dnsRecordStep.bind({ name: zone.hostname, type: 'A', values: ['not-an-ip'] })).toThrow(/not an IPv4 address/);
    expect(() => dnsRecordStep.bind({ name: 'not a hostname', values: [EDGE] })).toThrow(/not a DNS name/);
    expect(() => dnsRecordStep.bind({ name: zone.hostname, values: [] })).toThrow(/at least one value/);
    // What a manifest placeholder gives: one target as a plain string, a TTL from an env variable.
    expect(() => dnsRecordStep.bind({ name: zone.hostname, values: EDGE, ttl: '120' })).not.toThrow();
  });

  it('an unreachable Route 53 is a temporary problem', async () => {
    const step = dnsRecordStep.bind({ name: zone.hostname, values: [EDGE] });
    const run = step.run(dnsContext(zone, { client: route53(`http://127.0.0.1:${CLOSED_PORT}`) }));
    await expect(run).rejects.toBeInstanceOf(TransientError);
    await expect(run).rejects.toThrow(/Route 53 could not be reached/);
  });
});

describe('while Route 53 propagates a change, and when it pushes back', () => {
  let zone: Zone;
  let proxy: Route53PendingProxy;
  let client: Route53Client;
  beforeEach(async () => {
    zone = await newZone();
    proxy = await startRoute53PendingProxy({ target: MOTO, pendingPolls: 2 });
    client = route53(proxy.url);
  });
  afterEach(async () => {
    client.destroy();
    await proxy.close();
  });

  it('check says pending while the change is PENDING, then done once it is INSYNC', async () => {
    const step = dnsRecordStep.bind({ name: zone.hostname, values: [EDGE], pollEveryMs: 500 });
    const { outputs = {} } = await step.run(dnsContext(zone, { client }));
    const [changeId] = proxy.changeIds();
    expect(outputs['changeId']).toBe(changeId);
    expect(changeId).not.toBe('C2682N5HXP0BZ4');
    const polls = [];
    for (let i = 0; i < 3; i += 1) polls.push(await step.check(dnsContext(zone, { client, outputs })));
    expect(polls).toEqual([{ status: 'pending', pollAfterMs: 500 }, { status: 'pending', pollAfterMs: 500 }, { status: 'done' }]);
    expect(changeId === undefined ? 0 : proxy.pollsOf(changeId)).toBe(3);
    expect(await recordsNamed(zone, zone.hostname)).toHaveLength(1);
  });

  it('throttling and server errors are temporary, so the engine retries', async () => {
    const step = dnsRecordStep.bind({ name: zone.hostname, values: [EDGE] });
    proxy.failNext(1, 400);
    const throttled = step.run(dnsContext(zone, { client }));
    await expect(throttled).rejects.toBeInstanceOf(TransientError);
    await expect(throttled).rejects.toThrow('Route 53 is throttling requests (Throttling); will try again');
    expect(await recordsNamed(zone, zone.hostname)).toEqual([]);

    const { outputs } = await step.run(dnsContext(zone, { client }));
    proxy.failNext(1, 503);
    await expect(step.check(dnsContext(zone, { client, outputs }))).rejects.toThrow(/Route 53 had a temporary problem \(HTTP 503/);
    proxy.failNext(1, 500);
    await expect(step.rollback(dnsContext(zone, { client, outputs }))).rejects.toBeInstanceOf(TransientError);
    proxy.failNext(1, 400, 'PriorRequestNotComplete');
    await expect(step.rollback(dnsContext(zone, { client, outputs }))).rejects.toBeInstanceOf(TransientError);
    await step.rollback(dnsContext(zone, { client, outputs }));
    expect(await recordsNamed(zone, zone.hostname)).toEqual([]);
  });

  it('access denied fails for good and says which permissions to grant', async () => {
    const step = dnsRecordStep.bind({ name: zone.hostname, values: [EDGE] });
    proxy.failNext(1, 403, 'AccessDenied');
    const run = step.run(dnsContext(zone, { client }));
    await expect(run).rejects.toBeInstanceOf(PermanentError);
    await expect(run).rejects.toThrow(/may not change DNS record .* grant route53:ChangeResourceRecordSets/);
  });
});
