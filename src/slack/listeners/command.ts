/** `/provision` and its subcommands. The modal opens before any slow work: trigger ids expire in 3 s. */
import type { App } from '@slack/bolt';
import { ActionRefusedError } from '../../domain/errors.ts';
import { auditBlocks, escapeMrkdwn, helpBlocks, intakeModal, listBlocks, statusBlocks, type SlackMessage } from '../blocks/index.ts';
import { explain, type ListenerDeps } from './deps.ts';

export function registerCommand(app: App, deps: ListenerDeps): void {
  app.command('/provision', async ({ ack, body, client }) => {
    await ack();
    const [sub = '', ...rest] = body.text.trim().split(/\s+/);
    const where = { channel: body.channel_id, user: body.user_id };
    if (sub === '') {
      const metadata = JSON.stringify({ channel: body.channel_id });
      await client.views.open({ trigger_id: body.trigger_id, view: intakeModal({ plans: deps.manifests.plans, privateMetadata: metadata }) });
      return;
    }
    const reply = await answer(deps, sub.toLowerCase(), rest).catch((err: unknown) => {
      // A question changes nothing, so no "Nothing changed:"; the message quotes what was typed, so escape it.
      if (err instanceof ActionRefusedError) return escapeMrkdwn(`${err.message.charAt(0).toUpperCase()}${err.message.slice(1)}.`);
      const text = explain(err);
      if (text === null) throw err;
      return text;
    });
    const message: SlackMessage =
      typeof reply === 'string' ? { text: reply, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: reply } }] } : reply;
    await client.chat.postEphemeral({ channel: where.channel, user: where.user, ...message });
  });
}

async function answer(deps: ListenerDeps, sub: string, args: string[]): Promise<SlackMessage | string> {
  const ref = args.filter((a) => !a.startsWith('--')).join(' ');
  if ((sub === 'status' || sub === 'audit') && ref === '') return `Which tenant? Try \`/provision ${sub} acme\`.`;
  if (sub === 'status') return statusBlocks(await deps.service.status(ref));
  if (sub === 'audit') {
    const verbose = args.includes('--verbose');
    const { job, lines } = await deps.service.audit(ref, { verbose });
    return auditBlocks(job, lines, { verbose });
  }
  if (sub === 'list') return listBlocks(await deps.service.list());
  return helpBlocks();
}
