/**
 * The bot in Socket Mode (no public URL: how it is first installed), against a
 * loopback fake of Slack's Socket Mode: the app opens a WebSocket with its
 * app-level token, Slack (the fake) delivers commands and clicks as envelopes,
 * the app acks each within 3 s, and when Slack recycles the connection the app
 * reconnects and carries on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../src/slack/blocks/index.ts';
import { dealFor, waitForStatus } from '../support/harness.ts';
import type { FakeEphemeral } from '../support/slack-fake.ts';
import { AE, JANE_IN_SLACK, APPROVER, CHANNEL, SAM, type SocketTestApp, startSocketSlackApp, stopSlackApp } from '../support/slack-app.ts';
import { blockActionPayload, slashCommandPayload } from '../support/slack-signing.ts';
import { buttonsIn, said, until } from '../support/slack-story.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';

const PIPELINE = pipelineOf(
  sandbox('database', { latencyMs: 10, resource: 'database' }),
  sandbox('billing', { latencyMs: 10, resource: 'stripe customer' }, { needs: ['database'] }),
);

const SALES = 'C0SALES';

describe('Socket Mode', () => {
  let s: SocketTestApp | undefined;
  afterEach(async () => {
    await stopSlackApp(s);
    s = undefined;
  });

  /** Types `/provision <text>` in #sales over the socket; resolves with the ack and the private answer. */
  async function slash(t: SocketTestApp, text: string): Promise<{ ackMs: number; reply: FakeEphemeral }> {
    const before = t.fake.ephemerals(SALES).length;
    const payload = slashCommandPayload({
      command: '/provision',
      text,
      userId: AE.id,
      userName: AE.name,
      channelId: SALES,
      triggerId: t.fake.issueTrigger(),
    });
    const ack = await t.fake.socket.send('slash_commands', payload);
    const reply = await until(`the answer to "/provision ${text}"`, () => t.fake.ephemerals(SALES)[before]);
    return { ackMs: ack.receivedAfterMs, reply };
  }

  it('connects with its app token, answers a command, takes a click, and keeps working after Slack refreshes the connection', async () => {
    s = await startSocketSlackApp({ pipeline: PIPELINE });
    const t = s;
    // Started = Slack said hello on a connection opened with the app-level token.
    expect(t.fake.callsTo('apps.connections.open')).toHaveLength(1);
    expect(t.fake.callsTo('apps.connections.open')[0]).toMatchObject({ ok: true });
    expect(t.fake.socket.openConnections()).toBe(1);

    // A deal big enough to need approval.
    const { job } = await t.app.service.provision(dealFor({ plan: 'growth', contractValue: 150_000 }), JANE_IN_SLACK);
    await waitForStatus(t.app, job.jobId, ['awaiting_approval']);
    const slug = job.tenant.slug;

    // 1. /provision status: acked at once over the socket, answered privately.
    const status = await slash(t, `status ${slug}`);
    expect(status.ackMs).toBeLessThan(3000);
    expect(status.reply).toMatchObject({ user: AE.id, via: 'chat.postEphemeral' });
    expect(status.reply.text).toContain('Waiting for approval');

    // 2. The approver clicks Approve on the request in the job's thread: an interactive envelope.
    const request = await until('the approval request', () =>
      t.fake.messages(CHANNEL)[0]?.replies.find((r) => buttonsIn(r.blocks).some((b) => b.actionId === ACTIONS.approve)),
    );
    const approve = buttonsIn(request.blocks).find((b) => b.actionId === ACTIONS.approve);
    if (!approve) throw new Error('no Approve button');
    const click = blockActionPayload({
      userId: APPROVER.id,
      userName: APPROVER.name,
      actionId: ACTIONS.approve,
      value: approve.value,
      triggerId: t.fake.issueTrigger(),
      channelId: CHANNEL,
      messageTs: request.ts,
      threadTs: request.thread_ts ?? '',
      message: { blocks: request.blocks ?? [] },
    });
    const clicked = await t.fake.socket.send('interactive', click);
    expect(clicked.receivedAfterMs).toBeLessThan(3000);
    const live = await waitForStatus(t.app, job.jobId, ['live', 'failed']);
    expect(live.status).toBe('live');
    await until('the approval line in the thread', () =>
      t.fake.messages(CHANNEL)[0]?.replies.find((r) => (r.text ?? '').includes(`${SAM} approved approval gate`)),
    );

    // 3. Slack recycles the connection: the app asks for a new URL, connects again, and is greeted.
    t.fake.socket.disconnect('refresh_requested');
    await t.fake.socket.waitForConnections(2);
    expect(t.fake.callsTo('apps.connections.open')).toHaveLength(2);
    await until('the old connection to close', () => (t.fake.socket.openConnections() === 1 ? true : undefined));

    // 4. And it still works: the next command arrives on the new connection and is answered.
    const after = await slash(t, `status ${slug}`);
    expect(after.ackMs).toBeLessThan(3000);
    expect(after.reply.text).toBe(`${job.tenant.companyName} (${slug}): Live`);
    expect(said(after.reply)).toContain('3/3 steps'); // the approval gate, database and billing
    // Every envelope was acked once, with its own id.
    const acked = t.fake.socket.acks.map((a) => a.envelope_id);
    expect(new Set(acked).size).toBe(acked.length);
    expect(acked).toHaveLength(3);
  });
});
