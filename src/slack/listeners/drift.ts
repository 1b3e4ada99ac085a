/**
 * The nightly drift notice's buttons: Fix applies billing's truth (a
 * sync_entitlements job asked for by the person, as the policy allows), Ignore
 * opens a modal whose reason is required and kept with the person's name.
 */
import type { App } from '@slack/bolt';
import { DRIFT_ACTIONS, DRIFT_IGNORE_MODAL, DRIFT_REASON_BLOCK, driftIgnoreModal } from '../blocks/index.ts';
import { tell, tellWhyNot, type ListenerDeps } from './deps.ts';

export function registerDriftActions(app: App, deps: ListenerDeps): void {
  const billing = deps.billing;
  if (!billing) return;

  app.action(DRIFT_ACTIONS.fix, async ({ ack, body, action, client }) => {
    await ack();
    const slug = action.type === 'button' ? action.value : undefined;
    if (!slug) return;
    const where = { channel: deps.channel, user: body.user.id };
    const actor = await deps.people.identify(body.user.id, ('name' in body.user ? body.user.name : undefined) ?? body.user.id);
    await billing
      .fixDrift(slug, actor)
      .then((jobId) => tell(client, where, `Applying what billing pays for to ${slug} (job ${jobId}).`))
      .catch((err: unknown) => tellWhyNot(client, where, err));
  });

  app.action(DRIFT_ACTIONS.ignore, async ({ ack, body, action, client }) => {
    await ack();
    const slug = action.type === 'button' ? action.value : undefined;
    if (!slug || !('trigger_id' in body)) return;
    await client.views.open({ trigger_id: body.trigger_id, view: driftIgnoreModal(slug) });
  });

  app.view(DRIFT_IGNORE_MODAL, async ({ ack, body, view, client }) => {
    const reason = view.state.values[DRIFT_REASON_BLOCK.blockId]?.[DRIFT_REASON_BLOCK.actionId]?.value?.trim() ?? '';
    if (reason.length < 3) return ack({ response_action: 'errors', errors: { [DRIFT_REASON_BLOCK.blockId]: 'Say why this drift may stay.' } });
    await ack();
    const where = { channel: deps.channel, user: body.user.id };
    const actor = await deps.people.identify(body.user.id, body.user.name);
    await billing
      .ignoreDrift(view.private_metadata, actor, reason)
      .then((report) => tell(client, where, `Drift of ${report.slug} ignored: the nightly check stays quiet until it changes.`))
      .catch((err: unknown) => tellWhyNot(client, where, err));
  });
}
