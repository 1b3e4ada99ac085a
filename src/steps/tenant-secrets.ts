/**
 * Generates the tenant's credentials (database user and password, API signing
 * key) and stores them as one Secrets Manager secret. The values exist only in
 * this process's memory and in AWS: never in outputs, messages or logs.
 *
 * A retry after a crash generates new random values, so AWS refuses the second
 * CreateSecret; the secret's provisioner-job tag tells us it is our own.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { PermanentError, TransientError } from '../domain/errors.ts';
import { AwsRegionSchema } from '../domain/plan.ts';
import { uuidV5 } from './aws/client-request-token.ts';
import {
  createSecret,
  describeSecret,
  JOB_TAG,
  restoreSecret,
  scheduleDeletion,
  STEP_TAG,
  TENANT_TAG,
  type SecretFacts,
  type SecretIdentity,
} from './aws/secrets-manager.ts';
import { defineStep, type CheckResult, type Outputs, type StepContext } from './step.ts';

const input = z.strictObject({
  path: z
    .string()
    .trim()
    .min(1)
    .max(512)
    .regex(/^[A-Za-z0-9/_+=.@-]+$/, {
      error: (issue) => `"${String(issue.input)}" is not a valid secret name: use letters, digits and / _ + = . @ -`,
    }),
  tenantId: z.string().trim().min(1).max(256),
  description: z.string().max(2048).optional(),
  /** The tenant's data residency's region; without it, the deployment's (AWS_REGION). */
  region: AwsRegionSchema.optional(),
});
type Input = z.output<typeof input>;

/** Strong random credentials; the user name is not secret but travels with the password. */
function generateCredentials(tenantId: string): string {
  return JSON.stringify({
    databaseUser: `app_${tenantId.replace(/[^A-Za-z0-9_]/g, '_')}`.slice(0, 63),
    databasePassword: randomBytes(32).toString('base64url'),
    apiSigningKey: randomBytes(32).toString('hex'),
  });
}

async function secretsManager(ctx: StepContext<Input>) {
  const { secrets } = ctx.services;
  return { client: await (ctx.input.region === undefined ? secrets.client() : secrets.inRegion(ctx.input.region)), signal: ctx.signal };
}

function identityOutputs(secret: SecretIdentity): Outputs {
  return { arn: secret.arn, name: secret.name, versionId: secret.versionId };
}

/** Look up by the recorded ARN when there is one: it survives a rename of the path in the manifest. */
function secretId(ctx: StepContext<Input>): string {
  const arn = ctx.outputs['arn'];
  return typeof arn === 'string' && arn !== '' ? arn : ctx.input.path;
}

function notOurs(path: string, secret: SecretFacts): PermanentError {
  const owner = secret.ownerJob === undefined ? 'it has no provisioner-job tag' : `it belongs to provisioner job ${secret.ownerJob}`;
  const pending = secret.deletedDate === undefined ? '' : ` and is scheduled for deletion on ${secret.deletedDate.toISOString()}`;
  return new PermanentError(
    `secret ${path} already exists and was not created by this job (${owner}${pending}); ` +
      'remove or rename that secret in AWS Secrets Manager, or pick another slug, then retry',
  );
}

/** The name is taken: ours from an earlier attempt (restored if a rollback scheduled it for deletion), or refuse. */
async function adoptOwnSecret(ctx: StepContext<Input>): Promise<SecretIdentity> {
  const existing = await describeSecret(await secretsManager(ctx), ctx.input.path);
  if (existing === undefined) {
    // Deleted for good in between, or not yet visible (AWS is eventually consistent): try again.
    throw new TransientError(`Secrets Manager refused to create secret ${ctx.input.path} as existing, but cannot find it yet`);
  }
  if (existing.ownerJob !== ctx.jobId) throw notOurs(ctx.input.path, existing);
  if (existing.deletedDate !== undefined) await restoreSecret(await secretsManager(ctx), existing.arn);
  return existing;
}

export const tenantSecretsStep = defineStep({
  type: 'tenant_secrets',
  description: "Generates the tenant's database credentials and API signing key and stores them in AWS Secrets Manager.",
  facts: { name: 'Secret', arn: 'Secret ARN' },
  input,
  uses: ['aws-secrets'],
  async run(ctx) {
    const created = await createSecret(await secretsManager(ctx), {
      name: ctx.input.path,
      description: ctx.input.description ?? `Credentials of tenant ${ctx.input.tenantId}`,
      value: generateCredentials(ctx.input.tenantId),
      // Same on every attempt: a retry whose first call did land is recognised by AWS itself.
      clientRequestToken: uuidV5(ctx.idempotencyKey),
      tags: { [TENANT_TAG]: ctx.input.tenantId, [JOB_TAG]: ctx.jobId, [STEP_TAG]: ctx.stepId },
    });
    const secret = created === 'name-taken' ? await adoptOwnSecret(ctx) : created;
    return { status: 'done', outputs: identityOutputs(secret) };
  },
  async check(ctx): Promise<CheckResult> {
    const secret = await describeSecret(await secretsManager(ctx), secretId(ctx));
    const path = ctx.input.path;
    if (secret === undefined) return { status: 'missing', reason: `secret ${path} does not exist` };
    if (secret.deletedDate !== undefined) return { status: 'missing', reason: `secret ${path} is scheduled for deletion` };
    // A secret someone else made at our path is not this step's work: run must refuse it.
    if (secret.ownerJob !== ctx.jobId) return { status: 'missing', reason: `secret ${path} was not created by this job` };
    return { status: 'done', outputs: identityOutputs(secret) };
  },
  async rollback(ctx) {
    // Only ever delete our own secret, even when the outputs were never recorded.
    const secret = await describeSecret(await secretsManager(ctx), secretId(ctx));
    if (secret === undefined || secret.deletedDate !== undefined || secret.ownerJob !== ctx.jobId) return;
    await scheduleDeletion(await secretsManager(ctx), secret.arn, ctx.services.secrets.recoveryWindowDays);
  },
  plan(cfg, context) {
    return {
      summary: `Generate the database credentials and API signing key of ${cfg.tenantId} and store them as one secret`,
      resources: [
        {
          system: 'AWS Secrets Manager',
          kind: 'secret',
          name: cfg.path,
          place: cfg.region ?? context.placement.awsRegion,
          settings: ['database user and password, API signing key (generated, never shown)', `tagged with tenant ${cfg.tenantId}`],
          unknown: ['ARN: assigned at creation'],
        },
      ],
    };
  },
  describe(cfg) {
    return `Credentials for ${cfg.tenantId} stored in AWS Secrets Manager at ${cfg.path}${cfg.region ? ` in ${cfg.region}` : ''}`;
  },
});
