import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mayCommunicate } from '../../functions/domain/communication.js';
import { mergeEffects, type Effect } from '../../functions/domain/impact.js';
import type { Organization, Task, User } from '../../functions/domain/model.js';
import { chatsWithSuccessor, deletedChatIds, planDeletion, planTransfer, type PlanSlice } from '../../functions/domain/planner.js';
import { member, org, slice, user, type SliceSpec } from './world-builder.js';

/** X3: the successor in the pure planner, by example and as properties over small random worlds (fast-check). */

const A = org('A');
const B = org('B', { restrictOutsideCommunication: true });
const C = org('C');
const orgs = [A, B, C];
const x = user('x', 'A');
const heir = user('heir', 'A');
const a2 = user('a2', 'A');
const b1 = user('b1', 'B');
const c1 = user('c1', 'C');

const of = <K extends Effect['kind']>(effects: Effect[], kind: K) =>
  effects.filter((e): e is Extract<Effect, { kind: K }> => e.kind === kind);

describe('X3 — a successor takes over the chats the user leaves', () => {
  it("X3, F1: the seed's advice: the successor joins the group, so the user's files there are handed over, not deleted", () => {
    const s = slice({
      orgs,
      subject: x,
      users: [heir, c1],
      chats: [{ chat: { id: 'g', type: 'group', members: [member('x', 'admin'), member('c1')] }, files: ['f1', 'f2'] }],
    });
    const without = planDeletion(s).effects;
    expect(of(without, 'file-deleted').map((e) => e.fileId)).toEqual(['f1', 'f2']);
    expect(of(without, 'admin-granted')).toEqual([{ kind: 'admin-granted', rule: 'D5', chatId: 'g', userIds: ['c1'] }]);
    const withHeir = planDeletion({ ...s, successor: heir }).effects;
    expect(of(withHeir, 'chat-joined')).toEqual([{ kind: 'chat-joined', rule: 'X3', chatId: 'g', userId: 'heir', role: 'admin' }]);
    expect(of(withHeir, 'file-handed-over').map((e) => e.fileId)).toEqual(['f1', 'f2']);
    expect(of(withHeir, 'file-deleted')).toEqual([]);
    expect(of(withHeir, 'admin-granted')).toEqual([]); // the successor joins as an administrator: no D5 hand-over to everyone
  });

  it('X3, C2: the successor does not join a chat with a member it may not communicate with (B restricts, no allowance)', () => {
    const s = slice({
      orgs,
      subject: user('x', 'A', { allowOutsideCommunication: true }),
      users: [heir, b1, c1],
      chats: [
        { chat: { id: 'g-b', type: 'group', members: [member('x'), member('b1', 'admin')] }, files: ['fb'] },
        { chat: { id: 'g-c', type: 'group', members: [member('x'), member('c1', 'admin')] }, files: ['fc'] },
      ],
    });
    const effects = planDeletion({ ...s, successor: heir }).effects;
    expect(of(effects, 'chat-joined').map((e) => e.chatId)).toEqual(['g-c']);
    expect(of(effects, 'file-deleted').map((e) => e.fileId)).toEqual(['fb']); // F1 as without a successor
    expect(of(effects, 'file-handed-over').map((e) => e.fileId)).toEqual(['fc']);
  });

  it('X3, D3: a group the user was alone in is kept with the successor; My Chat is deleted all the same', () => {
    const s = slice({
      orgs,
      subject: x,
      users: [heir],
      chats: [
        { chat: { id: 'alone', type: 'group', members: [member('x', 'member')] }, files: ['fa'] },
        { chat: { id: 'my', type: 'my', members: [member('x', 'admin')] } },
      ],
      contents: { my: { fileIds: [], taskIds: [] } },
    });
    const effects = planDeletion({ ...s, successor: heir }).effects;
    expect(of(effects, 'chat-deleted').map((e) => e.chatId)).toEqual(['my']);
    expect(of(effects, 'chat-joined')).toEqual([{ kind: 'chat-joined', rule: 'X3', chatId: 'alone', userId: 'heir', role: 'member' }]);
    expect(of(effects, 'file-handed-over').map((e) => e.fileId)).toEqual(['fa']);
  });

  it('X3, D4: direct chats cannot be joined: D4 applies unchanged', () => {
    const s = slice({
      orgs,
      subject: x,
      users: [heir, c1],
      chats: [{ chat: { id: 'd', type: 'direct', members: [member('x', 'admin'), member('c1', 'admin')] }, files: ['fd'] }],
    });
    expect(planDeletion({ ...s, successor: heir }).effects).toEqual(planDeletion(s).effects);
  });

  it('X3, D6: a task assigned to the user in a chat the successor is then in is reassigned; elsewhere it is deleted', () => {
    const task = (id: string, chatId: string): Task => ({ id, chatId, assigneeId: 'x', requesterId: 'c1' });
    const s = slice({
      orgs,
      subject: x,
      users: [heir, a2, b1, c1],
      chats: [
        { chat: { id: 'joins', type: 'group', members: [member('x'), member('c1', 'admin')] } },
        { chat: { id: 'already', type: 'group', members: [member('x'), member('heir', 'admin')] } },
        { chat: { id: 'blocked', type: 'group', members: [member('x'), member('b1', 'admin')] } },
      ],
      assignedTasks: [task('t-joins', 'joins'), task('t-already', 'already'), task('t-blocked', 'blocked')],
    });
    const effects = planDeletion({ ...s, successor: heir }).effects;
    expect(of(effects, 'task-reassigned')).toEqual([
      { kind: 'task-reassigned', rule: 'X3', taskId: 't-already', userId: 'heir' },
      { kind: 'task-reassigned', rule: 'X3', taskId: 't-joins', userId: 'heir' },
    ]);
    expect(of(effects, 'task-deleted')).toEqual([{ kind: 'task-deleted', rule: 'D6', taskId: 't-blocked' }]);
  });

  it("X3, T8, F1: a transfer: the successor joins the groups the user leaves, and the user's files there stay with the source", () => {
    const s = slice({
      orgs,
      subject: x,
      users: [heir, b1],
      allowances: [['A', 'B']],
      chats: [{ chat: { id: 'g', type: 'group', members: [member('x', 'admin'), member('b1')] }, files: ['f'] }],
    });
    const without = planTransfer(s, C).effects;
    expect(of(without, 'chat-left').map((e) => e.chatId)).toEqual(['g']); // T8: b1 may not communicate with x in C
    expect(of(without, 'file-deleted').map((e) => e.fileId)).toEqual(['f']);
    const effects = planTransfer({ ...s, successor: heir }, C).effects;
    expect(of(effects, 'chat-joined')).toEqual([{ kind: 'chat-joined', rule: 'X3', chatId: 'g', userId: 'heir', role: 'admin' }]);
    expect(of(effects, 'file-handed-over')).toEqual([{ kind: 'file-handed-over', rule: 'F1', fileId: 'f', organizationId: 'A' }]);
    expect(of(effects, 'admin-granted')).toEqual([]);
  });
});

/**
 * Random worlds: three organizations (random restrictions and allowances), the subject `s` and its successor `h` in
 * A (random exemption), up to eight others; group chats with random members (the successor among them or not),
 * roles and files; direct chats; tasks assigned to the subject in random chats.
 */
const ORGS = ['A', 'B', 'C'] as const;
const worldArb = fc
  .record({
    restrict: fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()),
    allowances: fc.subarray([
      ['A', 'B'],
      ['A', 'C'],
      ['B', 'C'],
    ] as [string, string][]),
    heirExempt: fc.boolean(),
    others: fc.array(fc.record({ org: fc.constantFrom(...ORGS), exempt: fc.boolean(), deleted: fc.boolean() }), {
      minLength: 1,
      maxLength: 8,
    }),
    groups: fc.array(
      fc.record({
        members: fc.array(fc.nat(7), { maxLength: 4 }),
        heir: fc.boolean(),
        subjectAdmin: fc.boolean(),
        admins: fc.array(fc.nat(7), { maxLength: 2 }),
        files: fc.nat(2),
        tasks: fc.nat(2),
      }),
      { maxLength: 5 },
    ),
    directs: fc.array(fc.record({ with: fc.nat(7), posts: fc.boolean() }), { maxLength: 2 }),
  })
  .map((w): SliceSpec & { heir: User; orgs: Organization[] } => {
    const orgs = ORGS.map((id, i) => org(id, { restrictOutsideCommunication: w.restrict[i]! }));
    const subject = user('s', 'A');
    const heir = user('h', 'A', { allowOutsideCommunication: w.heirExempt });
    const users = w.others.map((o, i) =>
      user(`u${i}`, o.org, {
        allowOutsideCommunication: o.exempt,
        ...(o.deleted ? { status: 'deleted' as const, deletedAt: '2026-01-01T00:00:00Z' } : {}),
      }),
    );
    const pick = (n: number) => users[n % users.length]!.id;
    const chats: NonNullable<SliceSpec['chats']> = [];
    const assignedTasks: Task[] = [];
    w.groups.forEach((g, i) => {
      const ids = [...new Set(g.members.map(pick))];
      const admins = new Set(g.admins.map(pick));
      chats.push({
        chat: {
          id: `g${i}`,
          type: 'group',
          members: [
            member('s', g.subjectAdmin ? 'admin' : 'member'),
            ...(g.heir ? [member('h')] : []),
            ...ids.map((id) => member(id, admins.has(id) ? 'admin' : 'member')),
          ],
        },
        files: Array.from({ length: g.files }, (_, f) => `f-g${i}-${f}`),
      });
      for (let t = 0; t < g.tasks; t++) assignedTasks.push({ id: `t-g${i}-${t}`, chatId: `g${i}`, assigneeId: 's', requesterId: pick(t) });
    });
    [...new Map(w.directs.map((d) => [pick(d.with), d])).values()].forEach((d, i) => {
      chats.push({
        chat: { id: `d${i}`, type: 'direct', members: [member('s', 'admin'), member(pick(d.with), 'admin')] },
        hasMessages: d.posts,
        files: d.posts ? [`f-d${i}`] : [],
      });
    });
    chats.push({ chat: { id: 'my', type: 'my', members: [member('s', 'admin')] } });
    return { subject, heir, users: [heir, ...users], orgs, allowances: w.allowances, chats, assignedTasks };
  });

const destination = (spec: { orgs: Organization[] }) => spec.orgs.find((o) => o.id === 'C')!;
const planOf = (transfer: boolean, spec: { orgs: Organization[] }) => (x: PlanSlice) =>
  transfer ? planTransfer(x, destination(spec)) : planDeletion(x);

/** Which chat or task an effect is about (undefined: about the user or a contact). */
function subjectOf(e: Effect, fileChat: ReadonlyMap<string, string>): string | undefined {
  if ('chatId' in e) return e.chatId;
  if (e.kind === 'file-deleted' || e.kind === 'file-handed-over') return fileChat.get(e.fileId);
  if (e.kind === 'task-deleted' || e.kind === 'task-reassigned') return `task:${e.taskId}`;
  return undefined;
}

describe('X3 — planner properties (fast-check)', () => {
  it('X3, F1: with a successor, no file that F1 would hand over is deleted', () => {
    fc.assert(
      fc.property(worldArb, fc.boolean(), (spec, transfer) => {
        const s = slice(spec);
        const plan = planOf(transfer, spec);
        const handed = of(plan(s).effects, 'file-handed-over').map((e) => e.fileId);
        const withHeir = plan({ ...s, successor: spec.heir }).effects;
        for (const fileId of handed) {
          expect(
            of(withHeir, 'file-deleted').some((e) => e.fileId === fileId),
            fileId,
          ).toBe(false);
          expect(
            of(withHeir, 'file-handed-over').some((e) => e.fileId === fileId),
            fileId,
          ).toBe(true);
        }
      }),
    );
  });

  it('X3, C1, C2: the successor only joins chats where C1/C2 allow it with every other active member, and joins every such group the user leaves', () => {
    fc.assert(
      fc.property(worldArb, fc.boolean(), (spec, transfer) => {
        const s = slice(spec);
        const plan = planOf(transfer, spec);
        const without = plan(s).effects;
        const effects = plan({ ...s, successor: spec.heir }).effects;
        const joined = new Set(of(effects, 'chat-joined').map((e) => e.chatId));
        for (const view of s.chats) {
          const others = view.chat.members.filter(
            (m) => m.userId !== 's' && m.userId !== 'h' && s.users.get(m.userId)!.status !== 'deleted',
          );
          const allowed = others.every((m) => mayCommunicate(s.comm, spec.heir, s.users.get(m.userId)!));
          const left =
            of(without, 'chat-left').some((e) => e.chatId === view.chat.id) ||
            of(without, 'chat-deleted').some((e) => e.chatId === view.chat.id);
          const expected = view.chat.type === 'group' && !view.chat.members.some((m) => m.userId === 'h') && allowed && left;
          expect(joined.has(view.chat.id), view.chat.id).toBe(expected);
        }
        for (const e of of(effects, 'chat-joined')) {
          const subjectRole = s.chats.find((v) => v.chat.id === e.chatId)!.chat.members.find((m) => m.userId === 's')!.role;
          expect(e.role).toBe(subjectRole === 'admin' ? 'admin' : 'member');
        }
      }),
    );
  });

  it("X3: without a successor the plan is today's: the successor changes nothing outside the chats it joins and the tasks it takes, and adds only X3 effects", () => {
    fc.assert(
      fc.property(worldArb, fc.boolean(), (spec, transfer) => {
        const s = slice(spec);
        const plan = planOf(transfer, spec);
        const withHeir = plan({ ...s, successor: spec.heir }).effects;
        const fileChat = new Map(s.chats.flatMap((v) => v.subjectFiles.map((f) => [f.id, v.chat.id] as const)));
        const touched = new Set([
          ...of(withHeir, 'chat-joined').map((e) => e.chatId),
          ...of(withHeir, 'task-reassigned').map((e) => `task:${e.taskId}`),
        ]);
        const outside = (effects: Effect[]) => effects.filter((e) => !touched.has(subjectOf(e, fileChat) ?? ''));
        expect(outside(withHeir)).toEqual(outside(plan(s).effects));
        expect(withHeir.filter((e) => e.kind === 'chat-joined' || e.kind === 'task-reassigned').every((e) => e.rule === 'X3')).toBe(true);
        if (touched.size === 0) expect(withHeir).toEqual(plan(s).effects);
      }),
    );
  });

  it('X3, X1 at size: with a successor, a plan made in passes (chats in pages, then tasks) equals the plan made at once', () => {
    fc.assert(
      fc.property(worldArb, fc.boolean(), (spec, transfer) => {
        const s: PlanSlice = { ...slice(spec), successor: spec.heir };
        const plan = planOf(transfer, spec);
        const half = Math.ceil(s.chats.length / 2);
        const effects: Effect[] = [];
        const deleted = new Set<string>();
        const withSuccessor = new Set<string>();
        for (const chats of [s.chats.slice(0, half), s.chats.slice(half)]) {
          const first = plan({ ...s, chats, assignedTasks: [] });
          deletedChatIds(first).forEach((id) => deleted.add(id));
          chatsWithSuccessor(chats, first, 'h').forEach((id) => withSuccessor.add(id));
          effects.push(...first.effects);
        }
        effects.push(...plan({ ...s, chats: [], deletedChatIds: deleted, successorChatIds: withSuccessor }).effects);
        expect(mergeEffects(effects)).toEqual(plan(s).effects);
      }),
    );
  });
});
