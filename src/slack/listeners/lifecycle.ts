/**
 * `/provision suspend|reactivate|upgrade|downgrade|decommission <slug>`: a
 * confirmation modal opens at once (trigger ids expire in 3 s); its
 * submission asks the lifecycle service, with the modal's id as the request
 * key, and answers privately with the job it started or why nothing changed.
 */
import type { App } from '@slack/bolt';
import type { LifecycleAsk, LifecycleResult } from '../../app/lifecycle.ts';
import type { Identity } from '../../domain/policy.ts';
import { answerText, LIFECYCLE_CALLBACK, lifecycleAskedText, readLifecycleSubmission, type LifecycleVerb } from '../blocks/index.ts';
import { tellWhyNot, type ListenerDeps } from './deps.ts';

type Ask = (deps: ListenerDeps, slug: string, who: Identity, ask: LifecycleAsk, plan: string) => Promise<LifecycleResult>;

const VERBS: Readonly<Record<LifecycleVerb, Ask>> = {
  suspend: (deps, slug, who, ask) => deps.service.lifecycle.suspend(slug, who, ask),
  reactivate: (deps, slug, who, ask) => deps.service.lifecycle.reactivate(slug, who, ask),
  upgrade: (deps, slug, who, ask, plan) => deps.service.lifecycle.changePlan(slug, plan, who, ask),
  downgrade: (deps, slug, who, ask, plan) => deps.service.lifecycle.changePlan(slug, plan, who, ask),
  decommission: (deps, slug, who, ask) => deps.service.lifecycle.decommission(slug, who, ask),
};

export function registerLifecycle(app: App, deps: ListenerDeps): void {
  app.view(LIFECYCLE_CALLBACK, async ({ ack, body, view, client }) => {
    const submitted = readLifecycleSubmission(view.private_metadata, view.state.values);
    if (!submitted) return ack();
    if (!submitted.ok) return ack({ response_action: 'errors', errors: submitted.errors });
    await ack();
    const { meta, reason, plan } = submitted;
    const where = { channel: meta.channel || deps.channel, user: body.user.id };
    const who = await deps.people.identify(body.user.id, body.user.name);
    // The modal's id: submitting the same modal again finds the job the first submission started.
    const ask: LifecycleAsk = { reason, requestKey: `slack-view:${view.id}` };
    await VERBS[meta.verb](deps, meta.slug, who, ask, plan ?? '')
      .then(({ outcome, job }) =>
        client.chat.postEphemeral({ ...where, ...answerText(lifecycleAskedText(meta.verb, meta.slug, job.jobId, outcome)) }),
      )
      .catch((err: unknown) => tellWhyNot(client, where, err));
  });
}
