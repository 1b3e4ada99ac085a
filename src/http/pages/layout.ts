/** The frame every admin page shares: skip link, navigation, who is signed in, and a sign-out form. */
import { html, type Html } from './html.ts';

/** canAct: may act on jobs (approvers, admins); managesQueues: may change the step queue from its dashboard (admins). */
export type Viewer = { name: string; csrf: string; canAct: boolean; managesQueues: boolean };

export type Section = 'jobs' | 'tenants' | 'kpis';

const NAV: readonly { section?: Section; href: (viewer: Viewer) => string; label: string }[] = [
  { section: 'jobs', href: () => '/admin', label: 'Jobs' },
  { section: 'tenants', href: () => '/admin/tenants', label: 'Tenants' },
  { section: 'kpis', href: () => '/admin/kpis', label: 'KPIs' },
  // Bull Board, mounted read-only for everyone and in full for admins (src/http/routes/queues.ts).
  { href: (viewer) => (viewer.managesQueues ? '/admin/queues/manage' : '/admin/queues'), label: 'Queues' },
];

export function adminPage(opts: { title: string; viewer: Viewer; section?: Section; body: Html; scripts?: readonly string[] }): Html {
  const { title, viewer, section, body } = opts;
  const nav = NAV.map(
    (n) => html`<a href="${n.href(viewer)}"${n.section !== undefined && n.section === section ? html` aria-current="page"` : ''}>${n.label}</a>`,
  );
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="${viewer.csrf}">
<title>${title} · Tenant provisioner</title>
<link rel="stylesheet" href="/assets/admin.css">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
<span class="brand">Tenant provisioner</span>
<nav aria-label="Main">${nav}</nav>
<form class="who" method="post" action="/auth/sign-out">
<span>${viewer.name}${viewer.canAct ? '' : html` <small>(view only)</small>`}</span>
<input type="hidden" name="_csrf" value="${viewer.csrf}">
<button type="submit" class="link">Sign out</button>
</form>
</header>
<main id="main">
${body}
</main>
<script src="/assets/admin.js" defer></script>
${(opts.scripts ?? []).map((src) => html`<script src="${src}" defer></script>`)}
</body>
</html>`;
}

/** A page for people who are not signed in (sign-in, errors): same look, no navigation. */
export function plainPage(title: string, body: Html): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Tenant provisioner</title>
<link rel="stylesheet" href="/assets/admin.css">
</head>
<body class="plain">
<main id="main">
${body}
</main>
</body>
</html>`;
}
