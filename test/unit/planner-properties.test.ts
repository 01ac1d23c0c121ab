import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mayCommunicate } from '../../functions/domain/communication.js';
import { mergeEffects, type Effect } from '../../functions/domain/impact.js';
import type { Organization, User } from '../../functions/domain/model.js';
import { deletedChatIds, planDeletion, planTransfer, type PlanSlice } from '../../functions/domain/planner.js';
import { inheritedExemptions } from '../../functions/domain/security.js';
import { member, org, slice, user, type SliceSpec } from './world-builder.js';

/**
 * Properties of the planner over small random worlds (fast-check): each invariant is a rule, checked on every world
 * the generator can build: three organizations (random restrictions and allowances), up to eight other users
 * (random organizations, exemptions and status), random contacts, group and direct chats, roles, posts and files.
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
    others: fc.array(fc.record({ org: fc.constantFrom(...ORGS), exempt: fc.boolean(), deleted: fc.boolean() }), {
      minLength: 1,
      maxLength: 8,
    }),
    groups: fc.array(
      fc.record({
        members: fc.array(fc.nat(7), { maxLength: 5 }),
        subjectAdmin: fc.boolean(),
        admins: fc.array(fc.nat(7), { maxLength: 2 }),
        files: fc.nat(2),
      }),
      { maxLength: 5 },
    ),
    directs: fc.array(fc.record({ with: fc.nat(7), posts: fc.boolean() }), { maxLength: 3 }),
    contacts: fc.array(fc.nat(7), { maxLength: 6 }),
  })
  .map((w): SliceSpec & { orgs: Organization[] } => {
    const orgs = ORGS.map((id, i) => org(id, { restrictOutsideCommunication: w.restrict[i]! }));
    const subject = user('s', 'A');
    const users = w.others.map((o, i) =>
      user(`u${i}`, o.org, {
        allowOutsideCommunication: o.exempt,
        ...(o.deleted ? { status: 'deleted' as const, deletedAt: '2026-01-01T00:00:00Z' } : {}),
      }),
    );
    const pick = (n: number) => users[n % users.length]!.id;
    const chats: NonNullable<SliceSpec['chats']> = [];
    w.groups.forEach((g, i) => {
      const ids = [...new Set(g.members.map(pick))];
      const admins = new Set(g.admins.map(pick));
      chats.push({
        chat: {
          id: `g${i}`,
          type: 'group',
          members: [member('s', g.subjectAdmin ? 'admin' : 'member'), ...ids.map((id) => member(id, admins.has(id) ? 'admin' : 'member'))],
        },
        files: Array.from({ length: g.files }, (_, f) => `f-g${i}-${f}`),
      });
    });
    [...new Map(w.directs.map((d) => [pick(d.with), d])).values()].forEach((d, i) => {
      chats.push({
        chat: { id: `d${i}`, type: 'direct', members: [member('s', 'admin'), member(pick(d.with), 'admin')] },
        hasMessages: d.posts,
        files: d.posts ? [`f-d${i}`] : [],
      });
    });
    chats.push({ chat: { id: 'my', type: 'my', members: [member('s', 'admin')] } });
    const contacts = [...new Set(w.contacts.map(pick))].filter((id) => users.find((u) => u.id === id)!.status === 'active').sort();
    return { subject, users, orgs, allowances: w.allowances, contacts, chats };
  });

const byKind = <K extends Effect['kind']>(effects: Effect[], kind: K) =>
  effects.filter((e): e is Extract<Effect, { kind: K }> => e.kind === kind);

/** The same plan made in passes, as the store plans a large user: chats in two halves, then contacts, then tasks. */
function inPasses(s: PlanSlice, plan: (s: PlanSlice) => { effects: Effect[] }): Effect[] {
  const half = Math.ceil(s.chats.length / 2);
  const parts = [s.chats.slice(0, half), s.chats.slice(half)];
  const effects: Effect[] = [];
  const deleted = new Set<string>();
  for (const chats of parts) {
    const first = plan({ ...s, chats, contacts: [], assignedTasks: [] });
    for (const id of deletedChatIds(first)) deleted.add(id);
    effects.push(...first.effects);
  }
  effects.push(...plan({ ...s, chats: [], assignedTasks: [] }).effects);
  effects.push(...plan({ ...s, chats: [], contacts: [], deletedChatIds: deleted }).effects);
  return mergeEffects(effects);
}

const destination = (spec: { orgs: Organization[] }) => spec.orgs.find((o) => o.id === 'C')!;

describe('planner properties (fast-check)', () => {
  it('G2, D5: after a deletion, every group chat left with active members has an administrator', () => {
    fc.assert(
      fc.property(worldArb, (spec) => {
        const s = slice(spec);
        const effects = planDeletion(s).effects;
        for (const view of s.chats.filter((v) => v.chat.type === 'group')) {
          if (byKind(effects, 'chat-deleted').some((e) => e.chatId === view.chat.id)) continue;
          const remaining = view.chat.members.filter((m) => m.userId !== 's' && s.users.get(m.userId)?.status === 'active');
          if (remaining.length === 0) continue;
          const granted = new Set(
            byKind(effects, 'admin-granted')
              .filter((e) => e.chatId === view.chat.id)
              .flatMap((e) => e.userIds),
          );
          expect(
            remaining.some((m) => m.role === 'admin' || granted.has(m.userId)),
            view.chat.id,
          ).toBe(true);
        }
      }),
    );
  });

  it("F1: a deleted user's file is handed over exactly when a member of its organization stays, deleted otherwise", () => {
    fc.assert(
      fc.property(worldArb, (spec) => {
        const s = slice(spec);
        const effects = planDeletion(s).effects;
        for (const view of s.chats) {
          if (byKind(effects, 'chat-deleted').some((e) => e.chatId === view.chat.id)) continue; // F2: the chat's contents go with it
          const sameOrgStays = view.chat.members.some(
            (m) => m.userId !== 's' && s.users.get(m.userId)?.status === 'active' && s.users.get(m.userId)?.organizationId === 'A',
          );
          for (const file of view.subjectFiles) {
            const handed = byKind(effects, 'file-handed-over').some((e) => e.fileId === file.id && e.organizationId === 'A');
            const deleted = byKind(effects, 'file-deleted').some((e) => e.fileId === file.id);
            expect(handed, file.id).toBe(sameOrgStays);
            expect(deleted, file.id).toBe(!sameOrgStays);
          }
        }
      }),
    );
  });

  it('T7, C1, C2: a transfer removes a contact exactly when the moved user and the contact may no longer communicate', () => {
    fc.assert(
      fc.property(worldArb, (spec) => {
        const s = slice(spec);
        const dest = destination(spec);
        const effects = planTransfer(s, dest).effects;
        const moved: User = { ...s.subject, organizationId: dest.id, ...inheritedExemptions(dest) };
        const comm = { organizations: s.comm.organizations, allowances: s.comm.allowances };
        for (const contact of s.contacts) {
          const other = s.users.get(contact)!;
          const removed = byKind(effects, 'contact-removed').some((e) => e.userIds.includes(contact));
          expect(removed, contact).toBe(other.status === 'active' && !mayCommunicate(comm, moved, other));
        }
      }),
    );
  });

  it('D4: a deletion removes every contact of the user', () => {
    fc.assert(
      fc.property(worldArb, (spec) => {
        const s = slice(spec);
        expect(byKind(planDeletion(s).effects, 'contact-removed').length).toBe(s.contacts.length);
      }),
    );
  });

  it('X1: preview and run give the same effects on the same data, whatever order the chats are read in', () => {
    fc.assert(
      fc.property(worldArb, fc.boolean(), (spec, transfer) => {
        const s = slice(spec);
        const plan = (x: PlanSlice) => (transfer ? planTransfer(x, destination(spec)) : planDeletion(x));
        expect(plan({ ...s, chats: [...s.chats].reverse(), contacts: [...s.contacts].reverse() }).effects).toEqual(plan(s).effects);
      }),
    );
  });

  it('X1 at size: a plan made in passes (chats in pages, then contacts, then tasks) equals the plan made at once', () => {
    fc.assert(
      fc.property(worldArb, fc.boolean(), (spec, transfer) => {
        const s = slice(spec);
        const plan = (x: PlanSlice) => (transfer ? planTransfer(x, destination(spec)) : planDeletion(x));
        expect(inPasses(s, plan)).toEqual(plan(s).effects);
      }),
    );
  });
});
