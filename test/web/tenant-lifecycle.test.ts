/**
 * An approver changes a live tenant from its page in the admin panel, in a
 * real browser: the page offers only what the tenant's status allows;
 * decommissioning wants the slug typed; someone who may not suspend is told
 * so in words on the page; a suspension starts its job (the audit names the
 * admin panel) and, once approved, the page offers reactivation instead; a
 * plan change takes its plan from a list.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { kindOf } from '../../src/domain/job-kind.ts';
import { screenshotPath } from '../support/browser.ts';
import { auditOf, dealFor, waitForRecord, waitForStatus } from '../support/harness.ts';
import { person, REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';
import { SAM } from '../support/slack-app.ts';
import { APPROVER, signInWithSlack, STRANGER, type WebTestApp, webStories } from '../support/web-app.ts';

const PIPELINE = pipelineOf(sandbox('database', { latencyMs: 5, resource: '${tenant.databaseName}' }));
const DANA = person('dana.approver', 'approver');

/** The titles of the lifecycle actions the page offers. */
const offered = (page: Page) => page.locator('[data-part="lifecycle"] .action-group h3').allTextContents();

describe("a tenant's lifecycle from its page in the admin panel", () => {
  const stories = webStories();
  let web: WebTestApp | undefined;

  const signedInPage = async (who: { id: string; name: string }, path: string): Promise<Page> => {
    const page = await stories.newPage({ viewport: { width: 1280, height: 900 } });
    if (!web) throw new Error('no app');
    await signInWithSlack(page, web, who, path);
    return page;
  };

  it('offers what the status allows, refuses in words, suspends through a job, and then offers reactivation', async () => {
    web = await stories.start({ pipeline: PIPELINE });
    const { job } = await web.app.service.provision(dealFor({ companyName: 'Initech' }), REQUESTER);
    await waitForStatus(web.app, job.jobId, ['live']);
    await waitForRecord(web.app, job.jobId);
    const slug = job.tenant.slug;

    // From the tenants list to the tenant's page.
    const page = await signedInPage(APPROVER, '/admin/tenants');
    await page.getByRole('link', { name: 'Initech' }).click();
    await page.waitForURL((url) => url.pathname === `/admin/tenants/${slug}`);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Initech Live');
    expect(await offered(page)).toEqual(['Suspend', 'Change plan', 'Decommission']);
    const plans = await page.getByLabel('New plan').locator('option').allTextContents();
    expect(plans).toEqual(['Choose a plan', expect.stringContaining('(growth)'), expect.stringContaining('(enterprise)')]);
    await page.screenshot({ path: screenshotPath('admin-tenant-lifecycle'), fullPage: true });

    // Decommissioning wants the slug typed: a wrong one is refused on the page, and nothing starts.
    const decommission = page.locator(`form[action$="/${slug}/decommission"]`);
    await decommission.getByLabel(`Type ${slug} to confirm`).fill('initech');
    await decommission.getByLabel('Why decommission?').fill('contract ended');
    await decommission.getByRole('button', { name: 'Decommission' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toBe(`Type the tenant's slug, ${slug}, to confirm you mean to decommission it`);
    expect(new URL(page.url()).pathname).toBe(`/admin/tenants/${slug}`);

    // Someone who may not suspend is told why, in words, on the same page.
    const stranger = await signedInPage(STRANGER, `/admin/tenants/${slug}`);
    const theirs = stranger.locator(`form[action$="/${slug}/suspend"]`);
    await theirs.getByLabel('Why suspend?').fill('looks unused');
    await theirs.getByRole('button', { name: 'Suspend' }).click();
    await expect(stranger.getByRole('alert').textContent()).resolves.toBe('Only approvers can suspend tenants; ask one of them.');
    const kinds = async () => (await web?.app.store.findJobs({ search: slug, limit: 10 }))?.map((j) => kindOf(j.definition)) ?? [];
    expect(await kinds()).toEqual(['provision']);

    // The approver suspends: off to the job's page, which waits for another approver.
    const suspend = page.locator(`form[action$="/${slug}/suspend"]`);
    await suspend.getByLabel('Why suspend?').fill('customer asked for a pause');
    await suspend.getByRole('button', { name: 'Suspend' }).click();
    await page.waitForURL((url) => url.pathname.startsWith(`/admin/jobs/${slug}-suspend-`));
    await expect(page.getByRole('status').first().textContent()).resolves.toBe(`Asked to suspend ${slug}: this is its job.`);
    const suspension = new URL(page.url()).pathname.split('/').at(-1) ?? '';
    await waitForStatus(web.app, suspension, ['awaiting_approval']);
    await web.app.service.approve(suspension, DANA);
    const done = await waitForStatus(web.app, suspension, ['live', 'failed']);
    expect(done.status).toBe('live');
    const { lines } = await auditOf(web.app, done);
    expect(lines.some((l) => l.includes(`${SAM} from the admin panel asked to suspend Initech (slug ${slug}): "customer asked for a pause"`))).toBe(
      true,
    );

    // Suspended now: the page offers reactivation and decommissioning, not suspension or a plan change.
    await page.goto(`${web.url}/admin/tenants/${slug}`);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Initech Suspended');
    expect(await offered(page)).toEqual(['Reactivate', 'Decommission']);
    expect(await kinds()).toEqual(expect.arrayContaining(['provision', 'suspend']));
  });

  it('changes the plan with the one chosen in the list, and a plan left unchosen is refused naming it', async () => {
    web = await stories.start({ pipeline: PIPELINE });
    const { job } = await web.app.service.provision(dealFor({ companyName: 'Hooli' }), REQUESTER);
    await waitForStatus(web.app, job.jobId, ['live']);
    await waitForRecord(web.app, job.jobId);
    const slug = job.tenant.slug;
    const page = await signedInPage(APPROVER, `/admin/tenants/${slug}`);
    const form = page.locator(`form[action$="/${slug}/change-plan"]`);
    await form.getByLabel('Why change the plan?').fill('renewal on growth');
    // The browser would not send it without a plan (required); a hand-made post gets the service's words.
    await form.getByLabel('New plan').evaluate((select) => select.removeAttribute('required'));
    await form.getByRole('button', { name: 'Change plan' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toBe('Choose the plan to move to');

    await page.locator(`form[action$="/${slug}/change-plan"]`).getByLabel('New plan').selectOption('growth');
    await page.locator(`form[action$="/${slug}/change-plan"]`).getByLabel('Why change the plan?').fill('renewal on growth');
    await page.locator(`form[action$="/${slug}/change-plan"]`).getByRole('button', { name: 'Change plan' }).click();
    await page.waitForURL((url) => url.pathname.startsWith(`/admin/jobs/${slug}-plan-`));
    await expect(page.getByRole('status').first().textContent()).resolves.toBe(`Asked to change the plan of ${slug}: this is its job.`);
    const planJob = await web.app.service.status(new URL(page.url()).pathname.split('/').at(-1) ?? '');
    expect(planJob).toMatchObject({ kind: 'change_plan' });
  });
});
