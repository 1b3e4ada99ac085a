/**
 * The tenant certificate step against moto's ACM and Route 53. moto answers
 * PENDING_VALIDATION until MOTO_ACM_VALIDATION_WAIT seconds have passed (the
 * test services set a few), so the step really waits, polled by check, with
 * its validation CNAME written in the hosted zone meanwhile. Rollback removes
 * the certificate and the record, and tolerates both being gone.
 */
import { randomBytes } from 'node:crypto';
import { ACMClient, DescribeCertificateCommand, ListCertificatesCommand } from '@aws-sdk/client-acm';
import { CreateHostedZoneCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransientError } from '../../src/domain/errors.ts';
import type { CheckResult, RunResult } from '../../src/steps/step.ts';
import { tenantCertificateStep } from '../../src/steps/tenant-certificate.ts';
import { AWS_TEST_CREDENTIALS, CLOSED_PORT, stepContext } from '../support/step-context.ts';

const MOTO = process.env['AWS_ENDPOINT_URL'] ?? 'http://127.0.0.1:5000';
const id = randomBytes(3).toString('hex');
const zoneName = `tc${id}.tenants.test`;
const aws = { endpoint: MOTO, credentials: AWS_TEST_CREDENTIALS, maxAttempts: 1 };
const route53 = new Route53Client({ ...aws, region: 'us-east-1' });
const acm = new ACMClient({ ...aws, region: 'eu-west-2' });
let zoneId = '';

beforeAll(async () => {
  const zone = await route53.send(new CreateHostedZoneCommand({ Name: zoneName, CallerReference: `tc-${id}` }));
  zoneId = (zone.HostedZone?.Id ?? '').replace('/hostedzone/', '');
});
afterAll(() => {
  route53.destroy();
  acm.destroy();
});

function context(outputs: Record<string, unknown> = {}, acmEndpoint = MOTO, jobId = `acme-cert-${id}`) {
  return stepContext({
    jobId,
    stepId: 'certificate',
    outputs,
    services: {
      dns: { client: async () => route53, hostedZoneId: zoneId },
      certificates: {
        acm: async (region) => (acmEndpoint === MOTO && region === 'eu-west-2' ? acm : new ACMClient({ ...aws, endpoint: acmEndpoint, region })),
      },
    },
  });
}

async function validationRecords(): Promise<string[]> {
  const sets = await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
  return (sets.ResourceRecordSets ?? []).filter((s) => s.Type === 'CNAME' && s.Name?.startsWith('_')).map((s) => s.Name ?? '');
}

async function certificatesFor(domain: string): Promise<string[]> {
  const listed = await acm.send(new ListCertificatesCommand({}));
  return (listed.CertificateSummaryList ?? []).filter((c) => c.DomainName === domain).map((c) => c.CertificateArn ?? '');
}

const outputsOf = (result: RunResult | CheckResult) => ('outputs' in result ? (result.outputs ?? {}) : {});

describe('the tenant certificate step', () => {
  const domain = `acme.${zoneName}`;
  const step = tenantCertificateStep.bind({ domain, region: 'eu-west-2', tenantId: 'tnt_acme', pollEveryMs: 200 });

  it('requests a DNS-validated certificate in the residency region, writes the validation CNAME and is polled until ISSUED', async () => {
    const run = await step.run(context());
    expect(run).toMatchObject({ status: 'pending', pollAfterMs: 200, outputs: { domain, region: 'eu-west-2', status: 'PENDING_VALIDATION' } });
    const arn = String(outputsOf(run)['certificateArn']);
    expect(arn).toMatch(/^arn:aws:acm:eu-west-2:/);
    expect(await validationRecords()).toEqual([`_d930b28be6c5927595552b219965053e.${domain}.`]);

    // Still pending right away: the engine polls check, nothing sleeps in the step.
    expect(await step.check(context(outputsOf(run)))).toEqual({ status: 'pending', pollAfterMs: 200 });
    let result: CheckResult = { status: 'pending', pollAfterMs: 200 };
    let polls = 0;
    const deadline = Date.now() + 20_000;
    while (result.status === 'pending' && Date.now() < deadline) {
      await sleep(result.pollAfterMs);
      result = await step.check(context(outputsOf(run)));
      polls += 1;
    }
    expect(polls).toBeGreaterThan(1);
    expect(result).toMatchObject({ status: 'done', outputs: { certificateArn: arn, status: 'ISSUED' } });
    expect((await acm.send(new DescribeCertificateCommand({ CertificateArn: arn }))).Certificate?.Status).toBe('ISSUED');

    // Run again (a crash before the engine recorded it): the same certificate, not a second one.
    await step.run(context());
    expect(await certificatesFor(domain)).toEqual([arn]);

    // Rollback without the recorded ARN finds it by the job's tag; both the certificate and the record go.
    await step.rollback(context());
    expect(await certificatesFor(domain)).toEqual([]);
    expect(await validationRecords()).toEqual([]);
    await step.rollback(context(outputsOf(run)));
    expect(await step.check(context(outputsOf(run)))).toMatchObject({ status: 'missing' });
  }, 30_000);

  it('a re-run long after a crash (the idempotency token forgotten by ACM) adopts the certificate its job requested', async () => {
    const later = tenantCertificateStep.bind({ domain: `later.${zoneName}`, region: 'eu-west-2', tenantId: 'tnt_later', pollEveryMs: 200 });
    const job = `later-cert-${id}`;
    const first = await later.run(context({}, MOTO, job));
    // ACM keeps a token for an hour; a token it no longer knows is what a different one looks like.
    const second = await later.run({ ...context({}, MOTO, job), idempotencyKey: 'a-token-acm-has-forgotten' });
    expect(outputsOf(second)['certificateArn']).toBe(outputsOf(first)['certificateArn']);
    expect(await certificatesFor(`later.${zoneName}`)).toHaveLength(1);
    await later.rollback(context(outputsOf(first), MOTO, job));
    expect(await certificatesFor(`later.${zoneName}`)).toEqual([]);
  });

  it('an unreachable ACM is a transient failure, worth retrying', async () => {
    await expect(step.run(context({}, `http://127.0.0.1:${CLOSED_PORT}`))).rejects.toBeInstanceOf(TransientError);
  });
});
