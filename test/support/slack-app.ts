/** A test app with the Slack surface on: real Bolt (HTTP or Socket Mode), real WebClient, the loopback Slack fake. */
import type { ViewStateValue } from '@slack/bolt';
import type { Identity } from '../../src/domain/policy.ts';
import { INTAKE_BLOCKS } from '../../src/slack/blocks/index.ts';
import { pipelineOf, sandbox } from './pipeline.ts';
import { SlackFake } from './slack-fake.ts';
import { startTestApp, stopTestApp, type TestApp, type TestAppOptions } from './harness.ts';

export const CHANNEL = 'C0ONBOARD';
export const SIGNING_SECRET = 'test-signing-secret-for-bolt';
export const AE = { id: 'U0AE00001', name: 'jane.ae' };
export const APPROVER = { id: 'U0APPROVE', name: 'sam.approver' };
export const STRANGER = { id: 'U0RANDOM1', name: 'random.person' };
/** How the audit trail and the thread name the AE and the approver: real name and Slack user id. */
export const JANE = `Jane Ae (${AE.id})`;
export const SAM = `Sam Approver (${APPROVER.id})`;
/** The AE as Slack knows her: asking for a tenant from Slack makes her its requester there. */
export const JANE_IN_SLACK: Identity = { door: 'slack', id: AE.id, name: JANE, roles: new Set(['requester']) };

/** A small pipeline whose billing step fails for good `times` times (a person retries it), then succeeds. */
export function billingFails(times: number): string {
  return pipelineOf(
    sandbox('database', { latencyMs: 10, resource: 'database' }),
    sandbox('billing', { latencyMs: 10, failPermanentTimes: times, resource: 'stripe customer' }, { needs: ['database'] }),
    sandbox('welcome_email', { resource: 'email' }, { needs: ['billing'], criticality: 'notification' }),
  );
}

export type SlackTestApp = { app: TestApp; fake: SlackFake; eventsUrl: string };

const APP_TOKEN = 'xapp-1-A0FAKEAPP01-1-test-app-token';

function startFake(): Promise<SlackFake> {
  return SlackFake.start({
    botToken: 'xoxb-test-token',
    appToken: APP_TOKEN,
    users: {
      [AE.id]: { name: AE.name, realName: 'Jane Ae' },
      [APPROVER.id]: { name: APPROVER.name, realName: 'Sam Approver' },
      [STRANGER.id]: { name: STRANGER.name },
    },
  });
}

function slackEnv(fake: SlackFake, mode: Record<string, string>, extra: Record<string, string> | undefined): Record<string, string> {
  return {
    ...mode,
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    SLACK_API_URL: fake.url,
    SLACK_ONBOARDING_CHANNEL: CHANNEL,
    SLACK_APPROVERS: APPROVER.id,
    SLACK_UPDATES_PER_SECOND: '20',
    SLACK_POSTS_PER_SECOND: '20',
    ...extra,
  };
}

export type SlackAppOptions = TestAppOptions & {
  env?: Record<string, string>;
  /** More configuration once the fake is up (e.g. its URLs), applied last. */
  beforeStart?: (fake: SlackFake) => Record<string, string>;
};

export async function startSlackApp(opts: SlackAppOptions = {}): Promise<SlackTestApp> {
  const fake = await startFake();
  const mode = { SLACK_MODE: 'http', SLACK_SIGNING_SECRET: SIGNING_SECRET };
  const env = { ...slackEnv(fake, mode, opts.env), ...opts.beforeStart?.(fake) };
  const app = await startTestApp({ ...opts, serveSlack: true, serveWeb: true, env });
  if (!app.web) throw new Error('the HTTP server was not composed');
  const url = await app.web.listen(0);
  return { app, fake, eventsUrl: `${url}/slack/events` };
}

export type SocketTestApp = { app: TestApp; fake: SlackFake };

/** The same app in Socket Mode: it opens a WebSocket to the fake and resolves once Slack (the fake) said hello. */
export async function startSocketSlackApp(opts: TestAppOptions & { env?: Record<string, string> } = {}): Promise<SocketTestApp> {
  const fake = await startFake();
  const app = await startTestApp({ ...opts, serveSlack: true, env: slackEnv(fake, { SLACK_MODE: 'socket', SLACK_APP_TOKEN: APP_TOKEN }, opts.env) });
  await app.slack?.start();
  return { app, fake };
}

/** `view.state.values` as Slack sends them for a filled-in intake modal. */
export function intakeValues(deal: Record<string, unknown>): Record<string, Record<string, ViewStateValue | string>> {
  const text = (field: keyof typeof INTAKE_BLOCKS) => String(deal[field] ?? '');
  const b = INTAKE_BLOCKS;
  return {
    [b.companyName.blockId]: { [b.companyName.actionId]: text('companyName') },
    [b.slug.blockId]: { [b.slug.actionId]: text('slug') },
    [b.adminEmail.blockId]: { [b.adminEmail.actionId]: { type: 'email_text_input', value: text('adminEmail') } },
    [b.plan.blockId]: {
      [b.plan.actionId]: { type: 'static_select', selected_option: { text: { type: 'plain_text', text: text('plan') }, value: text('plan') } },
    },
    [b.contractStartDate.blockId]: { [b.contractStartDate.actionId]: { type: 'datepicker', selected_date: text('contractStartDate') } },
    [b.contractValue.blockId]: { [b.contractValue.actionId]: { type: 'number_input', value: text('contractValue') } },
    [b.dataResidency.blockId]: {
      [b.dataResidency.actionId]: {
        type: 'static_select',
        selected_option: { text: { type: 'plain_text', text: text('dataResidency') }, value: text('dataResidency') },
      },
    },
    [b.crmOpportunityId.blockId]: { [b.crmOpportunityId.actionId]: text('crmOpportunityId') },
  };
}

/** Stops the app, then the fake; safe to call with nothing started. */
export async function stopSlackApp(s: SlackTestApp | SocketTestApp | undefined): Promise<void> {
  if (!s) return;
  await stopTestApp(s.app);
  await s.fake.close();
}
