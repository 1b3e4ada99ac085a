/** "Complete in Slack" on a deal a CRM sent that needs a person: the intake modal, prefilled, within the trigger's 3 s. */
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { NotAllowedError } from '../../domain/errors.ts';
import { ACTIONS, completionModal } from '../blocks/index.ts';
import { tell, tellWhyNot, type ListenerDeps } from './deps.ts';

export function registerPendingIntake(app: App, deps: ListenerDeps): void {
  const crm = deps.crm;
  if (!crm) return;
  app.action<BlockAction<ButtonAction>>(ACTIONS.completeIntake, async ({ ack, body, action, client }) => {
    await ack();
    const where = { channel: body.channel?.id, user: body.user.id };
    try {
      const actor = await deps.people.identify(body.user.id, body.user.name ?? body.user.id);
      const pending = await crm.toComplete(action.value ?? '', actor);
      await client.views.open({ trigger_id: body.trigger_id, view: completionModal(pending, deps.manifests.plans, where.channel) });
    } catch (err) {
      if (err instanceof NotAllowedError) return tell(client, where, err.message);
      await tellWhyNot(client, where, err);
    }
  });
}
