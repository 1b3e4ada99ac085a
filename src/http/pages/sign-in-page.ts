/** Signing in: with Slack when the app has an OAuth client, and always how to get a one-time link. */
import { html, type Html } from './html.ts';
import { plainPage } from './layout.ts';

export function signInPage(opts: { slackUrl: string | undefined; problem?: string }): Html {
  const slack = opts.slackUrl
    ? html`<p><a class="button" href="${opts.slackUrl}">Sign in with Slack</a></p>
<p class="sub">You sign in with the Slack workspace where #onboarding lives; approvers are the same people as in Slack.</p>`
    : html`<p>Sign in with Slack is not set up on this server (it needs SLACK_CLIENT_ID and SLACK_CLIENT_SECRET).</p>`;
  return plainPage(
    'Sign in',
    html`<h1>Sign in to the control room</h1>
${opts.problem ? html`<div class="notice refused" role="alert">${opts.problem}</div>` : ''}
${slack}
<p class="sub">An operator on the server can also print a one-time sign-in link: <code>npx provisioner admin-link</code> (<code>provisioner serve</code> prints one when it starts locally).</p>`,
  );
}

export function messagePage(title: string, text: string, link?: { href: string; label: string }): Html {
  return plainPage(title, html`<h1>${title}</h1><p>${text}</p>${link ? html`<p><a href="${link.href}">${link.label}</a></p>` : ''}`);
}
