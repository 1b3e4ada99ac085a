import type { WebClient } from '@slack/web-api';
import type { BillingService } from '../../app/billing.ts';
import type { CrmIntakeService } from '../../app/crm-intake.ts';
import type { KpiService } from '../../app/kpis.ts';
import type { ProvisioningService } from '../../app/services.ts';
import { StaleFailureError } from '../../domain/actions.ts';
import { ActionRefusedError, InvalidInputError } from '../../domain/errors.ts';
import type { Manifests } from '../../manifests/load.ts';
import { refusal, staleFailureText } from '../blocks/index.ts';
import type { People } from '../people.ts';

export type ListenerDeps = {
  service: ProvisioningService;
  kpis: KpiService;
  /** Drift reports and the nightly notice's Fix / Ignore. */
  billing?: Pick<BillingService, 'drift' | 'drifting' | 'fixDrift' | 'ignoreDrift'>;
  /** The control room's KPI page, linked from `/provision stats`. */
  kpisPageUrl?: () => string;
  manifests: Manifests;
  people: People;
  /** The #onboarding channel, for links to progress messages. */
  channel: string;
  /** A link to the job's progress message once it is posted (undefined if not within a few seconds). */
  progressUrl(jobId: string): Promise<string | undefined>;
  /** Deals a CRM sent that need a person ("Complete in Slack"); undefined when no CRM sends any. */
  crm?: Pick<CrmIntakeService, 'toComplete' | 'complete'>;
  onError(err: unknown): void;
};

type Where = { channel: string | undefined; user: string };

/** Tells one person, in the channel they clicked in, why nothing happened (or what did). */
export async function tell(client: WebClient, where: Where, text: string): Promise<void> {
  const channel = where.channel;
  if (!channel) return;
  await client.chat.postEphemeral({ channel, user: where.user, ...refusal(text) });
}

/** A refused or invalid action becomes a sentence for the person; anything else is a bug to log. */
export function explain(err: unknown): string | null {
  if (err instanceof StaleFailureError) return staleFailureText(err.stale);
  if (err instanceof ActionRefusedError) return `Nothing changed: ${err.message}.`;
  if (err instanceof InvalidInputError) return `Nothing changed: ${err.problems.map((p) => p.message).join('; ')}.`;
  return null;
}

/** Tells the person why their action changed nothing; an error that is no refusal is rethrown, to be logged as the bug it is. */
export async function tellWhyNot(client: WebClient, where: Where, err: unknown): Promise<void> {
  const text = explain(err);
  if (text === null) throw err;
  await tell(client, where, text);
}
