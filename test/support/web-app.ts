/**
 * A test app serving the web control room on a free port, with Slack on
 * (HTTP mode, the loopback fake, Sign in with Slack through the fake's
 * OpenID Connect endpoints) so the web and Slack tell one story.
 */
import type { Page } from 'playwright-core';
import { APPROVER, startSlackApp, STRANGER, type SlackTestApp } from './slack-app.ts';
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

/** Signs in through Slack in this browser page, as the Slack user given (who must be in the fake's directory). */
export async function signInWithSlack(page: Page, web: WebTestApp, who: { id: string; name: string }, path = '/admin'): Promise<void> {
  web.fake.oidc.signInAs({ userId: who.id, name: who.name, email: `${who.name}@example.com` });
  await page.goto(`${web.url}${path}`);
  await page.getByRole('link', { name: 'Sign in with Slack' }).click();
  await page.waitForURL((url) => url.pathname.startsWith('/admin'));
}

export { APPROVER, STRANGER };
