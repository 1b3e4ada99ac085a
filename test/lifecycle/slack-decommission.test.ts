/**
 * Decommissioning from Slack: `/provision decommission <slug>` opens a
 * confirmation, an approver agrees, and during the grace period the thread is
 * reminded with a Cancel button that asks for a reason and stops the job
 * before anything is touched.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACTIONS, CALLBACKS, DIALOG_BLOCKS, LIFECYCLE_BLOCKS, LIFECYCLE_CALLBACK } from '../../src/slack/blocks/index.ts';
import { dealFor, waitForRecord, waitForStatus } from '../support/harness.ts';
import { person, REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';
import { APPROVER, CHANNEL, startSlackApp, stopSlackApp, type SlackTestApp } from '../support/slack-app.ts';
import { interactionBody, slashCommandBody, viewSubmissionPayload } from '../support/slack-signing.ts';
import { clickButton, openedModal, said, sender, submitModal, until } from '../support/slack-story.ts';

describe('decommissioning from Slack', () => {
  it('opens a confirmation, waits for approval, reminds the thread with a Cancel button, and Cancel stops it with a reason', async () => {
    let s: SlackTestApp | undefined;
    try {
      s = await startSlackApp({
        pipeline: pipelineOf(sandbox('database', { latencyMs: 5, resource: '${tenant.databaseName}' })),
        env: { DECOMMISSION_GRACE_DAYS: '0.01', DECOMMISSION_REMINDER_HOURS: '0.0003', EXPORTS_DIR: mkdtempSync(path.join(tmpdir(), 'exports-')) },
      });
      const t = s;
      const { job: provisioning } = await t.app.service.provision(dealFor({ companyName: 'Vandelay Industries' }), REQUESTER);
      await waitForStatus(t.app, provisioning.jobId, ['live']);
      await waitForRecord(t.app, provisioning.jobId);
      const slug = provisioning.tenant.slug;

      const slash = slashCommandBody({
        command: '/provision',
        text: `decommission ${slug}`,
        userId: APPROVER.id,
        userName: APPROVER.name,
        channelId: CHANNEL,
        triggerId: t.fake.issueTrigger(),
      });
      expect((await sender(t)(slash)).status).toBe(200);
      const modal = await openedModal(t, 0);
      expect(modal.callbackId).toBe(LIFECYCLE_CALLBACK);
      const submitted = viewSubmissionPayload({
        userId: APPROVER.id,
        userName: APPROVER.name,
        callbackId: LIFECYCLE_CALLBACK,
        privateMetadata: modal.privateMetadata,
        viewId: 'V0DECOM001',
        values: { [LIFECYCLE_BLOCKS.reason.blockId]: { [LIFECYCLE_BLOCKS.reason.actionId]: 'contract ended' } },
      });
      expect((await sender(t)(interactionBody(submitted))).status).toBe(200);
      const answer = await until('the private answer', () => t.fake.ephemerals(CHANNEL).find((e) => e.user === APPROVER.id));
      const jobId = /job (\S+)\./.exec(answer.text ?? '')?.[1] ?? '';
      await waitForStatus(t.app, jobId, ['awaiting_approval']);
      await t.app.service.approve(slug, person('dana.admin', 'admin'));

      // The decommissioning's own progress message, and a reminder in its thread.
      const progress = await until('the decommissioning’s progress message', () => t.fake.messages(CHANNEL).find((m) => said(m).includes(jobId)));
      const reminder = await until('a reminder with a Cancel button', () =>
        t.fake
          .messages(CHANNEL)
          .find((m) => m.ts === progress.ts)
          ?.replies.find((r) => said(r).includes('will be decommissioned')),
      );
      expect(said(reminder)).toContain(`Reminder: Vandelay Industries (${slug}) will be decommissioned at`);

      expect((await clickButton(t, APPROVER, reminder, ACTIONS.cancel, progress.ts)).status).toBe(200);
      const cancelModal = await openedModal(t, 1);
      expect(cancelModal.callbackId).toBe(CALLBACKS.cancel);
      await submitModal(t, APPROVER, cancelModal, { [DIALOG_BLOCKS.reason.blockId]: { [DIALOG_BLOCKS.reason.actionId]: 'they renewed' } });
      const cancelled = await waitForStatus(t.app, jobId, ['cancelled']);
      expect(cancelled.steps.filter((step) => step.state === 'succeeded').map((step) => step.id)).toEqual(['approval_gate']);
      expect((await t.app.service.lifecycle.tenant(slug)).status).toBe('live');
    } finally {
      await stopSlackApp(s);
    }
  }, 60_000);
});
