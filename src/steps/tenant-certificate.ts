/**
 * A TLS certificate for the tenant's subdomain, from ACM in its residency's
 * region, validated by DNS: the step requests it (idempotency token from job
 * and step), writes the validation CNAME ACM asks for into the hosted zone,
 * and the engine polls `check` until ACM says ISSUED (pollTimeoutMs caps the
 * wait; nothing sleeps in a worker). Attaching the certificate to the edge
 * (load balancer, CDN) is not this step: the ARN is an output for whoever
 * does that, e.g. a webhook step after this one.
 */
import { z } from 'zod';
import { PermanentError } from '../domain/errors.ts';
import { AwsRegionSchema } from '../domain/plan.ts';
import {
  acmIdempotencyToken,
  deleteCertificate,
  describeCertificate,
  findTaggedCertificate,
  requestCertificate,
  type CertificateFacts,
} from './aws/acm-certificates.ts';
import { deleteRecordSet, findRecordSet, normaliseDnsName, upsertRecord, type RecordAddress } from './aws/route53-records.ts';
import { JOB_TAG, STEP_TAG, TENANT_TAG } from './aws/secrets-manager.ts';
import { defineStep, type CheckResult, type Outputs, type StepContext } from './step.ts';
import { tenantIdSchema } from './tenant-data/layout.ts';

const input = z.strictObject({
  domain: z
    .string()
    .trim()
    .max(253)
    .regex(/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, {
      error: (issue) => `"${String(issue.input)}" is not a host name like acme.tenants.example.com`,
    }),
  region: AwsRegionSchema,
  tenantId: tenantIdSchema,
  validationTtl: z.int().min(30).max(86_400).default(300),
  pollEveryMs: z.int().min(100).max(600_000).default(2000),
});
type Input = z.output<typeof input>;

const output = z.strictObject({
  certificateArn: z.string(),
  domain: z.string(),
  region: AwsRegionSchema,
  validationRecord: z.string().optional(),
  status: z.string(),
});
type Output = z.output<typeof output>;

async function acm(ctx: StepContext<Input>) {
  return { client: await ctx.services.certificates.acm(ctx.input.region), signal: ctx.signal };
}

async function route53(ctx: StepContext<Input>) {
  return { client: await ctx.services.dns.client(), signal: ctx.signal };
}

function recorded(outputs: Outputs): Output | undefined {
  const parsed = output.safeParse(outputs);
  return parsed.success ? parsed.data : undefined;
}

function validationAddress(ctx: StepContext<Input>, name: string): RecordAddress {
  return { zoneId: ctx.services.dns.hostedZoneId, name: normaliseDnsName(name), type: 'CNAME' };
}

/** Writes the CNAME ACM asked for (UPSERT: the same record again changes nothing); its name once written. */
async function writeValidation(ctx: StepContext<Input>, facts: CertificateFacts): Promise<string | undefined> {
  if (facts.validation === undefined) return undefined; // ACM has not made it yet: the next poll writes it.
  const where = validationAddress(ctx, facts.validation.name);
  const comment = `ACM validation of ${ctx.input.domain} by tenant provisioner job ${ctx.jobId}, step ${ctx.stepId}`;
  await upsertRecord(await route53(ctx), { ...where, values: [facts.validation.value], ttl: ctx.input.validationTtl }, comment);
  return where.name;
}

function outputsOf(ctx: StepContext<Input>, arn: string, status: string, validationRecord: string | undefined): Output {
  return output.parse({
    certificateArn: arn,
    domain: ctx.input.domain,
    region: ctx.input.region,
    status,
    ...(validationRecord ? { validationRecord } : {}),
  });
}

async function poll(ctx: StepContext<Input>, arn: string): Promise<CheckResult> {
  const facts = await describeCertificate(await acm(ctx), arn, ctx.input.domain);
  if (facts === undefined) return { status: 'missing', reason: `certificate ${arn} for ${ctx.input.domain} no longer exists in ACM` };
  const validationRecord = await writeValidation(ctx, facts);
  if (facts.status === 'ISSUED') return { status: 'done', outputs: outputsOf(ctx, arn, facts.status, validationRecord) };
  if (facts.status === 'PENDING_VALIDATION') return { status: 'pending', pollAfterMs: ctx.input.pollEveryMs };
  throw new PermanentError(
    `ACM did not issue the certificate for ${ctx.input.domain} (${facts.status}); check the validation record in the hosted zone, then retry`,
  );
}

export const tenantCertificateStep = defineStep({
  type: 'tenant_certificate',
  description: "Requests an ACM certificate for the tenant's subdomain in its residency's region, validates it through Route 53, waits until ISSUED.",
  facts: { certificateArn: 'TLS certificate' },
  input,
  output,
  uses: ['aws-acm', 'aws-route53'],
  async run(ctx) {
    const tags = { [TENANT_TAG]: ctx.input.tenantId, [JOB_TAG]: ctx.jobId, [STEP_TAG]: ctx.stepId };
    const token = acmIdempotencyToken(ctx.idempotencyKey);
    // The recorded ARN, else one this job requested before a crash (ACM honours the token for an hour only), else a new one.
    const arn =
      recorded(ctx.outputs)?.certificateArn ??
      (await findTaggedCertificate(await acm(ctx), ctx.input.domain, { key: JOB_TAG, value: ctx.jobId })) ??
      (await requestCertificate(await acm(ctx), { domain: ctx.input.domain, token, tags }));
    const facts = await describeCertificate(await acm(ctx), arn, ctx.input.domain);
    const validationRecord = facts === undefined ? undefined : await writeValidation(ctx, facts);
    return { status: 'pending', pollAfterMs: ctx.input.pollEveryMs, outputs: outputsOf(ctx, arn, facts?.status ?? 'REQUESTED', validationRecord) };
  },
  async check(ctx) {
    const arn = recorded(ctx.outputs)?.certificateArn;
    if (arn === undefined) return { status: 'missing', reason: `no certificate was requested for ${ctx.input.domain} yet` };
    return poll(ctx, arn);
  },
  async rollback(ctx) {
    // Found by the job's tag when the ARN was never recorded (a crash right after the request).
    const arn =
      recorded(ctx.outputs)?.certificateArn ?? (await findTaggedCertificate(await acm(ctx), ctx.input.domain, { key: JOB_TAG, value: ctx.jobId }));
    if (arn === undefined) return;
    // The record first: with the certificate gone, only the recorded name would still find it.
    const facts = await describeCertificate(await acm(ctx), arn, ctx.input.domain);
    const recordName = facts?.validation?.name ?? recorded(ctx.outputs)?.validationRecord;
    if (recordName !== undefined) {
      const where = validationAddress(ctx, recordName);
      const set = await findRecordSet(await route53(ctx), where);
      if (set !== undefined)
        await deleteRecordSet(await route53(ctx), where, set, `Rolled back by tenant provisioner job ${ctx.jobId}, step ${ctx.stepId}`);
    }
    await deleteCertificate(await acm(ctx), arn, ctx.input.domain);
  },
  plan(cfg, context) {
    return {
      summary: `Request a TLS certificate for ${cfg.domain} in ${cfg.region}, validate it through DNS and wait until ACM issues it`,
      resources: [
        {
          system: 'AWS ACM',
          kind: 'certificate',
          name: cfg.domain,
          place: cfg.region,
          settings: ['DNS validation', `tagged tenant ${cfg.tenantId}`],
          unknown: ['ARN: assigned at creation'],
        },
        {
          system: 'Route 53',
          kind: 'CNAME record',
          name: `ACM validation record for ${cfg.domain}`,
          namedAtCreation: true,
          place: `hosted zone ${context.placement.hostedZone}`,
          settings: [`TTL ${cfg.validationTtl} s`],
          unknown: ['record name and target: given by ACM with the certificate'],
        },
      ],
    };
  },
  describe(cfg, outputs) {
    const arn = recorded(outputs)?.certificateArn;
    return `TLS certificate for ${cfg.domain} issued by ACM in ${cfg.region}${arn ? ` (${arn})` : ''}`;
  },
});
