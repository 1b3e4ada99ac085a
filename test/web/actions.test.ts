/**
 * The rest of what an approver does from a job's page, in a real browser:
 * approve a big deal, give the customer's IdP metadata to a waiting step, and
 * roll a tenant back — behind a confirmation that can be declined — each
 * through the same services as Slack, each named in the audit with its door.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { auditOf, dealFor, waitForStatus, waitForStep } from '../support/harness.ts';
import { REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';
import { APPROVER, signInWithSlack, type WebTestApp, webStories } from '../support/web-app.ts';

const SAM = `Sam Approver (${APPROVER.id})`;

const STRAIGHT = pipelineOf(
  sandbox('database', { latencyMs: 10, resource: 'database' }),
  sandbox('sso', { latencyMs: 10, resource: 'okta app' }, { needs: ['database'] }),
);

const WAITS_FOR_METADATA = pipelineOf(
  sandbox('database', { latencyMs: 10, resource: 'database' }),
  sandbox('sso', { waitForInput: true, resource: 'okta app' }, { needs: ['database'] }),
);

describe('acting on a job from its page', () => {
  const stories = webStories();
  let web: WebTestApp | undefined;

  const signedInPage = async (path: string): Promise<Page> => {
    const page = await stories.newPage();
    if (!web) throw new Error('no app');
    await signInWithSlack(page, web, APPROVER, path);
    return page;
  };

  it('an approver approves a big deal, and it goes live', async () => {
    web = await stories.start({ pipeline: STRAIGHT });
    const { job } = await web.app.service.provision(dealFor({ plan: 'growth', contractValue: 150_000 }), REQUESTER);
    await waitForStatus(web.app, job.jobId, ['awaiting_approval']);
    const page = await signedInPage(`/admin/jobs/${job.jobId}`);
    await expect(page.locator('.action-group h3').first().textContent()).resolves.toBe('Approval gate: waiting for approval');
    await page.getByRole('button', { name: 'Approve' }).click();
    await waitForStatus(web.app, job.jobId, ['live']);
    const { lines } = await auditOf(web.app, job);
    expect(lines.some((l) => l.endsWith(`${SAM} approved approval gate from the admin panel`))).toBe(true);
  });

  it("a step waiting for the customer's IdP metadata takes it from the page; a form sent empty is refused in words", async () => {
    web = await stories.start({ pipeline: WAITS_FOR_METADATA });
    const { job } = await web.app.service.provision(dealFor(), REQUESTER);
    await waitForStep(web.app, job.jobId, 'sso', ['waiting_input']);
    const page = await signedInPage(`/admin/jobs/${job.jobId}`);
    const form = page.locator('form[action$="/input"]');
    await form.getByRole('button', { name: 'Send' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toBe('Give the metadata URL, or paste the details below');
    await page.locator('form[action$="/input"]').getByLabel('IdP metadata URL').fill('https://idp.acme.example/saml/metadata');
    await page.locator('form[action$="/input"]').getByRole('button', { name: 'Send' }).click();
    await waitForStatus(web.app, job.jobId, ['live']);
    const { lines } = await auditOf(web.app, job);
    expect(lines.some((l) => l.includes(`${SAM} provided the input step sso was waiting for, from the admin panel`))).toBe(true);
  });

  it('roll back asks for a reason and a confirmation; declining changes nothing, confirming undoes the tenant', async () => {
    web = await stories.start({ pipeline: STRAIGHT });
    const { job } = await web.app.service.provision(dealFor({ companyName: 'Initech' }), REQUESTER);
    await waitForStatus(web.app, job.jobId, ['live']);
    const page = await signedInPage(`/admin/jobs/${job.jobId}`);
    const rollback = page.locator('form[action$="/rollback"]');
    await rollback.getByLabel('Why roll back?').fill('the customer withdrew');

    page.once('dialog', (dialog) => void dialog.dismiss());
    await rollback.getByRole('button', { name: 'Roll back' }).click();
    expect((await web.app.service.status(job.jobId)).status).toBe('live');

    const asked: string[] = [];
    page.once('dialog', (dialog) => {
      asked.push(dialog.message());
      void dialog.accept();
    });
    await rollback.getByRole('button', { name: 'Roll back' }).click();
    await waitForStatus(web.app, job.jobId, ['rolled_back']);
    expect(asked).toEqual(['Roll back Initech? Everything provisioned for it is undone.']);
    const { lines } = await auditOf(web.app, job);
    expect(lines.some((l) => l.includes(`${SAM} started a rollback from the admin panel: "the customer withdrew"`))).toBe(true);
  });
});
