/**
 * The Secrets Manager calls the tenant secrets step makes, and what their
 * failures mean. Secret values go in and never come back out of here: these
 * functions return names, ARNs, versions and tags only.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PermanentError } from '../../domain/errors.ts';
import { awsFailure, isAccessDenied, isAwsError, isTransientAwsFailure, transientAwsError } from './errors.ts';

/** The SDK's module, imported on a step's first call: a process that runs no secrets step never loads it. */
const sdk = () => import('@aws-sdk/client-secrets-manager');

/** Tag naming the provisioning job that created a secret: how a retry recognises its own. */
export const JOB_TAG = 'provisioner-job';
export const STEP_TAG = 'provisioner-step';
export const TENANT_TAG = 'tenant-id';

type Call = { client: SecretsManagerClient; signal: AbortSignal };

export type SecretIdentity = { arn: string; name: string; versionId: string };

export type SecretFacts = SecretIdentity & {
  /** Set while the secret is scheduled for deletion (still recoverable). */
  deletedDate: Date | undefined;
  /** The provisioner-job tag, if any. */
  ownerJob: string | undefined;
};

export type NewSecret = {
  name: string;
  description: string | undefined;
  /** The SecretString; only ever sent to AWS. */
  value: string;
  clientRequestToken: string;
  tags: Readonly<Record<string, string>>;
};

/**
 * Creates the secret, or says its name is taken: by our own earlier attempt
 * (its random value differs, so even the same token is refused), by someone
 * else, or by a secret scheduled for deletion (AWS: InvalidRequestException
 * "scheduled for deletion"; moto: ResourceExistsException).
 */
export async function createSecret(call: Call, secret: NewSecret): Promise<SecretIdentity | 'name-taken'> {
  const { CreateSecretCommand } = await sdk();
  try {
    const answer = await call.client.send(
      new CreateSecretCommand({
        Name: secret.name,
        Description: secret.description,
        SecretString: secret.value,
        ClientRequestToken: secret.clientRequestToken,
        Tags: Object.entries(secret.tags).map(([Key, Value]) => ({ Key, Value })),
      }),
      { abortSignal: call.signal },
    );
    return { arn: answer.ARN ?? '', name: answer.Name ?? secret.name, versionId: answer.VersionId ?? '' };
  } catch (err) {
    if (isAwsError(err, 'ResourceExistsException') || isDeletionConflict(err)) return 'name-taken';
    throw secretsError(err, secret.name);
  }
}

/** AWS: "already scheduled for deletion"; moto: "currently marked deleted". */
function isDeletionConflict(err: unknown): boolean {
  return isAwsError(err, 'InvalidRequestException') && err instanceof Error && /delet/i.test(err.message);
}

/** undefined when no secret has this name or ARN. */
export async function describeSecret(call: Call, secretId: string): Promise<SecretFacts | undefined> {
  const { DescribeSecretCommand } = await sdk();
  try {
    const answer = await call.client.send(new DescribeSecretCommand({ SecretId: secretId }), { abortSignal: call.signal });
    const current = Object.entries(answer.VersionIdsToStages ?? {}).find(([, stages]) => stages.includes('AWSCURRENT'));
    return {
      arn: answer.ARN ?? '',
      name: answer.Name ?? secretId,
      versionId: current?.[0] ?? '',
      deletedDate: answer.DeletedDate,
      ownerJob: answer.Tags?.find((tag) => tag.Key === JOB_TAG)?.Value,
    };
  } catch (err) {
    if (isAwsError(err, 'ResourceNotFoundException')) return undefined;
    throw secretsError(err, secretId);
  }
}

export async function restoreSecret(call: Call, secretId: string): Promise<void> {
  const { RestoreSecretCommand } = await sdk();
  try {
    await call.client.send(new RestoreSecretCommand({ SecretId: secretId }), { abortSignal: call.signal });
  } catch (err) {
    throw secretsError(err, secretId);
  }
}

/** Recoverable deletion; a secret already gone or already scheduled is fine. */
export async function scheduleDeletion(call: Call, secretId: string, recoveryWindowDays: number): Promise<void> {
  const { DeleteSecretCommand } = await sdk();
  try {
    await call.client.send(new DeleteSecretCommand({ SecretId: secretId, RecoveryWindowInDays: recoveryWindowDays }), {
      abortSignal: call.signal,
    });
  } catch (err) {
    if (isAwsError(err, 'ResourceNotFoundException')) return;
    if (isDeletionConflict(err)) return;
    throw secretsError(err, secretId, recoveryWindowDays);
  }
}

/** Transient for throttling and server trouble; otherwise a message a person can act on. */
export function secretsError(err: unknown, secretName: string, recoveryWindowDays?: number): Error {
  const failure = awsFailure(err);
  if (isTransientAwsFailure(failure)) return transientAwsError('Secrets Manager', failure);
  if (isAccessDenied(failure)) {
    return new PermanentError(
      `the bot's AWS credentials may not manage secret ${secretName} (${failure.code}); grant secretsmanager:CreateSecret, ` +
        'DescribeSecret, DeleteSecret, RestoreSecret and TagResource on it',
    );
  }
  if (recoveryWindowDays !== undefined && /RecoveryWindowInDays/.test(failure.message)) {
    return new PermanentError(
      `Secrets Manager refused a recovery window of ${recoveryWindowDays} days for ${secretName}; ` +
        'set SECRETS_RECOVERY_WINDOW_DAYS between 7 and 30',
    );
  }
  return new PermanentError(`Secrets Manager rejected secret ${secretName} (${failure.code}): ${failure.message}`);
}
