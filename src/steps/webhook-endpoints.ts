/**
 * Named webhook endpoints (cs_platform, slack_notice, feature_flags): a step
 * names one and gets its URL from configuration when it runs. A Slack
 * incoming-webhook URL is a credential, so it must not be copied into job
 * definitions, the store or the audit trail, which is where step configs go.
 */
import { z } from 'zod';
import { PermanentError } from '../domain/errors.ts';
import { webhookEndpointEnv } from '../config.ts';

export const EndpointNameSchema = z.string().regex(/^[a-z][a-z0-9_]*$/, { error: 'endpoint names are lowercase snake_case, e.g. cs_platform' });

/** The endpoint's URL; unconfigured is permanent (startup checks this, so it means config changed under a running job). */
export function endpointUrl(endpoints: Readonly<Record<string, string>>, name: string): string {
  const url = endpoints[name];
  if (url === undefined) throw new PermanentError(`webhook endpoint ${name} is not configured (set ${webhookEndpointEnv(name)})`);
  return url;
}

/** At startup: a step naming an endpoint the deployment does not configure. */
export function endpointProblems(name: string, configured: ReadonlySet<string> | undefined): string[] {
  if (configured === undefined || configured.has(name)) return [];
  return [`webhook endpoint ${name} is not configured: set ${webhookEndpointEnv(name)}`];
}
