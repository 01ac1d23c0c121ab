import { describe, expect, it } from 'vitest';
import { planDeletion } from '../../functions/domain/planner.js';
import { kinds, member, org, slice, user } from './world-builder.js';

const A = org('A');
const B = org('B');
const orgs = [A, B];
const x = user('x', 'A');
const a2 = user('a2', 'A');
const a3 = user('a3', 'A');
const b1 = user('b1', 'B');

describe('D2 — the user is deleted', () => {
  it('D2: the user is deleted and the API token revoked', () => {
    const effects = planDeletion(slice({ orgs, subject: x, users: [] })).effects;
    expect(effects).toEqual([
      { kind: 'api-token-revoked', rule: 'D2', userId: 'x' },
      { kind: 'user-deleted', rule: 'D2', userId: 'x' },
    ]);
  });
});

describe('D3 — My Chat and chats where the user was alone', () => {
  it('D3: My Chat is deleted with its files and tasks (F2)', () => {
    const s = slice({
      orgs,
      subject: x,
      users: [],
      chats: [{ chat: { id: 'my', type: 'my', members: [member('x', 'admin')] } }],
      contents: { my: { fileIds: ['f'], taskIds: ['t'] } },
    });
    const effects = planDeletion(s).effects;
    expect(effects).toContainEqual({ kind: 'chat-deleted', rule: 'D3', chatId: 'my' });
    expect(effects).toContainEqual({ kind: 'file-deleted', rule: 'F2', fileId: 'f' });
    expect(effects).toContainEqual({ kind: 'task-deleted', rule: 'D3', taskId: 't' });
  });
  it('D3 reading: members already deleted do not count as participants: a group whose other members are all deleted is deleted citing D3', () => {
    const gone = (id: string) => user(id, 'A', { status: 'deleted', deletedAt: '2026-01-01T00:00:00Z' });
    const g = { id: 'g', type: 'group' as const, members: [member('x'), member('d1', 'admin'), member('d2', 'readonly')] };
    const s = slice({
      orgs,
      subject: x,
      users: [gone('d1'), gone('d2')],
      chats: [{ chat: g, files: ['fx'] }],
      contents: { g: { fileIds: ['fx', 'fd'], taskIds: ['tg'] } },
    });
    const effects = planDeletion(s).effects;
    expect(effects.filter((e) => e.kind === 'chat-deleted')).toEqual([{ kind: 'chat-deleted', rule: 'D3', chatId: 'g' }]);
    expect(effects).toContainEqual({ kind: 'file-deleted', rule: 'F2', fileId: 'fd' }); // F2: with everything in it
    expect(effects).toContainEqual({ kind: 'task-deleted', rule: 'D3', taskId: 'tg' });
    expect(kinds(effects)).not.toContain('chat-left');
    expect(kinds(effects)).not.toContain('admin-granted');
    // a member who is only suspended (D7) is still a participant: the group stays, the user leaves it (D5)
    const kept = planDeletion(
      slice({ orgs, subject: x, users: [gone('d1'), user('d2', 'A', { status: 'suspended' })], chats: [{ chat: g }] }),
    ).effects;
    expect(kept).toContainEqual({ kind: 'chat-left', rule: 'D5', chatId: 'g', userId: 'x' });
    expect(kinds(kept)).not.toContain('chat-deleted');
  });
  it('D3: a group chat where the user was the only participant is deleted', () => {
    const s = slice({ orgs, subject: x, users: [], chats: [{ chat: { id: 'g', type: 'group', members: [member('x', 'admin')] } }] });
    expect(planDeletion(s).effects).toContainEqual({ kind: 'chat-deleted', rule: 'D3', chatId: 'g' });
    expect(kinds(planDeletion(s).effects)).not.toContain('chat-left');
  });
});

describe('D4 — direct chats', () => {
  const dm = { id: 'dm', type: 'direct' as const, members: [member('x', 'admin'), member('b1', 'admin')] };
  it('D4: the user is removed from the other user’s contacts', () => {
    expect(planDeletion(slice({ orgs, subject: x, users: [b1], contacts: ['b1'] })).effects).toContainEqual({
      kind: 'contact-removed',
      rule: 'D4',
      userIds: ['b1', 'x'],
    });
  });
  it('D4: the direct chat stays with the other user alone, frozen', () => {
    const effects = planDeletion(slice({ orgs, subject: x, users: [b1], chats: [{ chat: dm, hasMessages: true }] })).effects;
    expect(effects).toContainEqual({ kind: 'chat-left', rule: 'D4', chatId: 'dm', userId: 'x' });
    expect(effects).toContainEqual({ kind: 'chat-frozen', rule: 'D4', chatId: 'dm' });
    expect(kinds(effects)).not.toContain('chat-deleted');
    expect(kinds(effects)).not.toContain('admin-granted');
  });
  it('D4: a direct chat with no message ever posted is deleted instead', () => {
    const effects = planDeletion(slice({ orgs, subject: x, users: [b1], chats: [{ chat: dm, hasMessages: false }] })).effects;
    expect(effects).toContainEqual({ kind: 'chat-deleted', rule: 'D4', chatId: 'dm' });
    expect(kinds(effects)).not.toContain('chat-frozen');
  });
  it('D4: a direct chat left frozen by the other user’s earlier deletion is deleted, citing D4 (both users deleted)', () => {
    const s = slice({
      orgs,
      subject: x,
      users: [],
      chats: [{ chat: { id: 'dm', type: 'direct', frozen: true, members: [member('x', 'admin')] } }],
    });
    expect(planDeletion(s).effects).toContainEqual({ kind: 'chat-deleted', rule: 'D4', chatId: 'dm' });
  });
  it('D4: a direct chat whose other user is deleted too is deleted instead', () => {
    const gone = user('b1', 'B', { status: 'deleted', deletedAt: '2020-01-01T00:00:00Z' });
    const effects = planDeletion(slice({ orgs, subject: x, users: [gone], chats: [{ chat: dm, hasMessages: true }] })).effects;
    expect(effects).toContainEqual({ kind: 'chat-deleted', rule: 'D4', chatId: 'dm' });
  });
  it('D4 with F1: the deleted user’s files in the kept direct chat go unless the other user is of the same organization', () => {
    const other = planDeletion(slice({ orgs, subject: x, users: [b1], chats: [{ chat: dm, files: ['f'] }] })).effects;
    expect(other).toContainEqual({ kind: 'file-deleted', rule: 'F1', fileId: 'f' });
    const same = planDeletion(
      slice({ orgs, subject: x, users: [a2], chats: [{ chat: { ...dm, members: [member('x'), member('a2')] }, files: ['f'] }] }),
    ).effects;
    expect(same).toContainEqual({ kind: 'file-handed-over', rule: 'F1', fileId: 'f', organizationId: 'A' });
  });
});

describe('D5, G1, G2 — group chats', () => {
  it('D5: the user is removed; with no other administrator, every remaining member (read-only included) becomes one', () => {
    const s = slice({
      orgs,
      subject: x,
      users: [a3, b1],
      chats: [{ chat: { id: 'g', type: 'group', members: [member('x', 'admin'), member('a3', 'readonly'), member('b1')] } }],
    });
    const effects = planDeletion(s).effects;
    expect(effects).toContainEqual({ kind: 'chat-left', rule: 'D5', chatId: 'g', userId: 'x' });
    expect(effects).toContainEqual({ kind: 'admin-granted', rule: 'D5', chatId: 'g', userIds: ['a3', 'b1'] });
  });
  it('D5: no grant while another administrator remains', () => {
    const s = slice({
      orgs,
      subject: x,
      users: [a3, b1],
      chats: [{ chat: { id: 'g', type: 'group', members: [member('x', 'admin'), member('a3', 'admin'), member('b1')] } }],
    });
    expect(kinds(planDeletion(s).effects)).not.toContain('admin-granted');
  });
  it('D5, D3: a chat left with only deleted members is deleted, citing D3 (its deleted members are no participants)', () => {
    const gone = user('b1', 'B', { status: 'deleted', deletedAt: '2020-01-01T00:00:00Z' });
    const s = slice({
      orgs,
      subject: x,
      users: [gone],
      chats: [{ chat: { id: 'g', type: 'group', members: [member('x', 'admin'), member('b1')] } }],
    });
    expect(planDeletion(s).effects).toContainEqual({ kind: 'chat-deleted', rule: 'D3', chatId: 'g' });
  });
  it('F1: the user’s files in a group chat are handed to the organization when a member of it stays, deleted otherwise', () => {
    const s = slice({
      orgs,
      subject: x,
      users: [a2, b1],
      chats: [
        { chat: { id: 'g1', type: 'group', members: [member('x'), member('a2', 'admin')] }, files: ['kept'] },
        { chat: { id: 'g2', type: 'group', members: [member('x'), member('b1', 'admin')] }, files: ['gone'] },
      ],
    });
    const effects = planDeletion(s).effects;
    expect(effects).toContainEqual({ kind: 'file-handed-over', rule: 'F1', fileId: 'kept', organizationId: 'A' });
    expect(effects).toContainEqual({ kind: 'file-deleted', rule: 'F1', fileId: 'gone' });
  });
});

describe('D6 — tasks', () => {
  it('D6: tasks assigned to the user are deleted; a task in a deleted chat is listed once, under the chat’s rule', () => {
    const s = slice({
      orgs,
      subject: x,
      users: [b1],
      chats: [{ chat: { id: 'my', type: 'my', members: [member('x', 'admin')] } }],
      assignedTasks: [
        { id: 't1', chatId: 'g', assigneeId: 'x', requesterId: 'b1' },
        { id: 't2', chatId: 'my', assigneeId: 'x', requesterId: 'x' },
      ],
      contents: { my: { fileIds: [], taskIds: ['t2'] } },
    });
    const tasks = planDeletion(s).effects.filter((e) => e.kind === 'task-deleted');
    expect(tasks).toEqual([
      { kind: 'task-deleted', rule: 'D6', taskId: 't1' },
      { kind: 'task-deleted', rule: 'D3', taskId: 't2' },
    ]);
  });
});

describe('F3 — a cancelled contract deletes every file the organization’s users uploaded', () => {
  it('F3: in a bulk run, files are deleted even where a member of the same organization stays', () => {
    const s = slice({
      orgs,
      subject: x,
      users: [a2],
      chats: [{ chat: { id: 'g', type: 'group', members: [member('x'), member('a2', 'admin')] }, files: ['f'] }],
    });
    expect(planDeletion(s, { contractCancelled: true }).effects).toContainEqual({ kind: 'file-deleted', rule: 'F3', fileId: 'f' });
    expect(kinds(planDeletion(s, { contractCancelled: true }).effects)).not.toContain('file-handed-over');
  });
});
