/**
 * The step queue's dashboard (Bull Board) in a real browser (Debian's Chromium), behind the control room's
 * sign-in: a visitor is sent to sign in; an approver watches the queue on a read-only board and every change they
 * try is refused by the server; an admin reaches the full board from the navigation and changes the queue; a
 * change sent from another site with an admin's cookie is refused. The board renders under its own CSP without a
 * single message in the browser's console.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { screenshotPath } from '../support/browser.ts';
import { dealFor, waitForStatus } from '../support/harness.ts';
import { REQUESTER } from '../support/people.ts';
import { AE } from '../support/slack-app.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';
import { APPROVER, signInWithSlack, type WebTestApp, webStories } from '../support/web-app.ts';

/** Jane is made an admin (SLACK_ADMINS) in these stories; Sam stays an approver. */
const ADMIN = AE;

describe('the step queue dashboard', () => {
  const stories = webStories();

  /** A page in a fresh browser profile, and every console message and page error it shows from `watch()` on. */
  const newPage = async (): Promise<{ page: Page; console: string[]; watch(): void }> => {
    const page = await stories.newPage();
    const console: string[] = [];
    let watching = false;
    page.on('console', (message) => watching && console.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (err) => watching && console.push(`page error: ${err.message}`));
    return { page, console, watch: () => (watching = true) };
  };

  /**
   * A web app whose one job has gone live, so the step queue holds its three completed step jobs: three steps
   * that need nothing, each queued (a step released by another is carried on by that step's worker instead).
   */
  const withALiveJob = async (): Promise<WebTestApp> => {
    const pipeline = pipelineOf(
      sandbox('database', { latencyMs: 10, resource: 'database' }),
      sandbox('billing', { latencyMs: 10, resource: 'stripe customer' }),
      sandbox('welcome_email', { resource: 'email' }, { criticality: 'notification' }),
    );
    const started = await stories.start({ pipeline, env: { SLACK_ADMINS: ADMIN.id } });
    const { job } = await started.app.service.provision(dealFor({ companyName: 'Initech' }), REQUESTER);
    await waitForStatus(started.app, job.jobId, ['live']);
    return started;
  };

  const completedStepJobs = async (web: WebTestApp) => (await web.app.engine.stepQueue.getJobs(['completed'])).map((j) => j.id);

  /** A change to the queue (PUT) sent by the board's page itself, as its own script does (the browser adds Origin). */
  const fromTheBoard = (page: Page, path: string) =>
    page.evaluate(async (to) => {
      const answer = await fetch(to, { method: 'PUT' });
      return { status: answer.status, body: await answer.text() };
    }, path);

  it('sends a visitor who is not signed in to sign in and back to the board; its API answers 401 without a session', async () => {
    const room = await withALiveJob();
    const { page } = await newPage();
    await page.goto(`${room.url}/admin/queues`);
    expect(new URL(page.url()).pathname).toBe('/auth/sign-in');
    await page.goto(`${room.url}/admin/queues/manage`);
    expect(new URL(page.url()).pathname).toBe('/auth/sign-in');

    await signInWithSlack(page, room, APPROVER, '/admin/queues');
    expect(new URL(page.url()).pathname).toBe('/admin/queues');
    await page.getByRole('link', { name: 'steps' }).waitFor();

    expect((await fetch(`${room.url}/admin/queues/api/queues`)).status).toBe(401);
    const clean = await fetch(`${room.url}/admin/queues/manage/api/queues/steps/clean/completed`, { method: 'PUT' });
    expect(clean.status).toBe(401);
    await expect(completedStepJobs(room)).resolves.toHaveLength(3);
  });

  it('shows an approver the steps queue on a read-only board, and the server refuses every change they try', async () => {
    const room = await withALiveJob();
    const { page, console, watch } = await newPage();
    await signInWithSlack(page, room, APPROVER);
    watch();
    await page.getByRole('link', { name: 'Queues' }).click();
    await page.waitForURL(`${room.url}/admin/queues`);
    await page.getByRole('link', { name: 'steps' }).click();
    await page.getByRole('link', { name: /completed/i }).click();
    await expect.poll(() => page.getByText('__billing__r1').count()).toBe(1);
    await expect(page.getByText('view only').count()).resolves.toBeGreaterThan(0);
    await expect(page.getByRole('button', { name: 'Clean all' }).count()).resolves.toBe(0);
    await expect(page.getByRole('button', { name: 'Retry all' }).count()).resolves.toBe(0);
    await page.screenshot({ path: screenshotPath('admin-queues'), fullPage: true });
    expect(console).toEqual([]);
    // The board's page has a policy of its own; the control room's pages keep theirs.
    const policyOf = async (path: string) => (await page.request.get(`${room.url}${path}`)).headers()['content-security-policy'];
    await expect(policyOf('/admin/queues')).resolves.toMatch(/style-src 'self' 'unsafe-hashes' 'sha256-/);
    await expect(policyOf('/admin')).resolves.toBe(
      "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
    );

    const [stepJob] = await completedStepJobs(room);
    const refused = {
      status: 403,
      body: JSON.stringify({
        error: { key: 'ERRORS.FORBIDDEN' },
        message: 'Only admins can change the step queue; everyone signed in can watch it.',
      }),
    };
    for (const board of ['/admin/queues', '/admin/queues/manage']) {
      await expect(fromTheBoard(page, `${board}/api/queues/steps/${stepJob}/retry`)).resolves.toEqual(refused);
      await expect(fromTheBoard(page, `${board}/api/queues/steps/${stepJob}/clean`)).resolves.toEqual(refused);
      await expect(fromTheBoard(page, `${board}/api/queues/steps/clean/completed`)).resolves.toEqual(refused);
      await expect(fromTheBoard(page, `${board}/api/queues/steps/pause`)).resolves.toEqual(refused);
    }
    await expect(completedStepJobs(room)).resolves.toHaveLength(3);
    await expect(room.app.engine.stepQueue.isPaused()).resolves.toBe(false);

    // The full board is not theirs even to look at.
    const manage = await page.goto(`${room.url}/admin/queues/manage`);
    expect(manage?.status()).toBe(403);
    await expect(page.getByRole('main').textContent()).resolves.toContain('Only admins can change the step queue');
  });

  it('gives an admin the full board from the navigation, where they remove a step job and pause the queue', async () => {
    const room = await withALiveJob();
    const { page, console, watch } = await newPage();
    await signInWithSlack(page, room, ADMIN);
    watch();
    await page.getByRole('link', { name: 'Queues' }).click();
    await page.waitForURL(`${room.url}/admin/queues/manage`);
    await page.getByRole('link', { name: 'steps' }).click();
    await page.getByRole('link', { name: /completed/i }).click();
    await expect.poll(() => page.getByText('__billing__r1').count()).toBe(1);
    await expect(page.getByRole('button', { name: 'Clean all' }).count()).resolves.toBe(1);
    // The billing step's job, removed from its card (the bin), once confirmed.
    const billing = page.locator('[class*="card-"]').filter({ hasText: '__billing__r1' });
    await billing.locator('button:has(svg.lucide-trash-2)').click();
    await page.getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => completedStepJobs(room)).toHaveLength(2);
    expect((await completedStepJobs(room)).some((id) => id?.includes('__billing__'))).toBe(false);
    await expect.poll(() => page.getByText('__billing__r1').count()).toBe(0);
    await page.screenshot({ path: screenshotPath('admin-queues-manage'), fullPage: true });

    await expect(fromTheBoard(page, '/admin/queues/manage/api/queues/steps/pause')).resolves.toMatchObject({ status: 200 });
    await expect(room.app.engine.stepQueue.isPaused()).resolves.toBe(true);
    await expect(fromTheBoard(page, '/admin/queues/manage/api/queues/steps/resume')).resolves.toMatchObject({ status: 200 });
    await expect(room.app.engine.stepQueue.isPaused()).resolves.toBe(false);
    expect(console).toEqual([]);
  });

  it("refuses a change sent from another site with an admin's session", async () => {
    const room = await withALiveJob();
    const { page } = await newPage();
    await signInWithSlack(page, room, ADMIN);
    const board = `${room.url}/admin/queues/manage/api/queues/steps`;
    const evil = 'https://evil.example';
    const added = await page.request.post(`${board}/add`, { data: { name: 'run', data: {} }, headers: { origin: evil } });
    expect(added.status()).toBe(403);
    const [stepJob] = await completedStepJobs(room);
    const removed = await page.request.put(`${board}/${stepJob}/clean`, { headers: { origin: evil } });
    expect(removed.status()).toBe(403);
    const byReferer = await page.request.put(`${board}/${stepJob}/clean`, { headers: { referer: `${evil}/page` } });
    expect(byReferer.status()).toBe(403);
    await expect(completedStepJobs(room)).resolves.toHaveLength(3);
    await expect(room.app.engine.stepQueue.count()).resolves.toBe(0);

    // The same change from the board's own origin is the admin's to make.
    const own = await page.request.put(`${board}/${stepJob}/clean`, { headers: { origin: room.url } });
    expect(own.status()).toBe(204);
    await expect(completedStepJobs(room)).resolves.toHaveLength(2);
  });
});
