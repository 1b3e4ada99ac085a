/**
 * Buttons in #onboarding. Every click is authorised first; an unauthorised,
 * double or stale click changes nothing and the clicker is told why.
 * Buttons that need a reason or input open a modal (within the trigger's 3 s).
 */
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { JobView } from '../../domain/job-view.ts';
import { staleFailure } from '../../domain/actions.ts';
import { ACTIONS, decodeAction, inputModal, reasonModal, staleFailureText, statusPageShared, type ActionRef } from '../blocks/index.ts';
import type { Identity, JobAction } from '../../domain/policy.ts';
import { tell, tellWhyNot, type ListenerDeps } from './deps.ts';

type Click = { ref: ActionRef; job: JobView; actor: Identity; where: { channel: string | undefined; user: string }; triggerId: string };

type ButtonHandler = (deps: ListenerDeps, client: WebClient, click: Click) => Promise<string | null>;

const stepLabel = (click: Click) => click.job.steps.find((s) => s.id === click.ref.stepId)?.label;

/** What each button does, and the verb it needs permission for. */
const BUTTONS: Record<string, { verb: JobAction; handle: ButtonHandler }> = {
  [ACTIONS.approve]: {
    verb: 'approve',
    handle: async (deps, _client, c) => {
      await deps.service.approve(c.ref.jobId, c.actor, c.ref.stepId);
      return null;
    },
  },
  [ACTIONS.retry]: {
    verb: 'retry',
    handle: async (deps, _client, c) => {
      await deps.service.retry(c.ref.jobId, c.actor, c.ref.stepId, c.ref.attemptStartedAt);
      return null;
    },
  },
  [ACTIONS.reject]: { verb: 'reject', handle: openModal((c) => reasonModal('reject', c.ref, stepLabel(c))) },
  // Checked before the modal too: nobody should type a reason for a failure that is gone.
  [ACTIONS.override]: { verb: 'override', handle: unlessStale(openModal((c) => reasonModal('override', c.ref, stepLabel(c)))) },
  [ACTIONS.rollback]: { verb: 'rollback', handle: openModal((c) => reasonModal('rollback', c.ref)) },
  [ACTIONS.cancel]: { verb: 'cancel', handle: openModal((c) => reasonModal('cancel', c.ref)) },
  [ACTIONS.shareStatus]: {
    verb: 'share_status',
    handle: async (deps, _client, c) => {
      const url = await deps.service.shareStatusPage(c.ref.jobId, c.actor);
      return statusPageShared(c.job, url);
    },
  },
  [ACTIONS.provideInput]: {
    verb: 'provide_input',
    handle: async (_deps, client, c) => {
      const step = c.job.steps.find((s) => s.id === c.ref.stepId);
      if (step?.state !== 'waiting_input') return `Nothing to do: ${step?.label ?? 'that step'} is not waiting for input any more.`;
      await client.views.open({ trigger_id: c.triggerId, view: inputModal(c.ref, step) });
      return null;
    },
  },
};

function openModal(build: (click: Click) => Parameters<WebClient['views']['open']>[0]['view']): ButtonHandler {
  return async (_deps, client, click) => {
    await client.views.open({ trigger_id: click.triggerId, view: build(click) });
    return null;
  };
}

/** Refuses a Retry or Override drawn for a failure that is no longer the step's current one. */
function unlessStale(handle: ButtonHandler): ButtonHandler {
  return async (deps, client, click) => {
    const step = click.job.steps.find((s) => s.id === click.ref.stepId);
    const stale = step ? staleFailure(step, click.ref.attemptStartedAt) : null;
    return stale ? staleFailureText(stale) : handle(deps, client, click);
  };
}

export function registerButtons(app: App, deps: ListenerDeps): void {
  for (const [actionId, button] of Object.entries(BUTTONS)) {
    app.action<BlockAction<ButtonAction>>(actionId, async ({ ack, body, action, client }) => {
      await ack();
      const where = { channel: body.channel?.id, user: body.user.id };
      const ref = decodeAction(action.value ?? '');
      if (!ref) return tell(client, where, 'That button is not one of ours any more; use the latest message.');
      try {
        const actor = await deps.people.identify(body.user.id, body.user.name ?? body.user.id);
        // Asked before a modal opens, so nobody types a reason for an action they would be refused.
        const allowed = await deps.service.may(actor, button.verb, ref.jobId);
        if (!allowed.allowed) return await tell(client, where, allowed.reason);
        const job = await deps.service.status(ref.jobId);
        const note = await button.handle(deps, client, { ref, job, actor, where, triggerId: body.trigger_id });
        if (note) await tell(client, where, note);
      } catch (err) {
        await tellWhyNot(client, where, err);
      }
    });
  }
}
