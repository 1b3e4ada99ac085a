/** `/provision` and its subcommands. The modal opens before any slow work: trigger ids expire in 3 s. */
import type { App } from '@slack/bolt';
import { ActionRefusedError } from '../../domain/errors.ts';
import { sentence } from '../../domain/wording.ts';
import type { Identity } from '../../domain/policy.ts';
import {
  answerText,
  auditBlocks,
  driftAnswer,
  helpBlocks,
  intakeModal,
  isLifecycleVerb,
  lifecycleModal,
  listBlocks,
  statsBlocks,
  statusBlocks,
  whichTenant,
  type SlackMessage,
} from '../blocks/index.ts';
import { explain, type ListenerDeps } from './deps.ts';

export function registerCommand(app: App, deps: ListenerDeps): void {
  app.command('/provision', async ({ ack, body, client }) => {
    await ack();
    const [sub = '', ...rest] = body.text.trim().split(/\s+/);
    if (sub === '') {
      const metadata = JSON.stringify({ channel: body.channel_id });
      await client.views.open({ trigger_id: body.trigger_id, view: intakeModal({ plans: deps.manifests.plans, privateMetadata: metadata }) });
      return;
    }
    const verb = sub.toLowerCase();
    const slug = rest.find((word) => !word.startsWith('--'));
    if (isLifecycleVerb(verb) && slug !== undefined) {
      const view = lifecycleModal({ verb, slug, channel: body.channel_id }, deps.manifests.plans);
      await client.views.open({ trigger_id: body.trigger_id, view });
      return;
    }
    const who = () => deps.people.identify(body.user_id, body.user_name);
    const reply = await answer(deps, sub.toLowerCase(), rest, who).catch((err: unknown) => {
      // A question changes nothing, so no "Nothing changed:".
      if (err instanceof ActionRefusedError) return answerText(sentence(err.message));
      const text = explain(err);
      if (text === null) throw err;
      return answerText(text);
    });
    await client.chat.postEphemeral({ channel: body.channel_id, user: body.user_id, ...reply });
  });
}

async function answer(deps: ListenerDeps, sub: string, args: string[], who: () => Promise<Identity>): Promise<SlackMessage> {
  const ref = args.filter((a) => !a.startsWith('--')).join(' ');
  if ((sub === 'status' || sub === 'audit' || isLifecycleVerb(sub)) && ref === '') return whichTenant(sub);
  if (sub === 'status') return statusBlocks(await deps.service.status(ref));
  if (sub === 'audit') {
    const verbose = args.includes('--verbose');
    const { job, lines } = await deps.service.audit(ref, { verbose });
    return auditBlocks(job, lines, { verbose });
  }
  if (sub === 'list') return listBlocks(await deps.service.list());
  if (sub === 'drift' && deps.billing)
    return driftAnswer(ref === '' ? await deps.billing.drifting() : [await deps.billing.drift(ref)], ref || undefined);
  if (sub === 'stats') return statsBlocks(await deps.kpis.report(await who()), deps.kpisPageUrl ? { pageUrl: deps.kpisPageUrl() } : {});
  return helpBlocks();
}
