import { describe, expect, it } from 'vitest';
import { planTransfer } from '../../functions/domain/planner.js';
import { kinds, member, org, slice, user } from './world-builder.js';

// T10's configuration: B restricts; A–B have an allowance, B–C do not; b1 has no exemption.
const A = org('A');
const B = org('B', { restrictOutsideCommunication: true });
const C = org('C');
const base = { orgs: [A, B, C], allowances: [['A', 'B']] as [string, string][] };
const a1 = user('a1', 'A');
const a2 = user('a2', 'A');
const b1 = user('b1', 'B');
const c1 = user('c1', 'C');

describe('T10 — the seed’s worked case', () => {
  const s = slice({
    ...base,
    subject: a1,
    users: [a2, b1, c1],
    contacts: ['b1', 'c1'],
    chats: [
      { chat: { id: 'dm', type: 'direct', members: [member('a1', 'admin'), member('b1', 'admin')] }, files: ['fa'] },
      { chat: { id: 'g1', type: 'group', members: [member('a1', 'admin'), member('b1')] }, files: ['fg'] },
      { chat: { id: 'g2', type: 'group', members: [member('a1'), member('c1', 'admin')] } },
    ],
    contents: { dm: { fileIds: ['fa', 'fb'], taskIds: ['t'] } },
  });
  const impact = planTransfer(s, C);

  it('T10: when a1 moves to C, the a1–b1 contact breaks (T7)', () => {
    expect(impact.effects).toContainEqual({ kind: 'contact-removed', rule: 'T7', userIds: ['a1', 'b1'] });
  });
  it('T10: their direct chat is deleted, with a1’s files in it (T7, F2)', () => {
    expect(impact.effects).toContainEqual({ kind: 'chat-deleted', rule: 'T7', chatId: 'dm' });
    expect(impact.effects).toContainEqual({ kind: 'file-deleted', rule: 'F2', fileId: 'fa' });
    expect(impact.effects).toContainEqual({ kind: 'file-deleted', rule: 'F2', fileId: 'fb' });
    expect(impact.effects).toContainEqual({ kind: 'task-deleted', rule: 'T7', taskId: 't' });
  });
  it('T10: a1 leaves every group chat that b1 is in, and only those (T8)', () => {
    expect(impact.effects.filter((e) => e.kind === 'chat-left')).toEqual([{ kind: 'chat-left', rule: 'T8', chatId: 'g1', userId: 'a1' }]);
  });
  it('T10: a1’s file in the group chat left is deleted: no other member of A stays (F1)', () => {
    expect(impact.effects).toContainEqual({ kind: 'file-deleted', rule: 'F1', fileId: 'fg' });
  });
  it('T10: the a1–c1 contact stays (C1 in the destination)', () => {
    expect(impact.effects.filter((e) => e.kind === 'contact-removed')).toHaveLength(1);
  });
});

describe('T6, T9 — the subject’s own effects', () => {
  it('T9 and T6: membership moves, exemptions are set for the destination, the API token is revoked', () => {
    const D = org('D', { restrictOutsideCommunication: true, disallowFileSharing: true });
    const impact = planTransfer(
      slice({ orgs: [A, D], allowances: [['A', 'D']], subject: user('a1', 'A', { allowFileSharing: false }), users: [] }),
      D,
    );
    expect(impact.effects).toEqual([
      { kind: 'api-token-revoked', rule: 'T9', userId: 'a1' },
      { kind: 'membership-changed', rule: 'T9', userId: 'a1', fromOrganizationId: 'A', toOrganizationId: 'D' },
      { kind: 'security-changed', rule: 'T6', userId: 'a1', allowOutsideCommunication: true, allowFileSharing: true },
    ]);
  });
});

describe('T7 — contacts that C1/C2 no longer allow', () => {
  it('T7: a contact with an exempt user of a restricting organization stays', () => {
    const b2 = user('b2', 'B', { allowOutsideCommunication: true });
    const impact = planTransfer(slice({ ...base, subject: a1, users: [b2], contacts: ['b2'] }), C);
    expect(kinds(impact.effects)).not.toContain('contact-removed');
  });
  it('T7 with T6: moving into a restricting organization keeps contacts, because allowOutsideCommunication stays ON', () => {
    const R = org('R', { restrictOutsideCommunication: true });
    const impact = planTransfer(slice({ orgs: [A, C, R], allowances: [['A', 'R']], subject: a1, users: [c1], contacts: ['c1'] }), R);
    expect(kinds(impact.effects)).not.toContain('contact-removed');
  });
  it('T7: a contact with a deleted user is not re-broken', () => {
    const gone = user('b1', 'B', { status: 'deleted' });
    const impact = planTransfer(slice({ ...base, subject: a1, users: [gone], contacts: ['b1'] }), C);
    expect(kinds(impact.effects)).not.toContain('contact-removed');
  });
});

describe('T8, G1, G2, F1 — leaving group chats', () => {
  it('G2: when the leaving user was the only administrator, every remaining member, read-only included, becomes one', () => {
    const s = slice({
      ...base,
      subject: a1,
      users: [a2, b1],
      chats: [{ chat: { id: 'g', type: 'group', members: [member('a1', 'admin'), member('a2', 'readonly'), member('b1')] } }],
    });
    expect(planTransfer(s, C).effects).toContainEqual({ kind: 'admin-granted', rule: 'G2', chatId: 'g', userIds: ['a2', 'b1'] });
  });
  it('G2: no hand-over when another administrator remains', () => {
    const s = slice({
      ...base,
      subject: a1,
      users: [a2, b1],
      chats: [{ chat: { id: 'g', type: 'group', members: [member('a1', 'admin'), member('a2', 'admin'), member('b1')] } }],
    });
    expect(kinds(planTransfer(s, C).effects)).not.toContain('admin-granted');
  });
  it('F1: files stay, owned by the source organization, when another member of the source organization stays', () => {
    const s = slice({
      ...base,
      subject: a1,
      users: [a2, b1],
      chats: [{ chat: { id: 'g', type: 'group', members: [member('a1'), member('a2', 'admin'), member('b1')] }, files: ['f1', 'f2'] }],
    });
    const effects = planTransfer(s, C).effects;
    expect(effects).toContainEqual({ kind: 'file-handed-over', rule: 'F1', fileId: 'f1', organizationId: 'A' });
    expect(effects).toContainEqual({ kind: 'file-handed-over', rule: 'F1', fileId: 'f2', organizationId: 'A' });
    expect(kinds(effects)).not.toContain('file-deleted');
  });
  it('T8: a group chat whose other members may all still communicate is not left', () => {
    const s = slice({
      ...base,
      subject: a1,
      users: [c1, a2],
      chats: [{ chat: { id: 'g', type: 'group', members: [member('a1'), member('c1'), member('a2')] }, files: ['f'] }],
    });
    expect(kinds(planTransfer(s, C).effects)).toEqual(['api-token-revoked', 'membership-changed', 'security-changed']);
  });
  it('T8 reading: a member suspended under a grace period (D7) still counts until the purge: the user leaves a group where only that member may no longer communicate with them', () => {
    const suspendedB1 = user('b1', 'B', { status: 'suspended' });
    const g = { id: 'g', type: 'group' as const, members: [member('a1', 'admin'), member('b1'), member('a2')] };
    const effects = planTransfer(slice({ ...base, subject: a1, users: [suspendedB1, a2], chats: [{ chat: g, files: ['f'] }] }), C).effects;
    expect(effects).toContainEqual({ kind: 'chat-left', rule: 'T8', chatId: 'g', userId: 'a1' });
    expect(effects).toContainEqual({ kind: 'admin-granted', rule: 'G2', chatId: 'g', userIds: ['a2', 'b1'] }); // G2: the suspended member is a member
    expect(effects).toContainEqual({ kind: 'file-handed-over', rule: 'F1', fileId: 'f', organizationId: 'A' });
    // a member already deleted no longer counts: nobody left who may not communicate, nothing is left
    const deletedB1 = user('b1', 'B', { status: 'deleted', deletedAt: '2026-01-01T00:00:00Z' });
    expect(kinds(planTransfer(slice({ ...base, subject: a1, users: [deletedB1, a2], chats: [{ chat: g }] }), C).effects)).not.toContain(
      'chat-left',
    );
  });
  it('T8: My Chat is never left', () => {
    const s = slice({ ...base, subject: a1, users: [], chats: [{ chat: { id: 'my', type: 'my', members: [member('a1', 'admin')] } }] });
    expect(kinds(planTransfer(s, C).effects)).not.toContain('chat-left');
  });
});

describe('X1 — the impact’s shape', () => {
  it('effects are sorted by kind, then ids', () => {
    const s = slice({
      ...base,
      subject: a1,
      users: [b1, user('b3', 'B')],
      contacts: ['b3', 'b1'],
      chats: [
        { chat: { id: 'g2', type: 'group', members: [member('a1'), member('b1', 'admin')] } },
        { chat: { id: 'g1', type: 'group', members: [member('a1'), member('b3', 'admin')] } },
      ],
    });
    const effects = planTransfer(s, C).effects;
    const keys = effects.map((e) => `${e.kind} ${JSON.stringify(e)}`);
    expect(kinds(effects)).toEqual([...kinds(effects)].sort());
    expect(effects.filter((e) => e.kind === 'chat-left').map((e) => (e as any).chatId)).toEqual(['g1', 'g2']);
    expect(effects.filter((e) => e.kind === 'contact-removed').map((e) => (e as any).userIds[1])).toEqual(['b1', 'b3']);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
