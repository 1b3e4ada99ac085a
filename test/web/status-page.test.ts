import { describe, expect, it } from 'vitest';
import { screenshotPath } from '../support/browser.ts';
import { dealFor, waitForStatus, waitForStep } from '../support/harness.ts';
import { person, REQUESTER } from '../support/people.ts';
import { CHANNEL } from '../support/slack-app.ts';
import { clickButton, hasButton, until } from '../support/slack-story.ts';
import { APPROVER, signInWithSlack, type WebTestApp, webStories } from '../support/web-app.ts';

/** Three milestones, the middle one waiting for the customer's IdP metadata. */
const PIPELINE = `
version: 1
steps:
  - { id: database, type: sandbox, milestone: Your workspace, config: { latencyMs: 10, resource: database } }
  - { id: seed_data, type: sandbox, milestone: Your workspace, needs: [database], config: { latencyMs: 10, resource: seed records } }
  - { id: sso, type: sandbox, milestone: Single sign-on, needs: [database], config: { waitForInput: true, resource: okta app } }
  - { id: billing, type: sandbox, milestone: Billing, needs: [sso], config: { latencyMs: 600, resource: stripe subscription } }
  - { id: welcome_email, type: sandbox, milestone: Welcome email, needs: [billing], criticality: notification, config: { resource: email } }
`;

describe("the customer's status page", () => {
  const stories = webStories();
  let web: WebTestApp | undefined;

  it('shared from the admin panel, it follows the job live, in the customer’s words, and gives nothing internal away', async () => {
    web = await stories.start({ pipeline: PIPELINE });
    const { job } = await web.app.service.provision(dealFor({ companyName: 'Initech' }), REQUESTER);
    await waitForStep(web.app, job.jobId, 'sso', ['waiting_input']);

    const admin = await stories.newPage();
    await signInWithSlack(admin, web, APPROVER, `/admin/jobs/${job.jobId}`);
    await admin.getByRole('button', { name: 'Share status page' }).click();
    const link = (await admin.locator('.notice code').textContent()) ?? '';
    expect(link).toMatch(new RegExp(`^${web.url}/status/[\\w-]+\\.[\\w-]+\\.[\\w-]+$`));

    // The customer: another browser, no session.
    const customer = await stories.newPage();
    await customer.goto(link);
    await expect(customer.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Initech');
    const milestones = customer.locator('li.milestone');
    await expect(milestones.allTextContents()).resolves.toEqual([
      'Your workspace Done',
      expect.stringMatching(/^Single sign-on Waiting for you\s*We are waiting for the customer's IdP metadata URL/),
      'Billing Not started yet',
    ]);
    const page = (await customer.content()).toLowerCase();
    for (const internal of [job.jobId, 'sandbox', 'jane', 'sam approver', 'okta app', 'welcome email', job.crmOpportunityId.toLowerCase()]) {
      expect(page).not.toContain(internal);
    }
    await customer.screenshot({ path: screenshotPath('status-waiting'), fullPage: true });

    // The customer sends their metadata; someone on our side enters it. The page moves on by itself.
    await customer.evaluate('window.sameDocument = true');
    await web.app.service.provideInput(job.jobId, person('sam.approver', 'approver'), { metadataUrl: 'https://idp.initech.example/saml' });
    await expect.poll(() => milestones.nth(1).textContent(), { timeout: 10_000 }).toBe('Single sign-on Done');
    await expect.poll(() => customer.locator('.headline').textContent(), { timeout: 10_000 }).toContain('Your workspace is ready');
    expect(await customer.evaluate('window.sameDocument')).toBe(true); // never reloaded
    await waitForStatus(web.app, job.jobId, ['live']);
    await customer.screenshot({ path: screenshotPath('status-live'), fullPage: true });
  });

  it('a forged, altered or withdrawn link is a plain 404, the same as one that never existed', async () => {
    web = await stories.start({ pipeline: PIPELINE });
    const { job } = await web.app.service.provision(dealFor(), REQUESTER);
    const link = await web.app.service.shareStatusPage(job.jobId, person('sam.approver', 'approver'));
    expect((await fetch(link)).status).toBe(200);
    const token = link.split('/status/')[1] ?? '';
    const [id, encodedJob, mac] = token.split('.');
    const other = Buffer.from('someone-else-job').toString('base64url');
    for (const forged of [`${id}.${other}.${mac}`, `${id}.${encodedJob}.${'A'.repeat(mac?.length ?? 43)}`, 'not-a-token', `${token}x`]) {
      const response = await fetch(`${web.url}/status/${forged}`);
      expect(response.status).toBe(404);
      expect(await response.text()).toContain('This page does not exist');
    }
    const withdrawn = await web.app.service.withdrawStatusPages(job.jobId, person('sam.approver', 'approver'));
    expect(withdrawn).toBe(1);
    expect((await fetch(link)).status).toBe(404);
  });

  it('shared from the Slack thread, the link comes privately to whoever clicked', async () => {
    web = await stories.start({ pipeline: PIPELINE });
    const { job } = await web.app.service.provision(dealFor({ companyName: 'Hooli' }), REQUESTER);
    await waitForStep(web.app, job.jobId, 'sso', ['waiting_input']);
    const message = await until('the progress message with its Share button', () =>
      web?.fake.messages(CHANNEL).find((m) => hasButton(m, 'job_share_status')),
    );
    await clickButton(web, APPROVER, message, 'job_share_status');
    const ephemeral = await until('the link, told privately to the approver', () =>
      web?.fake.ephemerals(CHANNEL).find((e) => e.user === APPROVER.id && (e.text ?? '').includes('/status/')),
    );
    expect(
      web.fake.messages(CHANNEL).some((m) => (m.text ?? '').includes('/status/') || m.replies.some((r) => (r.text ?? '').includes('/status/'))),
    ).toBe(false);
    const link = /(http:\/\/[^\s>|]+\/status\/[\w.-]+)/.exec(ephemeral.text ?? '')?.[1] ?? '';
    const response = await fetch(link);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('Hooli');
  });
});
