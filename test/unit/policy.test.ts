import { describe, expect, it } from 'vitest';
import {
  decide,
  decideQueueChange,
  decideReportActivation,
  decideTenantAction,
  decideViewKpis,
  JOB_ACTIONS,
  TENANT_ACTIONS,
  type TenantAction,
  type Door,
  type Identity,
  type JobAction,
  type Role,
} from '../../src/domain/policy.ts';

/**
 * The whole authorisation policy as one table: every role × every action × every door.
 * 'own' is the person who requested the job, on the door family that requested it.
 */
type Who = 'admin' | 'approver' | 'own requester' | 'other requester' | 'reporter' | 'nobody';

const ROLES: Record<Who, Role[]> = {
  admin: ['admin'],
  approver: ['approver'],
  'own requester': ['requester'],
  'other requester': ['requester'],
  // A program that only reports what tenants use (the product): it may not ask for tenants.
  reporter: ['reporter'],
  nobody: [],
};

/** What each kind of person may do to a job (self-approval off); every other action is refused. */
const ALLOWED: Record<Who, readonly JobAction[]> = {
  admin: JOB_ACTIONS,
  approver: JOB_ACTIONS,
  'own requester': ['provision', 'share_status', 'provide_input', 'cancel'],
  'other requester': ['provision', 'share_status'],
  reporter: [],
  nobody: [],
};

const DOORS: Door[] = ['slack', 'web', 'cli', 'api'];

/** The id a person has on a door: the web signs in with Slack, so it shares Slack's ids. */
function identity(who: Who, door: Door): Identity {
  const person = who === 'own requester' ? 'jane' : who.replace(' ', '-');
  const id = door === 'slack' || door === 'web' ? `U-${person}` : person;
  return { door, id, name: person, roles: new Set(ROLES[who]) };
}

function requesterOn(door: Door) {
  return { door, id: door === 'slack' || door === 'web' ? 'U-jane' : 'jane' };
}

describe('who may do what to a provisioning job, on every door', () => {
  for (const door of DOORS) {
    for (const who of Object.keys(ALLOWED) as Who[]) {
      for (const action of JOB_ACTIONS) {
        const expected = ALLOWED[who].includes(action);
        it(`${who} on ${door}: ${action} is ${expected ? 'allowed' : 'refused'}`, () => {
          const decision = decide(identity(who, door), action, { allowSelfApproval: false }, { requester: requesterOn(door) });
          expect(decision.allowed).toBe(expected);
          if (!decision.allowed) expect(decision.reason).toMatch(/^(Only approvers|You requested this tenant|You are not allowed)/);
        });
      }
    }
  }

  it('an approver who requested the tenant may not approve or reject it, but may retry and roll it back', () => {
    const approverWhoAsked: Identity = { door: 'slack', id: 'U-jane', name: 'Jane', roles: new Set(['approver']) };
    const job = { requester: requesterOn('slack') };
    expect(decide(approverWhoAsked, 'approve', { allowSelfApproval: false }, job)).toEqual({
      allowed: false,
      reason: 'You requested this tenant, so someone else has to approve or reject it.',
    });
    expect(decide(approverWhoAsked, 'reject', { allowSelfApproval: false }, job).allowed).toBe(false);
    expect(decide(approverWhoAsked, 'retry', { allowSelfApproval: false }, job).allowed).toBe(true);
    expect(decide(approverWhoAsked, 'rollback', { allowSelfApproval: false }, job).allowed).toBe(true);
    expect(decide(approverWhoAsked, 'approve', { allowSelfApproval: true }, job).allowed).toBe(true);
  });

  it('tells someone who may not ask for tenants what they cannot do and how to get it, in one plain sentence', () => {
    const reporter: Identity = { door: 'api', id: 'product', name: 'Product', roles: new Set(['reporter']) };
    expect(decide(reporter, 'provision', { allowSelfApproval: false })).toEqual({
      allowed: false,
      reason: 'You are not allowed to request tenants; ask an admin to add you as a requester.',
    });
  });

  it('four eyes apply to admins too', () => {
    const adminWhoAsked: Identity = { door: 'cli', id: 'jane', name: 'jane', roles: new Set(['admin']) };
    expect(decide(adminWhoAsked, 'approve', { allowSelfApproval: false }, { requester: requesterOn('cli') }).allowed).toBe(false);
  });

  it('signing in to the web with Slack makes you the same person who asked in Slack', () => {
    const onTheWeb: Identity = { door: 'web', id: 'U-jane', name: 'Jane', roles: new Set(['requester']) };
    expect(decide(onTheWeb, 'provide_input', { allowSelfApproval: false }, { requester: requesterOn('slack') }).allowed).toBe(true);
    // A CLI operator called "U-jane" is not the Slack user U-jane.
    const operator: Identity = { door: 'cli', id: 'U-jane', name: 'U-jane', roles: new Set(['requester']) };
    expect(decide(operator, 'provide_input', { allowSelfApproval: false }, { requester: requesterOn('slack') }).allowed).toBe(false);
  });

  it('a job with no recorded requester (made before requesters were recorded) has no owner to favour', () => {
    const requester: Identity = { door: 'slack', id: 'U-jane', name: 'Jane', roles: new Set(['requester']) };
    expect(decide(requester, 'cancel', { allowSelfApproval: false }, { requester: undefined }).allowed).toBe(false);
  });

  it('only admins change the step queue from its dashboard; approvers and requesters only watch it', () => {
    const changes = (roles: Role[]) => decideQueueChange({ door: 'web', id: 'U1', name: 'Someone', roles: new Set(roles) });
    expect(changes(['admin']).allowed).toBe(true);
    for (const roles of [['approver'], ['requester'], []] satisfies Role[][]) {
      expect(changes(roles)).toEqual({ allowed: false, reason: 'Only admins can change the step queue; everyone signed in can watch it.' });
    }
  });
});

describe('who may see the KPIs, and who reports what tenants use', () => {
  const on = (door: Door, ...roles: Role[]): Identity => ({ door, id: 'x', name: 'x', roles: new Set(roles) });

  it('anyone the product knows sees the KPIs, on every door; someone with no role does not', () => {
    for (const door of ['slack', 'web', 'cli'] as const) {
      expect(decideViewKpis(on(door, 'requester')).allowed).toBe(true);
      expect(decideViewKpis(on(door)).allowed).toBe(false);
    }
  });

  it('activation events come only from an API caller (the product), never from a person, whatever their roles', () => {
    expect(decideReportActivation(on('api')).allowed).toBe(true);
    for (const door of ['slack', 'web', 'cli'] as const) expect(decideReportActivation(on(door, 'admin')).allowed).toBe(false);
  });
});

describe('who may ask for a lifecycle change of a tenant, on every door', () => {
  /** People on Slack, the web and the CLI; the API door is a billing source (Stripe, Bunny). */
  const PEOPLE: Record<Exclude<Who, 'own requester'>, readonly TenantAction[]> = {
    admin: TENANT_ACTIONS,
    approver: ['change_plan', 'suspend', 'reactivate', 'decommission'],
    'other requester': ['change_plan'],
    // A program that only reports usage changes no tenant.
    reporter: [],
    nobody: [],
  };
  const BILLING: Record<TenantAction, boolean> = {
    change_plan: false,
    suspend: true,
    reactivate: true,
    decommission: false,
    sync_entitlements: true,
  };

  for (const door of ['slack', 'web', 'cli'] as const) {
    for (const who of Object.keys(PEOPLE) as (keyof typeof PEOPLE)[]) {
      for (const action of TENANT_ACTIONS) {
        const expected = PEOPLE[who].includes(action);
        it(`${who} on ${door}: ${action} is ${expected ? 'allowed' : 'refused'}`, () => {
          const decision = decideTenantAction(identity(who, door), action);
          expect(decision.allowed).toBe(expected);
          if (!decision.allowed)
            expect(decision.reason).toMatch(/^(Only (approvers|admins) can .* tenants; ask one of them\.|You are not allowed to change plans)/);
        });
      }
    }
  }

  for (const action of TENANT_ACTIONS) {
    it(`a billing source (API caller): ${action} is ${BILLING[action] ? 'allowed' : 'refused'}, whatever roles it was given`, () => {
      const stripe: Identity = { door: 'api', id: 'stripe', name: 'Stripe', roles: new Set(['admin']) };
      expect(decideTenantAction(stripe, action).allowed).toBe(BILLING[action]);
      expect(decideTenantAction({ ...stripe, roles: new Set() }, action).allowed).toBe(BILLING[action]);
    });
  }

  it('tells a requester who may suspend instead', () => {
    expect(decideTenantAction(identity('other requester', 'slack'), 'suspend')).toEqual({
      allowed: false,
      reason: 'Only approvers can suspend tenants; ask one of them.',
    });
  });
});
