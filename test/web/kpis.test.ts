/**
 * Someone from operations opens the KPI page after a few deals: one went
 * through by itself, one needed a retry, one waited for approval and was
 * overridden, one was rolled back, and the product reported a workflow used.
 * The page's figures say so, each chart is drawn beside its table, a CSV
 * downloads, and without JavaScript the tables still say everything.
 */
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { App } from '../../src/compose.ts';
import { jobIdFor } from '../../src/domain/job-definition.ts';
import { idempotencyKeyFor } from '../../src/steps/step.ts';
import { screenshotPath } from '../support/browser.ts';
import { dealFor, waitForStatus } from '../support/harness.ts';
import { person, REQUESTER } from '../support/people.ts';
import { billingFails } from '../support/slack-app.ts';
import { APPROVER, signInWithSlack, type WebTestApp, webStories } from '../support/web-app.ts';

const SAM = person('sam.approver', 'approver');
const PRODUCT_TOKEN = 'prov_kpi-story-product-token-0123456789abcdef';

/** Every deal's billing fails once for good, except this one's: the sandbox already counted its failing run. */
async function billingGoesThrough(app: App, deal: Record<string, unknown>): Promise<void> {
  const jobId = jobIdFor({ slug: String(deal['slug']), crmOpportunityId: String(deal['crmOpportunityId']) });
  await app.ledger.touch(`${idempotencyKeyFor(jobId, 'billing')}:runs`);
}

function inDays(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

describe('the KPI page', () => {
  const stories = webStories();
  let web: WebTestApp | undefined;

  it('shows what four deals went through, draws each chart beside its table, and downloads a KPI as CSV', async () => {
    const { createHash } = await import('node:crypto');
    web = await stories.start({
      pipeline: billingFails(1),
      env: { API_CALLERS: `product=sha256:${createHash('sha256').update(PRODUCT_TOKEN).digest('hex')}` },
    });
    const { app } = web;

    const initech = dealFor({ companyName: 'Initech' });
    await billingGoesThrough(app, initech);
    const smooth = (await app.service.provision(initech, REQUESTER)).job;
    // Globex's contract starts next month: it goes live before it, which counts as 0.
    const retried = (await app.service.provision(dealFor({ companyName: 'Globex', contractStartDate: inDays(30) }), REQUESTER)).job;
    const approved = (await app.service.provision(dealFor({ companyName: 'Hooli', plan: 'growth', contractValue: 150_000 }), REQUESTER)).job;
    const rolledBack = (await app.service.provision(dealFor({ companyName: 'Umbrella' }), REQUESTER)).job;

    await waitForStatus(app, smooth.jobId, ['live']);
    await waitForStatus(app, retried.jobId, ['failed']);
    await app.service.retry(retried.jobId, SAM, 'billing');
    await waitForStatus(app, approved.jobId, ['awaiting_approval']);
    await sleep(300); // the approver reads the deal first
    await app.service.approve(approved.jobId, SAM);
    await waitForStatus(app, approved.jobId, ['failed']);
    await app.service.override(approved.jobId, SAM, 'billing', 'invoiced by hand in Stripe');
    await waitForStatus(app, rolledBack.jobId, ['failed']);
    await app.service.rollback(rolledBack.jobId, SAM, 'the deal fell through');
    await waitForStatus(app, rolledBack.jobId, ['rolled_back']);
    for (const job of [retried, approved]) await waitForStatus(app, job.jobId, ['live']);

    const used = await fetch(`${web.url}/api/v1/tenants/${smooth.tenant.slug}/activation-events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${PRODUCT_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'evt-1', workflow: 'invoices' }),
    });
    expect(used.status).toBe(202);

    // The figures follow the stored record of every job within moments.
    await expect
      .poll(
        async () => {
          const r = await app.kpis.report(REQUESTER);
          return [r.jobs, r.timeToLive.live, r.handoffs.neededAHuman, r.stepTypes.find((s) => s.type === 'sandbox')?.runs];
        },
        { timeout: 15_000 },
      )
      .toEqual([4, 3, 3, 12]);

    const errors: string[] = [];
    const page: Page = await stories.newPage();
    // CSP refusals and script errors; failed loads are judged by the page's own responses (Chromium's favicon request is not one).
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('response', (r) => {
      if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`);
    });
    await signInWithSlack(page, web, APPROVER, '/admin/kpis');
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Signed-to-live KPIs');
    const figure = (key: string) => page.locator(`[data-kpi="${key}"]`).textContent();
    await expect(figure('handoffs')).resolves.toContain('75%');
    await expect(figure('handoffs')).resolves.toContain('3 of 4 jobs retried, overridden, rolled back or cancelled');
    // 13 step runs: 4 databases, 5 billing runs (3 failed), 3 welcome emails, and Hooli's approval gate going through once approved.
    await expect(figure('step-failures')).resolves.toContain('3 of 13 step runs failed; most often sandbox (25%)');
    await expect(figure('signed-to-live')).resolves.toContain('over 3 tenants live; 1 tenant live before its contract start counts as 0');
    await expect(figure('approval-wait')).resolves.toContain('over 1 approval; 0 waiting now');
    await expect(figure('first-activation')).resolves.toContain('over 1 tenant that used one, of 3 live');

    const handoffRows = page.locator('#handoffs tbody tr');
    await expect(handoffRows.allTextContents()).resolves.toEqual([
      'Any of these375%',
      'A step retried125%',
      'A step overridden125%',
      'Rolled back125%',
      'Cancelled00%',
      'Nothing: went through by itself125%',
    ]);
    await expect(page.locator('#time-to-live-by-plan .note').textContent()).resolves.toBe(
      '1 tenant went live before the contract start date; signed → live counts it as 0.',
    );
    const byPlan = page.locator('#time-to-live-by-plan tbody tr th');
    await expect(byPlan.allTextContents()).resolves.toEqual(['growth', 'starter']);
    await expect(page.locator('#activation-by-tenant tbody tr').count()).resolves.toBe(3);

    // Every chart is drawn by Chart.js from the embedded data, with nothing refused by the page's CSP.
    await expect.poll(() => page.locator('canvas[data-chart][data-drawn="true"]').count()).toBe(7);
    expect(errors).toEqual([]);
    await page.screenshot({ path: screenshotPath('admin-kpis'), fullPage: true });
    await page.screenshot({ path: screenshotPath('admin-kpis-top') });

    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#step-failures a.download').click()]);
    expect(download.suggestedFilename()).toMatch(/^kpi-step-failures-\d{4}-\d{2}-\d{2}\.csv$/);
    const path = await download.path();
    const csv = await readFile(path, 'utf8');
    const [header, ...rows] = csv.trimEnd().split('\r\n');
    expect(header).toBe('Step type,Runs,Failed,Failure rate (0-1),Mean time to recover (s),Recovered,Not recovered');
    // The approval gate, and the pipeline's sandbox steps: 12 runs, 3 failed, 2 recovered (the retry and the override), 1 not (the rollback).
    expect(rows).toHaveLength(2);
    expect(rows[0]).toBe('approval,1,0,0,,0,0');
    expect(rows[1]).toMatch(/^sandbox,12,3,0\.25,\d+(\.\d+)?,2,1$/);
  });

  it('without JavaScript the tables still hold every figure, and someone not signed in is sent to sign in', async () => {
    web = await stories.start({ pipeline: billingFails(0) });
    const { job } = await web.app.service.provision(dealFor({ companyName: 'Initech' }), REQUESTER);
    await waitForStatus(web.app, job.jobId, ['live']);
    await expect.poll(async () => (await web?.app.kpis.report(REQUESTER))?.timeToLive.live, { timeout: 15_000 }).toBe(1);

    const csv = await fetch(`${web.url}/admin/kpis/handoffs.csv`, { redirect: 'manual' });
    expect(csv.status).toBe(401);
    const page = await stories.newPage({ javaScriptEnabled: false });
    await signInWithSlack(page, web, APPROVER, '/admin/kpis');
    await expect(page.locator('canvas[data-drawn]').count()).resolves.toBe(0);
    await expect(page.locator('#time-to-live-by-plan tbody tr').textContent()).resolves.toMatch(/^starter1\d/);
    await expect(page.locator('[data-kpi="handoffs"]').textContent()).resolves.toContain('0%');
  });
});
