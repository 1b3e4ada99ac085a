/**
 * Points the tenant's hostname at our edge with a Route 53 record, then waits
 * until Route 53 reports the change INSYNC on its name servers. The engine
 * polls `check` (and gives up after the step's pollTimeoutMs); nothing sleeps
 * in a worker.
 */
import { z } from 'zod';
import { defineStep, type CheckResult, type Outputs, type StepContext } from './step.ts';
import {
  changeStatus,
  deleteRecordSet,
  findRecordSet,
  normaliseDnsName,
  sameValues,
  upsertRecord,
  valuesOf,
  type DesiredRecord,
  type RecordAddress,
} from './aws/route53-records.ts';

const DNS_NAME = /^(\*\.)?([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}\.?$/;

const input = z
  .strictObject({
    name: z
      .string()
      .trim()
      .max(253, { error: 'A DNS name is at most 253 characters' })
      .regex(DNS_NAME, { error: (issue) => `"${String(issue.input)}" is not a DNS name like acme.tenants.example.com` }),
    type: z.enum(['CNAME', 'A'], { error: 'type must be CNAME or A' }).default('CNAME'),
    // A single target may be written without the list: values: ${settings.dnsRecordTarget}
    values: z.preprocess(
      (raw) => (typeof raw === 'string' ? [raw] : raw),
      z.array(z.string().trim().min(1, { error: 'A record value cannot be empty' })).min(1, { error: 'Give at least one value' }),
    ),
    ttl: z.coerce.number().int().min(0).max(2_147_483_647).default(300),
    pollEveryMs: z.number().int().min(100).max(600_000).default(2000),
  })
  .superRefine((cfg, ctx) => {
    if (cfg.type === 'CNAME' && cfg.values.length !== 1) {
      ctx.addIssue({ code: 'custom', path: ['values'], input: cfg.values, message: 'A CNAME record points at exactly one name' });
    }
    if (cfg.type === 'CNAME' && cfg.values.some((v) => !DNS_NAME.test(v))) {
      ctx.addIssue({ code: 'custom', path: ['values'], input: cfg.values, message: 'A CNAME value is a host name like edge.example.net' });
    }
    for (const value of cfg.type === 'A' ? cfg.values : []) {
      if (!z.ipv4().safeParse(value).success) {
        ctx.addIssue({ code: 'custom', path: ['values'], input: value, message: `"${value}" is not an IPv4 address` });
      }
    }
  });
type Input = z.output<typeof input>;

function address(ctx: StepContext<Input>): RecordAddress {
  return { zoneId: ctx.services.dns.hostedZoneId, name: normaliseDnsName(ctx.input.name), type: ctx.input.type };
}

function desired(ctx: StepContext<Input>): DesiredRecord {
  return { ...address(ctx), values: ctx.input.values, ttl: ctx.input.ttl };
}

async function route53(ctx: StepContext<Input>) {
  return { client: await ctx.services.dns.client(), signal: ctx.signal };
}

/** Shown in the Route 53 console's change history, so a person can tell who changed the record. */
function comment(ctx: StepContext<Input>, what: string): string {
  return `${what} by tenant provisioner job ${ctx.jobId}, step ${ctx.stepId}`;
}

function recordedChangeId(outputs: Outputs): string | undefined {
  const id = outputs['changeId'];
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/** The change has reached every name server: confirm the record says what we asked for. */
async function verifyRecord(ctx: StepContext<Input>): Promise<CheckResult> {
  const where = address(ctx);
  const set = await findRecordSet(await route53(ctx), where);
  const label = `DNS record ${where.name} (${where.type})`;
  if (set === undefined) return { status: 'missing', reason: `${label} does not exist in hosted zone ${where.zoneId}` };
  const actual = valuesOf(set);
  if (!sameValues(where.type, actual, ctx.input.values)) {
    return { status: 'missing', reason: `${label} points at ${actual.join(', ')}, not ${ctx.input.values.join(', ')}` };
  }
  return { status: 'done' };
}

export const dnsRecordStep = defineStep({
  type: 'dns_record',
  description: "Creates or updates the tenant's Route 53 record (UPSERT) and waits until the change is INSYNC.",
  facts: { name: 'DNS name' },
  input,
  uses: ['aws-route53'],
  async run(ctx) {
    const record = desired(ctx);
    const { changeId } = await upsertRecord(await route53(ctx), record, comment(ctx, 'Set'));
    // Even a change answered INSYNC is confirmed by check, which reads the record back.
    return {
      status: 'pending',
      pollAfterMs: ctx.input.pollEveryMs,
      outputs: { changeId, name: record.name, type: record.type, values: [...record.values], ttl: record.ttl },
    };
  },
  async check(ctx) {
    const changeId = recordedChangeId(ctx.outputs);
    if (changeId !== undefined) {
      const status = await changeStatus(await route53(ctx), changeId, address(ctx));
      if (status === 'PENDING') return { status: 'pending', pollAfterMs: ctx.input.pollEveryMs };
    }
    return verifyRecord(ctx);
  },
  async rollback(ctx) {
    // Found by name and type, so a run whose outputs were never recorded is undone too.
    const where = address(ctx);
    const set = await findRecordSet(await route53(ctx), where);
    if (set === undefined) return;
    await deleteRecordSet(await route53(ctx), where, set, comment(ctx, 'Rolled back'));
  },
  plan(cfg, context) {
    const name = normaliseDnsName(cfg.name);
    const target = cfg.values.join(', ');
    return {
      summary: `Point ${name} at ${target} and wait until Route 53 reports the change in sync`,
      resources: [
        {
          system: 'Route 53',
          kind: `${cfg.type} record`,
          name,
          place: `hosted zone ${context.placement.hostedZone}`,
          settings: [`→ ${target}`, `TTL ${cfg.ttl} s`],
          unknown: [],
        },
      ],
    };
  },
  describe(cfg) {
    return `DNS record ${normaliseDnsName(cfg.name)} (${cfg.type}) points at ${cfg.values.join(', ')}`;
  },
});
