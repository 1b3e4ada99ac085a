/**
 * What a worker process does. One process may do all of it (the default), or
 * each part may run in processes of its own, on as many machines as needed:
 *   steps     run step jobs and queue the steps they release (step workers and the dispatcher),
 *             and the billing follow-ups
 *   recorder  keep MongoDB's views and audit trail up to date (and rewrite views left behind)
 *   notifier  keep the job's Slack message up to date
 */
export const WORKER_ROLES = ['steps', 'recorder', 'notifier'] as const;

export type WorkerRole = (typeof WORKER_ROLES)[number];

const isRole = (name: string): name is WorkerRole => WORKER_ROLES.some((role) => role === name);

/** "steps,recorder" → the roles it names; a problem naming what is wrong otherwise. */
export function parseWorkerRoles(text: string): { ok: true; roles: WorkerRole[] } | { ok: false; problem: string } {
  const names = text
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (names.length === 0) return { ok: false, problem: `name at least one role (${WORKER_ROLES.join(', ')})` };
  const unknown = names.filter((name) => !isRole(name));
  if (unknown.length > 0) return { ok: false, problem: `unknown role "${unknown.join('", "')}" (roles: ${WORKER_ROLES.join(', ')})` };
  return { ok: true, roles: WORKER_ROLES.filter((role) => names.includes(role)) };
}
