/**
 * The admin panel in a real browser (Debian's Chromium): signing in with
 * Slack, a failed job's error and stack trace, an override from the page that
 * the audit and the Slack thread both show, a non-approver refused, CSRF
 * refused, and the customer's status page following a job live.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { screenshotPath } from '../support/browser.ts';
import { auditOf, dealFor, waitForStatus, waitForStep } from '../support/harness.ts';
import { REQUESTER } from '../support/people.ts';
import { billingFails, CHANNEL } from '../support/slack-app.ts';
import { APPROVER, signInWithSlack, STRANGER, type WebTestApp, webStories } from '../support/web-app.ts';

describe('the admin panel', () => {
  const stories = webStories();
  let web: WebTestApp | undefined;

  const newPage = async (): Promise<Page> => stories.newPage();

  it('sends a visitor who is not signed in to sign in, and back to the page they asked for after signing in with Slack', async () => {
    web = await stories.start({ pipeline: billingFails(0) });
    const { job } = await web.app.service.provision(dealFor({ companyName: 'Initech' }), REQUESTER);
    await waitForStatus(web.app, job.jobId, ['live']);
    const page = await newPage();
    const response = await page.goto(`${web.url}/admin/jobs/${job.jobId}`);
    expect(new URL(page.url()).pathname).toBe('/auth/sign-in');
    expect(response?.status()).toBe(200);
    await expect(page.getByRole('heading', { name: 'Sign in to the control room' }).isVisible()).resolves.toBe(true);

    await signInWithSlack(page, web, APPROVER, `/admin/jobs/${job.jobId}`);
    expect(new URL(page.url()).pathname).toBe(`/admin/jobs/${job.jobId}`);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toContain('Initech');
    await expect(page.locator('header .who').textContent()).resolves.toContain(`Sam Approver (${APPROVER.id})`);

    // The plan the job was started with, folded under the steps: what each step was to make.
    await page.getByText('Show what it planned to create, and where').click();
    await expect(page.locator('#plan-billing').textContent()).resolves.toBe(
      'billing: Simulate creating stripe customer (test seam: nothing real is made)Sandbox resource stripe customer',
    );
  });

  it('a failed job shows its error and stack trace; an override with a reason from the page lets it go live, and the audit and the Slack thread say so', async () => {
    web = await stories.start({ pipeline: billingFails(5) });
    const { job } = await web.app.service.provision(dealFor({ companyName: 'Globex' }), REQUESTER);
    await waitForStatus(web.app, job.jobId, ['failed']);
    const page = await newPage();
    await signInWithSlack(page, web, APPROVER, `/admin/jobs/${job.jobId}`);

    const billing = page.locator('#step-billing');
    await expect(billing.locator('.error-message').textContent()).resolves.toBe('stripe customer: rejected by the sandbox (run 1)');
    await billing.getByText('Stack trace').click();
    const trace = await billing.locator('pre.trace').textContent();
    expect(trace).toContain('PermanentError: stripe customer: rejected by the sandbox (run 1)');
    expect(trace).toMatch(/at .*sandbox\.ts:\d+/);
    await page.screenshot({ path: screenshotPath('admin-job-failed'), fullPage: true });

    // No reason: the browser itself asks for one (required field); then with a reason.
    const override = page.locator('form[action$="/override"]');
    await override.getByRole('button', { name: 'Override' }).click();
    await expect(override.locator('input[name="reason"]:invalid').count()).resolves.toBe(1);
    expect((await web.app.service.status(job.jobId)).status).toBe('failed');
    await override.getByLabel('What was done by hand?').fill('created by hand in Stripe');
    await override.getByRole('button', { name: 'Override' }).click();
    await page.waitForURL(`${web.url}/admin/jobs/${job.jobId}`);
    await expect(page.getByRole('status').first().textContent()).resolves.toContain('Marked as done by hand');

    const live = await waitForStatus(web.app, job.jobId, ['live']);
    expect(live.steps.find((s) => s.id === 'billing')?.override).toEqual({
      by: `Sam Approver (${APPROVER.id})`,
      reason: 'created by hand in Stripe',
    });
    const { lines } = await auditOf(web.app, job);
    expect(
      lines.filter((l) => l.includes(`Sam Approver (${APPROVER.id}) overrode billing from the admin panel: "created by hand in Stripe"`)),
    ).toHaveLength(1);
    await expect
      .poll(() => web?.fake.messages(CHANNEL)[0]?.replies.some((r) => (r.text ?? '').includes('overrode billing from the admin panel')), {
        timeout: 10_000,
      })
      .toBe(true);
    // The page follows the job without a reload.
    await expect.poll(() => page.locator('.job-head .pill').textContent(), { timeout: 10_000 }).toBe('Live');
    await page.screenshot({ path: screenshotPath('admin-job-live'), fullPage: true });
  });

  it('someone who is not an approver sees jobs, and an action they try is refused in plain words', async () => {
    web = await stories.start({ pipeline: billingFails(5) });
    const { job } = await web.app.service.provision(dealFor(), REQUESTER);
    await waitForStatus(web.app, job.jobId, ['failed']);
    const page = await newPage();
    await signInWithSlack(page, web, STRANGER, `/admin/jobs/${job.jobId}`);
    await expect(page.locator('header .who').textContent()).resolves.toContain('(view only)');
    await page.locator('form[action$="/retry"]').getByRole('button', { name: 'Retry' }).click();
    await page.waitForURL(`${web.url}/admin/jobs/${job.jobId}`);
    await expect(page.getByRole('alert').textContent()).resolves.toBe(
      'Only approvers can retry steps of provisioning jobs; ask one of the approvers.',
    );
    expect((await web.app.service.status(job.jobId)).status).toBe('failed');
  });

  it('refuses a change that does not come from the panel itself (CSRF), and a forged session', async () => {
    web = await stories.start({ pipeline: billingFails(5) });
    const { job } = await web.app.service.provision(dealFor(), REQUESTER);
    await waitForStatus(web.app, job.jobId, ['failed']);
    const page = await newPage();
    await signInWithSlack(page, web, APPROVER, `/admin/jobs/${job.jobId}`);
    // The browser carries the approver's session cookie; a page elsewhere posts without the token.
    const attack = await page.request.post(`${web.url}/admin/jobs/${job.jobId}/retry`, {
      form: { step: 'billing' },
      headers: { origin: 'https://evil.example' },
      maxRedirects: 0,
    });
    expect(attack.status()).toBe(403);
    const withoutToken = await page.request.post(`${web.url}/admin/jobs/${job.jobId}/retry`, { form: { step: 'billing' }, maxRedirects: 0 });
    expect(withoutToken.status()).toBe(403);
    expect((await web.app.service.status(job.jobId)).status).toBe('failed');

    const forged = await fetch(`${web.url}/admin`, {
      headers: { cookie: 'prov_session=eyJ2aWEiOiJzbGFjayJ9.forged', accept: 'text/html' },
      redirect: 'manual',
    });
    expect(forged.status).toBe(303);
    expect(forged.headers.get('location')).toBe('/auth/sign-in?next=%2Fadmin');
  });

  it('lists every job newest first, filters and searches them, and shows a new job without a reload', async () => {
    web = await stories.start({ pipeline: billingFails(0) });
    const initech = (await web.app.service.provision(dealFor({ companyName: 'Initech' }), REQUESTER)).job;
    await waitForStatus(web.app, initech.jobId, ['live']);
    const globex = (await web.app.service.provision(dealFor({ companyName: 'Globex', plan: 'growth', contractValue: 150_000 }), REQUESTER)).job;
    await waitForStatus(web.app, initech.jobId, ['live']);
    await waitForStatus(web.app, globex.jobId, ['awaiting_approval']);
    const page = await newPage();
    await signInWithSlack(page, web, APPROVER);
    const rows = page.locator('#job-rows tr');
    await expect.poll(() => rows.count()).toBe(2);
    await expect(rows.first().textContent()).resolves.toContain('Globex');

    await page.getByLabel('State').selectOption('waiting');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(() => rows.count()).toBe(1);
    await expect(rows.first().textContent()).resolves.toContain('Needs approval');

    await page.goto(`${web.url}/admin?q=${encodeURIComponent(initech.crmOpportunityId)}`);
    await expect.poll(() => rows.count()).toBe(1);
    await expect(rows.first().textContent()).resolves.toContain('Initech');

    await page.goto(`${web.url}/admin`);
    const hooli = (await web.app.service.provision(dealFor({ companyName: 'Hooli' }), REQUESTER)).job;
    await expect.poll(() => rows.first().textContent(), { timeout: 10_000 }).toContain('Hooli');
    await waitForStep(web.app, hooli.jobId, 'billing', ['succeeded']);
    await page.screenshot({ path: screenshotPath('admin-jobs'), fullPage: true });
  });

  it('lists tenants with what was provisioned for each (the real pipeline), every id exactly as the systems know it', async () => {
    web = await stories.start();
    const { job } = await web.app.service.provision(dealFor({ companyName: 'Initech' }), REQUESTER);
    await waitForStatus(web.app, job.jobId, ['live'], 60_000);
    const customer = web.app.emulators?.stripe.customersFor(`tnt_${job.tenant.slug}`)[0]?.id;
    expect(customer).toMatch(/^cus_/);
    const page = await newPage();
    await signInWithSlack(page, web, APPROVER, '/admin/tenants');
    const row = page.locator('tbody tr', { hasText: 'Initech' });
    const ids = await row.locator('code.copy').allTextContents();
    expect(ids).toContain(job.tenant.slug);
    expect(ids).toContain(customer);
    expect(ids.some((id) => id.startsWith('sub_'))).toBe(true);
    expect(ids).toContain(`${job.tenant.slug}.${web.app.config.tenant.baseDomain}`);
    await expect(row.getByRole('link', { name: job.jobId }).count()).resolves.toBe(1);
    await page.screenshot({ path: screenshotPath('admin-tenants'), fullPage: true });
  });
});
