/**
 * A test app serving the web control room on a free port, with Slack on
 * (HTTP mode, the loopback fake, Sign in with Slack through the fake's
 * OpenID Connect endpoints) so the web and Slack tell one story.
 */
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { launchBrowser } from './browser.ts';
import { APPROVER, startSlackApp, stopSlackApp, STRANGER, type SlackTestApp } from './slack-app.ts';
import type { TestAppOptions } from './harness.ts';

export const OIDC_CLIENT = { clientId: '1234.5678', clientSecret: 'test-oidc-client-secret' };

export type WebTestApp = SlackTestApp & { url: string };

export async function startWebApp(opts: TestAppOptions & { env?: Record<string, string> } = {}): Promise<WebTestApp> {
  let authorize = '';
  const started = await startSlackApp({
    ...opts,
    env: {
      SLACK_CLIENT_ID: OIDC_CLIENT.clientId,
      SLACK_CLIENT_SECRET: OIDC_CLIENT.clientSecret,
      ...opts.env,
    },
    beforeStart: (fake) => {
      authorize = `${fake.origin}/openid/connect/authorize`;
      fake.oidc.configure(OIDC_CLIENT);
      return { SLACK_OIDC_AUTHORIZE_URL: authorize };
    },
  });
  return { ...started, url: started.eventsUrl.replace(/\/slack\/events$/, '') };
}

/**
 * The web stories' setting: one browser for the file (closed after it), and
 * the web apps a test starts (stopped after it), so each test owns its app.
 */
export function webStories(): {
  start(opts?: TestAppOptions & { env?: Record<string, string> }): Promise<WebTestApp>;
  newPage(opts?: BrowserContextOptions): Promise<Page>;
} {
  let browser: Browser | undefined;
  const started: WebTestApp[] = [];
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    for (const web of started.splice(0)) await stopSlackApp(web);
  });
  return {
    async start(opts = {}) {
      const web = await startWebApp(opts);
      started.push(web);
      return web;
    },
    async newPage(opts) {
      if (!browser) throw new Error('the browser starts before the first test');
      return (await browser.newContext(opts)).newPage();
    },
  };
}

/** Signs in through Slack in this browser page, as the Slack user given (who must be in the fake's directory). */
export async function signInWithSlack(page: Page, web: WebTestApp, who: { id: string; name: string }, path = '/admin'): Promise<void> {
  web.fake.oidc.signInAs({ userId: who.id, name: who.name, email: `${who.name}@example.com` });
  await page.goto(`${web.url}${path}`);
  await page.getByRole('link', { name: 'Sign in with Slack' }).click();
  await page.waitForURL((url) => url.pathname.startsWith('/admin'));
}

export { APPROVER, STRANGER };
