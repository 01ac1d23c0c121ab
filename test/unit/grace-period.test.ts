import { describe, expect, it } from 'vitest';
import { displayName, requesterName } from '../../functions/domain/display-names.js';
import { deletionIneligibility, transferIneligibility } from '../../functions/domain/eligibility.js';
import { planDeletion } from '../../functions/domain/planner.js';
import { MAX_GRACE_DAYS, purgeDate } from '../../functions/domain/grace-period.js';
import { comm, kinds, member, org, slice, user } from './world-builder.js';

const A = org('A');
const B = org('B');
const C = org('C');
const orgs = [A, B];
const x = user('x', 'A');
const suspended = (id: string, organizationId: string, u = {}) => user(id, organizationId, { status: 'suspended', ...u });

describe('D7 beyond — a suspended user is still there for everyone else’s plans (it may come back)', () => {
  it('D4, D7: a direct chat whose other user is suspended is kept, frozen, not deleted as if both were deleted', () => {
    const dm = { id: 'dm', type: 'direct' as const, members: [member('x', 'admin'), member('b1', 'admin')] };
    const effects = planDeletion(
      slice({ orgs, subject: x, users: [suspended('b1', 'B')], chats: [{ chat: dm, hasMessages: true }] }),
    ).effects;
    expect(effects).toContainEqual({ kind: 'chat-frozen', rule: 'D4', chatId: 'dm' });
    expect(kinds(effects)).not.toContain('chat-deleted');
  });
  it('D5, D7: a group whose only other member is suspended is not deleted, and its suspended administrator keeps the role', () => {
    const g = { id: 'g', type: 'group' as const, members: [member('x', 'admin'), member('s', 'admin'), member('b1')] };
    const effects = planDeletion(slice({ orgs, subject: x, users: [suspended('s', 'A'), user('b1', 'B')], chats: [{ chat: g }] })).effects;
    expect(effects).toContainEqual({ kind: 'chat-left', rule: 'D5', chatId: 'g', userId: 'x' });
    expect(kinds(effects)).not.toContain('admin-granted');
    const alone = planDeletion(
      slice({ orgs, subject: x, users: [suspended('s', 'A')], chats: [{ chat: { ...g, members: [member('x', 'admin'), member('s')] } }] }),
    ).effects;
    expect(kinds(alone)).not.toContain('chat-deleted');
  });
  it('D7: a suspended user’s own purge plans as its deletion would (D2–D6 apply to it unchanged)', () => {
    const dm = { id: 'dm', type: 'direct' as const, members: [member('x', 'admin'), member('b1', 'admin')] };
    const spec = { orgs, users: [user('b1', 'B')], contacts: ['b1'], chats: [{ chat: dm, hasMessages: true }] };
    expect(planDeletion(slice({ ...spec, subject: suspended('x', 'A') })).effects).toEqual(
      planDeletion(slice({ ...spec, subject: x })).effects,
    );
  });
});

describe('D7 beyond — eligibility and names', () => {
  it('D1, D7: a suspended administrator does not count as another administrator; its own purge is not refused as the last one', () => {
    const admin = user('adm', 'A', { orgAdmin: true });
    expect(deletionIneligibility(admin, [admin, suspended('adm2', 'A', { orgAdmin: true })]).map((r) => r.rule)).toEqual(['D1']);
    expect(deletionIneligibility(suspended('adm2', 'A', { orgAdmin: true }), [admin])).toEqual([]);
  });
  it('T5, D7: a suspended user cannot be transferred (the user must be active)', () => {
    const reasons = transferIneligibility(comm([A, C]), suspended('a2', 'A'), A, C);
    expect(reasons.map((r) => r.rule)).toEqual(['T5']);
  });
  it('D7: others see a suspended user as "Name (suspended)" on messages and tasks; undone, the name is unchanged', () => {
    expect(displayName({ name: 'Akira', status: 'suspended' })).toBe('Akira (suspended)');
    expect(requesterName({ name: 'Akira', status: 'suspended' })).toBe('Akira (suspended)');
    expect(displayName({ name: 'Akira', status: 'active' })).toBe('Akira');
  });
  it('D7: the purge date is the request time plus the grace period in whole days', () => {
    expect(purgeDate(7, Date.parse('2026-11-22T09:00:00.000Z'))).toBe('2026-11-29T09:00:00.000Z');
    expect(purgeDate(MAX_GRACE_DAYS, Date.parse('2026-02-01T00:00:00.000Z'))).toBe('2026-03-03T00:00:00.000Z');
  });
});
