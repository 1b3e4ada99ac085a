/**
 * The customer's status page: plain-language progress only — the company,
 * milestones in the customer's words, and what is waiting on them. Never an
 * internal id, an error, a person or a secret. Live through server-sent
 * events when JavaScript runs; a plain reload (or the noscript refresh) otherwise.
 */
import { html, type Html } from './html.ts';

import type { CustomerProgress, MilestoneState } from '../../domain/milestones.ts';

const WORDS: Readonly<Record<MilestoneState, string>> = {
  not_started: 'Not started yet',
  in_progress: 'In progress',
  waiting_for_you: 'Waiting for you',
  in_review: 'In review on our side',
  delayed: 'Taking longer than usual — our team is on it',
  done: 'Done',
};

function headline(p: CustomerProgress): Html {
  if (p.liveUrl) return html`<p class="headline done">Your workspace is ready: <a href="${p.liveUrl}">${p.liveUrl}</a></p>`;
  if (p.stopped) return html`<p class="headline">Setup is paused. Your account team will be in touch.</p>`;
  const waiting = p.milestones.filter((m) => m.state === 'waiting_for_you');
  if (waiting.length > 0) return html`<p class="headline waiting">We need something from you to carry on (see below).</p>`;
  return html`<p class="headline">We are setting up your workspace.</p>`;
}

/** The part that changes: swapped in place by the live update. */
export function progressFragment(p: CustomerProgress): Html {
  const done = p.milestones.filter((m) => m.state === 'done').length;
  return html`<div id="progress">
${headline(p)}
<p class="meter"><progress max="${p.milestones.length}" value="${done}">${done} of ${p.milestones.length}</progress> ${done} of ${p.milestones.length} done</p>
<ol class="milestones">
${p.milestones.map(
  (m) =>
    html`<li class="milestone ms-${m.state}"><span class="ms-name">${m.name}</span> <span class="ms-state">${WORDS[m.state]}</span>${
      m.waitingFor ? html`<p class="ms-waiting">We are waiting for ${m.waitingFor}. Please send it to your account team.</p>` : ''
    }</li>`,
)}
</ol>
</div>`;
}

export function statusPage(p: CustomerProgress, eventsUrl: string): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<meta name="referrer" content="no-referrer">
<noscript><meta http-equiv="refresh" content="30"></noscript>
<title>${p.companyName}: workspace setup</title>
<link rel="stylesheet" href="/assets/status.css">
</head>
<body>
<main id="main" data-events="${eventsUrl}">
<h1>${p.companyName}</h1>
<p class="lead">Setting up your workspace</p>
${progressFragment(p)}
</main>
<script src="/assets/status.js" defer></script>
</body>
</html>`;
}

export function notFoundPage(): Html {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex"><title>Not found</title><link rel="stylesheet" href="/assets/status.css"></head>
<body><main id="main"><h1>This page does not exist</h1><p>The link may be mistyped, expired or withdrawn. Ask your account team for a new one.</p></main></body></html>`;
}
