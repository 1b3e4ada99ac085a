/** The modals buttons open: a reason (reject, override, roll back) or the input a waiting step needs. */
import type { App } from '@slack/bolt';
import { CALLBACKS, decodeAction, readReason, readStepInput, reasonMissing, type ActionRef } from '../blocks/index.ts';
import type { Identity } from '../../domain/policy.ts';
import { tellWhyNot, type ListenerDeps } from './deps.ts';

type ReasonAction = (deps: ListenerDeps, ref: ActionRef, actor: Identity, reason: string) => Promise<unknown>;

const REASONS: Record<string, ReasonAction> = {
  [CALLBACKS.reject]: (deps, ref, actor, reason) => deps.service.reject(ref.jobId, actor, reason, ref.stepId),
  [CALLBACKS.override]: (deps, ref, actor, reason) => deps.service.override(ref.jobId, actor, ref.stepId ?? '', reason, ref.attemptStartedAt),
  [CALLBACKS.rollback]: (deps, ref, actor, reason) => deps.service.rollback(ref.jobId, actor, reason),
  [CALLBACKS.cancel]: (deps, ref, actor, reason) => deps.service.cancel(ref.jobId, actor, reason),
};

export function registerDialogs(app: App, deps: ListenerDeps): void {
  for (const [callbackId, act] of Object.entries(REASONS)) {
    app.view(callbackId, async ({ ack, body, view, client }) => {
      const ref = decodeAction(view.private_metadata);
      const reason = readReason(view.state.values);
      if (!ref) return ack();
      if (!reason) return ack({ response_action: 'errors', errors: reasonMissing() });
      await ack();
      const actor = await deps.people.identify(body.user.id, body.user.name);
      await act(deps, ref, actor, reason).catch((err: unknown) => tellWhyNot(client, { channel: deps.channel, user: body.user.id }, err));
    });
  }

  app.view(CALLBACKS.input, async ({ ack, body, view, client }) => {
    const ref = decodeAction(view.private_metadata);
    const input = readStepInput(view.state.values);
    if (!ref) return ack();
    if (!input.ok) return ack({ response_action: 'errors', errors: input.errors });
    await ack();
    const actor = await deps.people.identify(body.user.id, body.user.name);
    await deps.service
      .provideInput(ref.jobId, actor, input.input, ref.stepId)
      .catch((err: unknown) => tellWhyNot(client, { channel: deps.channel, user: body.user.id }, err));
  });
}
