/**
 * The lifecycle forms of a tenant's page, each turned into the same service
 * call a Slack confirmation or a CLI command makes (the audit names the door:
 * "… from the admin panel"). A form carries a request id made when the page
 * was drawn, so sending it twice is one job. Each answers the job it started.
 */
import type { LifecycleAsk, LifecycleResult } from '../../app/lifecycle.ts';
import type { ProvisioningService } from '../../app/services.ts';
import { InvalidInputError } from '../../domain/errors.ts';
import { KIND_WORDS, type LifecycleKind } from '../../domain/job-kind.ts';
import type { Identity } from '../../domain/policy.ts';

type Form = Record<string, string>;

type TenantActionHandler = (service: ProvisioningService, who: Identity, slug: string, form: Form) => Promise<LifecycleResult>;

/** The form's request id, drawn with the page (anything else is ignored: the request is then a new one). */
const REQUEST_ID = /^[A-Za-z0-9-]{8,64}$/;

function askOf(form: Form): LifecycleAsk {
  const request = form['request'] ?? '';
  return { reason: form['reason'] ?? '', ...(REQUEST_ID.test(request) ? { requestKey: `admin-form:${request}` } : {}) };
}

/** Each action a tenant's page offers, by the path it posts to. */
export const tenantActions: Readonly<Record<string, { kind: LifecycleKind; ask: TenantActionHandler }>> = {
  suspend: { kind: 'suspend', ask: (s, who, slug, f) => s.lifecycle.suspend(slug, who, askOf(f)) },
  reactivate: { kind: 'reactivate', ask: (s, who, slug, f) => s.lifecycle.reactivate(slug, who, askOf(f)) },
  'change-plan': {
    kind: 'change_plan',
    ask: (s, who, slug, f) => {
      const plan = f['plan']?.trim() ?? '';
      if (plan === '') throw new InvalidInputError([{ field: 'plan', message: 'Choose the plan to move to' }]);
      return s.lifecycle.changePlan(slug, plan, who, askOf(f));
    },
  },
  decommission: {
    kind: 'decommission',
    ask: (s, who, slug, f) => {
      // Nothing comes back once it is done: the person types which tenant they mean.
      if ((f['confirm'] ?? '').trim() !== slug) {
        throw new InvalidInputError([{ field: 'confirm', message: `Type the tenant's slug, ${slug}, to confirm you mean to decommission it` }]);
      }
      return s.lifecycle.decommission(slug, who, askOf(f));
    },
  },
};

/** What the job's page says on arrival: the request taken, or the one it joined. */
export function askedWords(kind: LifecycleKind, slug: string, outcome: LifecycleResult['outcome']): string {
  const verb = KIND_WORDS[kind].verb;
  return outcome === 'created'
    ? `Asked to ${verb} ${slug}: this is its job.`
    : `Already asked to ${verb} ${slug}: this is the job doing it; nothing new was started.`;
}
