import { describe, expect, it } from 'vitest';
import {
  actorRefusal,
  OPERATION_STATUSES,
  premiseViolation,
  RESUME_WINDOW_MS,
  resumeWindowRefusal,
  statusRefusal,
  TRANSITIONS,
  type OperationFacts,
} from '../../functions/domain/lifecycle/operation.js';
import type { Organization, User } from '../../functions/domain/model.js';

/** domain/lifecycle/operation.ts: the statuses, transitions, actors and premises of a transfer or deletion (O1, O2, T3, D7). */
const org = (id: string, extra: Partial<Organization> = {}): Organization => ({
  id,
  name: id,
  plan: 'business',
  restrictOutsideCommunication: false,
  disallowFileSharing: false,
  ...extra,
});
const person = (id: string, organizationId: string | null, extra: Partial<User> = {}): User => ({
  id,
  name: id,
  organizationId,
  orgAdmin: false,
  allowOutsideCommunication: false,
  allowFileSharing: false,
  apiToken: null,
  status: 'active',
  ...extra,
});
const transfer = (extra: Partial<OperationFacts> = {}): OperationFacts => ({
  id: 'tr-1',
  operation: 'transfer',
  status: 'failed',
  userId: 'u',
  sourceOrganizationId: 'A',
  destinationOrganizationId: 'C',
  approvedBy: 'adminC',
  planId: 'tr-1.1',
  ...extra,
});
const deletion = (extra: Partial<OperationFacts> = {}): OperationFacts => ({
  id: 'del-1',
  operation: 'deletion',
  status: 'failed',
  userId: 'u',
  organizationId: 'A',
  planId: 'del-1.1',
  ...extra,
});
const adminOf = (o: string) => ({ id: `admin${o}`, status: 'active' as const, orgAdmin: true, organizationId: o });

describe('the transition table', () => {
  it('every transition goes between statuses of CONTRACT.md, and no final status is left except by resumption of a failure', () => {
    for (const [name, t] of Object.entries(TRANSITIONS)) {
      for (const s of [...t.from, t.to]) expect(OPERATION_STATUSES, name).toContain(s);
      expect(t.from, name).not.toContain('succeeded');
      expect(t.from, name).not.toContain('cancelled');
    }
  });

  it('O2: only a failed operation is resumed; a failed transfer or deletion can be cancelled', () => {
    expect(statusRefusal('resume', transfer({ status: 'running' }))).toMatch(/is running; resume needs failed/);
    expect(statusRefusal('resume', deletion())).toBeUndefined();
    expect(statusRefusal('cancel', transfer())).toBeUndefined();
    expect(statusRefusal('cancel-failed', deletion())).toBeUndefined();
    expect(statusRefusal('cancel-failed', deletion({ status: 'succeeded' }))).toMatch(/is succeeded/);
  });

  it('D7: only a scheduled deletion is undone or purged', () => {
    expect(statusRefusal('undo', deletion({ status: 'scheduled' }))).toBeUndefined();
    expect(statusRefusal('undo', deletion({ status: 'running' }))).toMatch(/is running/);
    expect(statusRefusal('purge', deletion({ status: 'cancelled' }))).toMatch(/is cancelled/);
  });

  it('a transition of the other kind of operation is a programming error', () => {
    expect(() => statusRefusal('approve', deletion())).toThrow(/no transition approve for a deletion/);
  });
});

describe('who may', () => {
  it('T3: the destination approves; either side cancels; a member of neither may not', () => {
    expect(actorRefusal('approve', transfer({ status: 'awaiting-approval' }), adminOf('C'))).toBeUndefined();
    expect(actorRefusal('approve', transfer({ status: 'awaiting-approval' }), adminOf('A'))).toMatch(/only an administrator of C/);
    expect(actorRefusal('cancel', transfer(), adminOf('A'))).toBeUndefined();
    expect(actorRefusal('cancel', transfer(), adminOf('C'))).toBeUndefined();
    expect(actorRefusal('cancel', transfer(), adminOf('B'))).toMatch(/only an administrator of A or C/);
  });

  it('O2: a transfer is resumed by its source, once the destination had approved it; the destination alone is refused', () => {
    expect(actorRefusal('resume', transfer(), adminOf('A'))).toBeUndefined();
    expect(actorRefusal('resume', transfer(), adminOf('C'))).toMatch(/only an administrator of A/);
    expect(actorRefusal('resume', transfer({ approvedBy: null }), adminOf('A'))).toMatch(/consent of both/);
  });

  it('O2: a deletion is resumed and cancelled by an administrator of its organization; a suspended or deleted administrator is no one', () => {
    expect(actorRefusal('resume', deletion(), adminOf('A'))).toBeUndefined();
    expect(actorRefusal('cancel-failed', deletion(), adminOf('B'))).toMatch(/only an administrator of A/);
    expect(actorRefusal('resume', deletion(), { ...adminOf('A'), status: 'suspended' })).toMatch(/may not resume/);
  });

  it('O2: resumption closes 7 days after the failure', () => {
    const failedAt = '2026-01-01T00:00:00.000Z';
    expect(resumeWindowRefusal(deletion({ failedAt }), Date.parse(failedAt) + RESUME_WINDOW_MS)).toBeUndefined();
    expect(resumeWindowRefusal(deletion({ failedAt }), Date.parse(failedAt) + RESUME_WINDOW_MS + 1)).toMatch(/more than 7 days ago/);
  });
});

describe('O1: premises', () => {
  const A = org('A');
  const C = org('C');

  it('a deletion: the user still a member of its organization (a move out breaks it), not yet deleted, D1 still holding', () => {
    expect(premiseViolation(deletion(), { user: person('u', 'A'), admins: [] })).toBeUndefined();
    expect(premiseViolation(deletion(), { user: person('u', 'C'), admins: [] })).toMatchObject({
      rule: 'O1',
      message: expect.stringContaining('now of C'),
    });
    expect(premiseViolation(deletion(), { user: person('u', 'A', { status: 'deleted' }) })).toMatchObject({ rule: 'D1' });
    expect(
      premiseViolation(deletion(), { user: person('u', 'A', { orgAdmin: true }), admins: [person('u', 'A', { orgAdmin: true })] }),
    ).toMatchObject({ rule: 'D1' });
    expect(premiseViolation(deletion(), { user: undefined })).toMatchObject({ rule: 'O1' });
  });

  it('D7: the user suspended by this very deletion holds; once deleted by this plan, what is left of it holds', () => {
    expect(
      premiseViolation(deletion({ purgeAt: '2026-01-08T00:00:00Z' }), { user: person('u', 'A', { status: 'suspended' }), admins: [] }),
    ).toBeUndefined();
    expect(premiseViolation(deletion({ appliedPlan: 'del-1.1' }), { user: person('u', 'A', { status: 'deleted' }) })).toBeUndefined();
    // deleted, but not by this plan: the plan is not continued
    expect(premiseViolation(deletion({ appliedPlan: 'del-1.0' }), { user: person('u', 'A', { status: 'deleted' }) })).toMatchObject({
      rule: 'D1',
    });
  });

  it('a transfer: an active member of the source until the move, eligible (T1, T2, T5); after its own move, an active member of the destination', () => {
    const facts = { source: A, destination: C, allowance: false };
    expect(premiseViolation(transfer(), { user: person('u', 'A'), ...facts })).toBeUndefined();
    expect(premiseViolation(transfer(), { user: person('u', 'B'), ...facts })).toMatchObject({ rule: 'O1' });
    expect(premiseViolation(transfer(), { user: person('u', 'A', { status: 'suspended' }), ...facts })).toMatchObject({ rule: 'O1' });
    expect(premiseViolation(transfer(), { user: person('u', 'A'), ...facts, destination: org('C', { plan: 'free' }) })).toMatchObject({
      rule: 'T1',
    });
    expect(
      premiseViolation(transfer(), { user: person('u', 'A'), ...facts, destination: org('C', { restrictOutsideCommunication: true }) }),
    ).toMatchObject({ rule: 'T2' });
    expect(premiseViolation(transfer(), { user: person('u', 'A'), source: A })).toMatchObject({ rule: 'T5' });
    expect(premiseViolation(transfer({ appliedPlan: 'tr-1.1' }), { user: person('u', 'C') })).toBeUndefined();
    expect(premiseViolation(transfer({ appliedPlan: 'tr-1.1' }), { user: person('u', 'C', { status: 'deleted' }) })).toMatchObject({
      rule: 'O1',
    });
    // moved to C by something else than this plan: not this transfer's move
    expect(premiseViolation(transfer(), { user: person('u', 'C') })).toMatchObject({ rule: 'O1' });
  });
});
