/**
 * Inbound webhooks: today, Slack's. Signed HTTP requests to the Slack app
 * (real Bolt in HTTP mode, the loopback Slack fake behind it, see
 * test/support/slack-app.ts): slash commands, button clicks and modal
 * submissions that are nearly right, with real job references and without,
 * then payloads and bodies of any shape. Every request carries a valid
 * signature, so it reaches our listeners.
 * Properties: never a 5xx; no stack trace in any answer or in anything sent
 * to Slack; a modal refused with errors shows each on one of its own blocks;
 * no listener fails with an error it cannot explain (those reach onError).
 */
import { REQUESTER } from '../../test/support/people.ts';
import fc from 'fast-check';
import { setTimeout as sleep } from 'node:timers/promises';
import { ACTIONS, CALLBACKS, encodeAction, INTAKE_BLOCKS } from '../../src/slack/blocks/index.ts';
import { DIALOG_BLOCKS } from '../../src/slack/blocks/dialogs.ts';
import {
  AE,
  APPROVER,
  billingFails,
  CHANNEL,
  intakeValues,
  SIGNING_SECRET,
  STRANGER,
  startSlackApp,
  stopSlackApp,
  type SlackTestApp,
} from '../../test/support/slack-app.ts';
import { blockActionPayload, signedRequest, slashCommandBody, viewSubmissionPayload } from '../../test/support/slack-signing.ts';
import { dealFor } from '../../test/support/harness.ts';
import { damaged, dealLike, jsonish, nastyString } from './arbitraries.ts';
import { errorText, type Findings, hasStackTrace } from './findings.ts';

/** A request as generated: `{trigger}` and `{response}` are filled in when it is sent (triggers expire in 3 s). */
type Request = { contentType: string; body: string };

const TRIGGER = '__TRIGGER__';
const RESPONSE_URL = '__RESPONSE_URL__';

type Refs = { waiting: { jobId: string; seq: number }; failed: { jobId: string; seq: number }; slugs: string[] };

const user = fc.constantFrom(AE, APPROVER, STRANGER, { id: 'U0NOBODY01', name: 'nobody' });

function requests(refs: Refs, plans: string[], residencies: string[], flags: string[]): fc.Arbitrary<Request> {
  const form = (body: string): Request => ({ contentType: 'application/x-www-form-urlencoded', body });
  const ref = fc.oneof(
    fc.record({
      jobId: fc.constantFrom(refs.waiting.jobId, refs.failed.jobId),
      seq: fc.nat({ max: 40 }),
      stepId: fc.constantFrom('approval_gate', 'billing', 'database'),
    }),
    fc.record({ jobId: nastyString, seq: fc.nat() }),
  );
  const slug = fc.oneof(fc.constantFrom(...refs.slugs), nastyString);
  const command = fc
    .record({
      command: fc.oneof({ weight: 5, arbitrary: fc.constant('/provision') }, { weight: 1, arbitrary: nastyString }),
      text: fc.oneof(
        fc.constantFrom('', 'help', 'list'),
        slug.map((s) => `status ${s}`),
        slug.map((s) => `audit ${s}`),
        nastyString,
      ),
      user,
      channelId: fc.oneof({ weight: 4, arbitrary: fc.constant(CHANNEL) }, { weight: 1, arbitrary: nastyString }),
    })
    .map((c) =>
      form(
        slashCommandBody({
          command: c.command,
          text: c.text,
          userId: c.user.id,
          userName: c.user.name,
          channelId: c.channelId,
          triggerId: TRIGGER,
          responseUrl: RESPONSE_URL,
        }),
      ),
    );
  const click = fc
    .record({
      user,
      actionId: fc.oneof(
        { weight: 5, arbitrary: fc.constantFrom(...Object.values(ACTIONS), INTAKE_BLOCKS.plan.actionId) },
        { weight: 1, arbitrary: nastyString },
      ),
      value: fc.oneof({ weight: 3, arbitrary: ref.map(encodeAction) }, { weight: 1, arbitrary: nastyString }),
    })
    .map((c) =>
      blockActionPayload({
        userId: c.user.id,
        userName: c.user.name,
        actionId: c.actionId,
        value: c.value,
        triggerId: TRIGGER,
        channelId: CHANNEL,
        messageTs: '1700000000.000100',
        responseUrl: RESPONSE_URL,
      }),
    );
  // The modal only ever holds text: each value as a person could have typed it.
  const intake = dealLike(plans, residencies, flags).map((deal) =>
    intakeValues(Object.fromEntries(Object.entries({ ...dealFor(), ...deal }).map(([k, v]) => [k, typed(v)]))),
  );
  const reason = nastyString.map((text) => ({ [DIALOG_BLOCKS.reason.blockId]: { [DIALOG_BLOCKS.reason.actionId]: text } }));
  const submit = fc
    .record({
      user,
      callbackId: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...Object.values(CALLBACKS)) }, { weight: 1, arbitrary: nastyString }),
      privateMetadata: fc.oneof(ref.map(encodeAction), fc.constant(JSON.stringify({ channel: CHANNEL })), nastyString),
      values: fc.oneof(intake, reason),
    })
    .map((s) =>
      viewSubmissionPayload({
        userId: s.user.id,
        userName: s.user.name,
        callbackId: s.callbackId,
        privateMetadata: s.privateMetadata,
        values: s.values,
      }),
    );
  const payload = (p: fc.Arbitrary<unknown>) =>
    p.map((value) => form(new URLSearchParams([['payload', JSON.stringify(value) ?? 'null']]).toString()));
  return fc.oneof(
    { weight: 4, arbitrary: command },
    { weight: 4, arbitrary: payload(fc.oneof({ weight: 3, arbitrary: click }, { weight: 2, arbitrary: damaged(click) })) },
    { weight: 4, arbitrary: payload(fc.oneof({ weight: 3, arbitrary: submit }, { weight: 2, arbitrary: damaged(submit) })) },
    { weight: 1, arbitrary: payload(jsonish) },
    { weight: 1, arbitrary: nastyString.map((text) => form(`payload=${encodeURIComponent(text)}`)) },
    { weight: 1, arbitrary: nastyString.map(form) },
    {
      weight: 1,
      arbitrary: fc
        .oneof(
          fc.record({ type: fc.constant('url_verification'), challenge: nastyString }),
          fc.record({ type: fc.constant('event_callback'), event: jsonish }),
          jsonish,
        )
        .map((value) => ({ contentType: 'application/json', body: JSON.stringify(value) ?? 'null' })),
    },
    {
      weight: 1,
      arbitrary: fc.record({ contentType: fc.constantFrom('text/plain', 'multipart/form-data', 'application/json', ''), body: nastyString }),
    },
  );
}

function typed(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return '';
  }
}

/** Error blocks a modal of ours can show. */
const OUR_BLOCKS: ReadonlySet<string> = new Set([...Object.values(INTAKE_BLOCKS), ...Object.values(DIALOG_BLOCKS)].map((b) => b.blockId));

/** Requests in flight at once: Bolt holds a request it has no listener for 3 s before answering 404. */
const IN_FLIGHT = 16;
/** Slack itself gives up after 3 s; a request still unanswered after this was dropped. */
const ANSWER_WITHIN_MS = 15_000;

export async function fuzzSlack(findings: Findings, cases: number, seed: number): Promise<{ slackRefusals: number }> {
  const listenerErrors: unknown[] = [];
  const slack = await startSlackApp({ pipeline: billingFails(1000), onError: (err) => listenerErrors.push(err) });
  try {
    const refs = await jobsToActOn(slack);
    const { plans } = slack.app.manifests;
    const queue = fc
      .sample(requests(refs, Object.keys(plans.plans), plans.dataResidencies, Object.keys(plans.featureFlags)), { numRuns: cases, seed })
      .entries();
    const sender = async () => {
      for (const [, request] of queue) await send(findings, slack, findings.tried('slack webhooks'), request);
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, sender));
    // What the listeners do after answering: ephemeral replies, modals, messages.
    await sleep(2500);
    judgeSentToSlack(findings, slack);
    return { slackRefusals: judgeListenerErrors(findings, listenerErrors) };
  } finally {
    await stopSlackApp(slack);
  }
}

/**
 * Errors our listeners let escape to Bolt (after answering, so the person hears nothing more). Slack
 * refusing a reply (a channel or user the payload made up) is Slack's answer, counted apart; anything
 * else is our code failing on what it was sent. The request behind each is not known (listeners run late).
 */
function judgeListenerErrors(findings: Findings, errors: readonly unknown[]): number {
  let refusals = 0;
  for (const err of errors) {
    const ours = originals(err).filter((e) => !(e instanceof Error && e.name === 'WebAPIPlatformError'));
    if (ours.length === 0) refusals += 1;
    else findings.crash('slack webhooks', -1, `a listener failed: ${[...new Set(ours.map(errorText))].slice(0, 2).join('; ')}`, ours.map(stackOf));
  }
  return refusals;
}

function stackOf(err: unknown): unknown {
  return err instanceof Error ? err.stack : err;
}

/** Bolt wraps the errors of several listeners of one request in one (`originals`). */
function originals(err: unknown): unknown[] {
  const inner: unknown = err !== null && typeof err === 'object' ? Reflect.get(err, 'originals') : undefined;
  return Array.isArray(inner) ? inner.flatMap(originals) : [err];
}

function judgeSentToSlack(findings: Findings, slack: SlackTestApp): void {
  for (const text of sentToSlack(slack)) {
    if (hasStackTrace(text)) findings.crash('slack webhooks', -1, `stack trace in something sent to Slack: ${text.slice(0, 300)}`, text);
  }
}

/** A job waiting for approval and one whose billing failed, so clicks can name real jobs. */
async function jobsToActOn(slack: SlackTestApp): Promise<Refs> {
  const service = slack.app.service;
  const waiting = (await service.provision(dealFor({ plan: 'enterprise', contractValue: 500_000 }), REQUESTER)).job;
  const failed = (await service.provision(dealFor(), REQUESTER)).job;
  for (let i = 0; i < 100 && (await service.status(failed.jobId)).status !== 'failed'; i += 1) await sleep(50);
  const seqOf = async (jobId: string) => (await service.status(jobId)).seq;
  return {
    waiting: { jobId: waiting.jobId, seq: await seqOf(waiting.jobId) },
    failed: { jobId: failed.jobId, seq: await seqOf(failed.jobId) },
    slugs: [waiting.tenant.slug, failed.tenant.slug],
  };
}

async function send(findings: Findings, slack: SlackTestApp, index: number, request: Request): Promise<void> {
  const body = request.body
    .replaceAll(TRIGGER, encodeURIComponent(slack.fake.issueTrigger()))
    .replaceAll(RESPONSE_URL, encodeURIComponent(slack.fake.responseUrl({ channel: CHANNEL })));
  let answer: { status: number; body: string };
  try {
    answer = await signedRequest({
      url: slack.eventsUrl,
      signingSecret: SIGNING_SECRET,
      body,
      contentType: request.contentType,
      signal: AbortSignal.timeout(ANSWER_WITHIN_MS),
    });
  } catch (err) {
    findings.crash('slack webhooks', index, `no answer within ${ANSWER_WITHIN_MS / 1000} s: ${errorText(err)}`, request);
    return;
  }
  if (answer.status >= 500) findings.crash('slack webhooks', index, `HTTP ${answer.status}: ${answer.body.slice(0, 200)}`, request);
  if (hasStackTrace(answer.body)) findings.crash('slack webhooks', index, `stack trace in the answer: ${answer.body.slice(0, 300)}`, request);
  const errors = modalErrors(answer.body);
  for (const [block, message] of Object.entries(errors ?? {})) {
    if (!OUR_BLOCKS.has(block))
      findings.unnamed('slack webhooks', index, `modal error on block ${JSON.stringify(block)}, which no modal of ours has`, request);
    if (typeof message !== 'string' || message.trim() === '')
      findings.unnamed('slack webhooks', index, `empty modal error on block ${block}`, request);
  }
}

/** `{ response_action: 'errors', errors }` from a view_submission answer, when that is what came back. */
function modalErrors(body: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed === null || typeof parsed !== 'object' || Reflect.get(parsed, 'response_action') !== 'errors') return undefined;
    const errors: unknown = Reflect.get(parsed, 'errors');
    return errors !== null && typeof errors === 'object' ? Object.fromEntries(Object.entries(errors)) : {};
  } catch {
    return undefined;
  }
}

function sentToSlack(slack: SlackTestApp): string[] {
  const methods = ['chat.postMessage', 'chat.postEphemeral', 'chat.update', 'views.open', 'views.push', 'views.update'];
  const calls = methods.flatMap((m) => slack.fake.callsTo(m)).map((c) => JSON.stringify(c.args));
  return [...calls, ...slack.fake.ephemerals().map((e) => JSON.stringify(e))];
}
