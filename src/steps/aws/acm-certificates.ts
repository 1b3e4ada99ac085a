/**
 * A tenant's TLS certificate in ACM through the SDK's own client: requested
 * with DNS validation and an idempotency token, described (status and the
 * validation CNAME ACM wants), found by the job's tag when no ARN was
 * recorded, and deleted. Errors name the certificate's domain, never a value.
 */
import { createHash } from 'node:crypto';
import type { ACMClient } from '@aws-sdk/client-acm';
import { PermanentError } from '../../domain/errors.ts';
import { awsFailure, isAccessDenied, isAwsError, isTransientAwsFailure, transientAwsError } from './errors.ts';

/** The SDK's module, imported on a step's first call: a process that runs no certificate step never loads it. */
const sdk = () => import('@aws-sdk/client-acm');

type Call = { client: ACMClient; signal: AbortSignal };

/** ACM's IdempotencyToken is at most 32 word characters; the same job and step always give the same one. */
export function acmIdempotencyToken(idempotencyKey: string): string {
  return createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32);
}

export type ValidationRecord = { name: string; type: string; value: string };
export type CertificateFacts = { status: string; validation: ValidationRecord | undefined };

export async function requestCertificate(call: Call, req: { domain: string; token: string; tags: Record<string, string> }): Promise<string> {
  const { RequestCertificateCommand } = await sdk();
  try {
    const answer = await call.client.send(
      new RequestCertificateCommand({
        DomainName: req.domain,
        ValidationMethod: 'DNS',
        IdempotencyToken: req.token,
        Tags: Object.entries(req.tags).map(([Key, Value]) => ({ Key, Value })),
      }),
      { abortSignal: call.signal },
    );
    if (!answer.CertificateArn) throw new PermanentError(`ACM answered the request for ${req.domain} without a certificate ARN`);
    return answer.CertificateArn;
  } catch (err) {
    throw acmError(err, req.domain);
  }
}

/** Status and validation record (absent until ACM has made it); undefined when there is no such certificate. */
export async function describeCertificate(call: Call, arn: string, domain: string): Promise<CertificateFacts | undefined> {
  const { DescribeCertificateCommand } = await sdk();
  try {
    const answer = await call.client.send(new DescribeCertificateCommand({ CertificateArn: arn }), { abortSignal: call.signal });
    const record = answer.Certificate?.DomainValidationOptions?.find((o) => o.ResourceRecord !== undefined)?.ResourceRecord;
    const validation = record?.Name && record.Value ? { name: record.Name, type: record.Type ?? 'CNAME', value: record.Value } : undefined;
    return { status: answer.Certificate?.Status ?? 'UNKNOWN', validation };
  } catch (err) {
    if (isAwsError(err, 'ResourceNotFoundException')) return undefined;
    throw acmError(err, domain);
  }
}

/** The certificate for `domain` tagged with this tag, when a run's ARN was never recorded. */
export async function findTaggedCertificate(call: Call, domain: string, tag: { key: string; value: string }): Promise<string | undefined> {
  const { ListCertificatesCommand, ListTagsForCertificateCommand } = await sdk();
  try {
    let NextToken: string | undefined;
    do {
      const page = await call.client.send(new ListCertificatesCommand({ NextToken, MaxItems: 100 }), { abortSignal: call.signal });
      for (const summary of page.CertificateSummaryList ?? []) {
        if (summary.DomainName !== domain || !summary.CertificateArn) continue;
        const tags = await call.client.send(new ListTagsForCertificateCommand({ CertificateArn: summary.CertificateArn }), {
          abortSignal: call.signal,
        });
        if ((tags.Tags ?? []).some((t) => t.Key === tag.key && t.Value === tag.value)) return summary.CertificateArn;
      }
      NextToken = page.NextToken;
    } while (NextToken);
    return undefined;
  } catch (err) {
    throw acmError(err, domain);
  }
}

/** Deleting a certificate already gone is fine; one still attached to a load balancer or CDN is a person's call. */
export async function deleteCertificate(call: Call, arn: string, domain: string): Promise<void> {
  const { DeleteCertificateCommand } = await sdk();
  try {
    await call.client.send(new DeleteCertificateCommand({ CertificateArn: arn }), { abortSignal: call.signal });
  } catch (err) {
    if (isAwsError(err, 'ResourceNotFoundException')) return;
    if (isAwsError(err, 'ResourceInUseException')) {
      throw new PermanentError(`the certificate for ${domain} (${arn}) is still in use; detach it from the edge first, then retry the rollback`);
    }
    throw acmError(err, domain);
  }
}

export function acmError(err: unknown, domain: string): Error {
  const failure = awsFailure(err);
  if (isTransientAwsFailure(failure)) return transientAwsError('ACM', failure);
  if (isAccessDenied(failure)) {
    return new PermanentError(
      `the bot's AWS credentials may not manage certificates for ${domain} (${failure.code}); grant acm:RequestCertificate, ` +
        'DescribeCertificate, ListCertificates, ListTagsForCertificate and DeleteCertificate',
    );
  }
  return new PermanentError(`ACM rejected a request for ${domain} (${failure.code}): ${failure.message}`);
}
