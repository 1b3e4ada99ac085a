import { describe, expect, it } from 'vitest';
import { TenantTransitionRefusedError } from '../../src/domain/errors.ts';
import type { JobStatus } from '../../src/domain/job.ts';
import {
  moveTenant,
  requireMove,
  statusFromProvisioning,
  TENANT_EVENTS,
  TENANT_STATUSES,
  type TenantEvent,
  type TenantStatus,
} from '../../src/domain/tenant-status.ts';

/**
 * The whole tenant status machine as one table: the moves each status allows
 * and where each leads. Every other status × event pair is refused.
 */
const ALLOWED: Record<TenantStatus, Partial<Record<TenantEvent, TenantStatus>>> = {
  provisioning: { went_live: 'live', provisioning_failed: 'failed', rolled_back: 'rolled_back' },
  live: { suspend: 'suspended', decommission: 'decommissioning', change_plan: 'live', sync_entitlements: 'live' },
  failed: { provisioning_retried: 'provisioning', rolled_back: 'rolled_back' },
  rolled_back: {},
  suspended: { reactivate: 'live', decommission: 'decommissioning', sync_entitlements: 'suspended' },
  // Back to where it was before: see the test below for a suspended tenant.
  decommissioning: { cancel_decommission: 'live', decommissioned: 'decommissioned' },
  decommissioned: {},
};

describe('the tenant status machine', () => {
  for (const status of TENANT_STATUSES) {
    for (const event of TENANT_EVENTS) {
      const expected = ALLOWED[status][event];
      it(`${status} + ${event} → ${expected ?? 'refused'}`, () => {
        const move = moveTenant('acme', { status, previous: 'live' }, event);
        if (expected === undefined) {
          expect(move.ok).toBe(false);
          if (!move.ok)
            expect(move.reason).toMatch(/^(You cannot .* acme: it is .*, and only a tenant that is .* can be [^.]*|acme is already [^.]*)$/);
        } else {
          expect(move).toMatchObject({ ok: true, state: { status: expected } });
        }
      });
    }
  }

  it('says why in people’s words, naming the tenant, where it stands and what it would need to be', () => {
    expect(moveTenant('acme', { status: 'live' }, 'reactivate')).toEqual({ ok: false, reason: 'acme is already live' });
    expect(moveTenant('acme', { status: 'decommissioning' }, 'reactivate')).toEqual({
      ok: false,
      reason: 'You cannot reactivate acme: it is being decommissioned, and only a tenant that is suspended can be reactivated',
    });
    expect(moveTenant('acme', { status: 'suspended' }, 'suspend')).toEqual({ ok: false, reason: 'acme is already suspended' });
    expect(moveTenant('acme', { status: 'decommissioned' }, 'decommission')).toEqual({ ok: false, reason: 'acme is already decommissioned' });
    expect(moveTenant('acme', { status: 'provisioning' }, 'suspend')).toEqual({
      ok: false,
      reason: 'You cannot suspend acme: it is still being provisioned, and only a tenant that is live can be suspended',
    });
  });

  it('remembers where a tenant was when decommissioning began, and a cancelled one goes back there', () => {
    const decommissioning = requireMove('acme', { status: 'suspended' }, 'decommission');
    expect(decommissioning).toEqual({ status: 'decommissioning', previous: 'suspended' });
    expect(requireMove('acme', decommissioning, 'cancel_decommission')).toEqual({ status: 'suspended' });
  });

  it('refuses by a named error that keeps the status and the event', () => {
    const refused = (() => {
      try {
        requireMove('acme', { status: 'rolled_back' }, 'suspend');
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(refused).toBeInstanceOf(TenantTransitionRefusedError);
    expect(refused).toMatchObject({ status: 'rolled_back', event: 'suspend', name: 'TenantTransitionRefusedError' });
  });

  it('follows the provisioning job until the tenant is live', () => {
    const expected: Record<JobStatus, TenantStatus> = {
      running: 'provisioning',
      awaiting_approval: 'provisioning',
      awaiting_input: 'provisioning',
      failed: 'failed',
      live: 'live',
      cancelled: 'rolled_back',
      rejected: 'rolled_back',
      rolling_back: 'failed',
      rolled_back: 'rolled_back',
      rollback_failed: 'failed',
    };
    for (const [job, tenant] of Object.entries(expected)) expect([job, statusFromProvisioning(job as JobStatus)]).toEqual([job, tenant]);
  });
});
