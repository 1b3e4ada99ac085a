/**
 * In the /provision modal, before pressing Provision, the AE presses Preview
 * and sees what the job will create and where, and that an EU enterprise deal
 * needs approval for its data residency. Nothing is stored by looking.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { previewRequest } from '../../src/app/preview.ts';
import { loadConfig, placementOf } from '../../src/config.ts';
import type { JobPreview } from '../../src/domain/preview.ts';
import { CALLBACKS, LIMITS, PREVIEW_ACTION, PREVIEW_BLOCK, PREVIEW_CALLBACK, previewModal } from '../../src/slack/blocks/index.ts';
import { stepTypes } from '../../src/steps/registry.ts';
import { dealFor } from '../support/harness.ts';
import { AE, intakeValues, SIGNING_SECRET, startSlackApp, stopSlackApp, type SlackTestApp } from '../support/slack-app.ts';
import { interactionBody, signedRequest, slashCommandBody } from '../support/slack-signing.ts';
import { isRecord } from '../support/slack-fake.ts';
import { realManifests } from './blocks/fixtures.ts';

const config = loadConfig({});

function previewOf(deal: Record<string, unknown>): JobPreview {
  return previewRequest(
    deal,
    { door: 'slack', id: AE.id, name: AE.name },
    {
      manifests: realManifests(),
      settings: config.tenant,
      catalogue: stepTypes,
      planners: stepTypes,
      placement: placementOf(config),
      now: new Date('2026-11-25T09:00:00Z'),
    },
  );
}

/** Every mrkdwn text in the blocks, as Slack would render it (sections and context alike). */
function texts(blocks: unknown): string[] {
  if (Array.isArray(blocks)) return blocks.flatMap(texts);
  if (!isRecord(blocks)) return [];
  const own = blocks['type'] === 'mrkdwn' && typeof blocks['text'] === 'string' ? [blocks['text']] : [];
  return [...own, ...Object.values(blocks).flatMap(texts)];
}

const deal = (overrides: Record<string, unknown>) => ({ ...dealFor(overrides), contractStartDate: '2026-12-01' });

describe('the Preview view', () => {
  it('shows each plan tier within Block Kit limits, with the approval its choices need', () => {
    for (const plan of ['starter', 'growth', 'enterprise']) {
      const view = previewModal(previewOf(deal({ plan, dataResidency: 'eu', contractValue: 150_000 })));
      expect(view.callback_id).toBe(PREVIEW_CALLBACK);
      expect(view.blocks.length).toBeLessThanOrEqual(LIMITS.messageBlocks);
      for (const text of texts(view.blocks)) expect(text.length).toBeLessThanOrEqual(LIMITS.text);
      expect(texts(view.blocks).join('\n')).toContain('*billing*');
    }
    const enterprise = texts(previewModal(previewOf(deal({ plan: 'enterprise', dataResidency: 'eu' }))).blocks).join('\n');
    expect(enterprise).toContain(':raised_hand: *Needs approval before anything runs*: Plan uses a dedicated database; Custom data residency: eu');
    const starter = texts(previewModal(previewOf(deal({ plan: 'starter', dataResidency: 'us', contractValue: 1_000 }))).blocks).join('\n');
    expect(starter).toContain(':white_check_mark: *No approval needed*');
  });

  it('a very long plan stays within 50 blocks and says where the rest is', () => {
    const p = previewOf(deal({ plan: 'enterprise' }));
    const step = p.steps[1];
    if (!step) throw new Error('the preview has no second step');
    const many: JobPreview = { ...p, steps: Array.from({ length: 400 }, (_, i) => ({ ...step, id: `step_${i}` })) };
    const view = previewModal(many);
    expect(view.blocks.length).toBeLessThanOrEqual(LIMITS.messageBlocks);
    for (const text of texts(view.blocks)) expect(text.length).toBeLessThanOrEqual(LIMITS.text);
    expect(texts(view.blocks).join('\n')).toMatch(/…and \d+ more lines: `provisioner plan` shows them all/);
  });

  it('shows a company name as typed, never as a mention or formatting', () => {
    const text = texts(previewModal(previewOf(deal({ companyName: 'Hooli <!channel> & *Co*', slug: 'hooli' }))).blocks).join('\n');
    expect(text).not.toContain('<!channel>');
    expect(text).toContain('&lt;!channel&gt;');
  });
});

describe('Preview in the /provision modal', () => {
  let s: SlackTestApp | undefined;
  afterEach(async () => {
    await stopSlackApp(s);
    s = undefined;
  });

  /** The AE clicks a button inside the open modal, as Slack sends it: the view's state comes along. */
  function clickInModal(t: SlackTestApp, values: ReturnType<typeof intakeValues>) {
    const payload = {
      type: 'block_actions',
      user: { id: AE.id, username: AE.name, name: AE.name, team_id: 'T0FAKE' },
      api_app_id: 'A0FAKEAPP01',
      token: 'fake',
      container: { type: 'view', view_id: 'V0INTAKE' },
      trigger_id: t.fake.issueTrigger(),
      team: { id: 'T0FAKE', domain: 'fake' },
      is_enterprise_install: false,
      view: {
        id: 'V0INTAKE',
        type: 'modal',
        callback_id: CALLBACKS.intake,
        private_metadata: JSON.stringify({ channel: 'C0SALES' }),
        hash: '1.abc',
        blocks: [],
        // Slack sends a text box's state as { type, value }.
        state: {
          values: Object.fromEntries(
            Object.entries(values).map(([block, inputs]) => [
              block,
              Object.fromEntries(Object.entries(inputs).map(([a, v]) => [a, typeof v === 'string' ? { type: 'plain_text_input', value: v } : v])),
            ]),
          ),
        },
      },
      actions: [
        {
          type: 'button',
          action_id: PREVIEW_ACTION,
          block_id: PREVIEW_BLOCK,
          text: { type: 'plain_text', text: 'Preview' },
          value: 'preview',
          action_ts: '1.2',
        },
      ],
    };
    return signedRequest({ url: t.eventsUrl, signingSecret: SIGNING_SECRET, body: interactionBody(payload) });
  }

  it('pushes the plan over the modal, including the approval an EU enterprise deal needs, and stores nothing', async () => {
    s = await startSlackApp({ env: { SLACK_APPROVERS: AE.id } });
    const opened = await signedRequest({
      url: s.eventsUrl,
      signingSecret: SIGNING_SECRET,
      body: slashCommandBody({
        command: '/provision',
        text: '',
        userId: AE.id,
        userName: AE.name,
        channelId: 'C0SALES',
        triggerId: s.fake.issueTrigger(),
      }),
    });
    expect(opened.status).toBe(200);
    const [open] = await s.fake.waitFor('views.open');
    expect(JSON.stringify(open?.args['view'])).toContain(PREVIEW_ACTION);

    const clicked = await clickInModal(s, intakeValues(deal({ plan: 'enterprise', dataResidency: 'eu', companyName: 'Initech', slug: 'initech' })));
    expect(clicked.status).toBe(200);
    const [push] = await s.fake.waitFor('views.push');
    expect(push?.ok).toBe(true);
    const view = push?.args['view'];
    if (!isRecord(view)) throw new Error('views.push without a view');
    const shown = JSON.stringify(view);
    expect(shown).toContain('Needs approval before anything runs');
    expect(shown).toContain('Custom data residency: eu');
    expect(shown).toContain('tenant_initech');
    expect(await s.app.store.findJobs({ limit: 5 })).toEqual([]);

    // A mistyped email: the preview names the field to fix instead.
    await clickInModal(s, intakeValues(deal({ adminEmail: 'not-an-email' })));
    const [, second] = await s.fake.waitFor('views.push', 2);
    expect(JSON.stringify(second?.args['view'])).toContain('*adminEmail*: Enter a valid email address');
  });
});
