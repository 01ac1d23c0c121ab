import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { billingEvent, demoWorld, openTarget, type Target } from './harness.js';
import { fileObjectKey } from '../../functions/store/keys.js';

/**
 * A model-based test of the operation lifecycle (O1, O2, O3, T3, T4, D1, D7, B1, B4): random interleavings of
 * requests, approvals, cancellations, injected step failures, resumptions, transfers of the same users, billing events
 * (contract cancelled and reinstated, seats, plan) and clock moves, through the real handlers and state machines on the emulators, over small random worlds (the
 * demo world with random seats, plans and grace periods). After every sequence:
 * - every user, chat, file (record and bytes), contact and task that is gone, and every user that moved, is an effect of the stored
 *   plan of an operation that applied effects, and each deleted or moved user was in that operation's organization
 *   (O1: a plan applies only while its premises hold), or belongs to a cancelled organization's members as they were
 *   (B1, F3), and a member deleted by a contract cancellation was still a member of that organization (O3);
 * - once every failed operation that may still be resumed was resumed (O2), `world check` is clean (no lock held by
 *   an operation that is not running or waiting, among its invariants) but for users of failed operations that may
 *   no longer be resumed.
 * `MODEL_RUNS` sets the number of sequences (default 10 in `npm test`); the figures are printed. A failure is replayed
 * with `MODEL_SEED` and `MODEL_PATH` from its report (`MODEL_VERBOSE=1` prints each command and its answer).
 */
let target: Target;
beforeAll(async () => {
  target = await openTarget();
}, 120_000);
afterAll(async () => target?.close());

const MEMBERS = ['a1', 'a2', 'a3', 'old1', 'b1', 'b2', 'c1', 'd1', 'd2'] as const;
const ORGS = ['A', 'B', 'C', 'D'] as const;
/** Where a run can fail: a step before it writes, or the Apply step part way (before its first contact or chat-member write). */
const FAULT_POINTS = [
  { fn: 'plan-impact', when: 'before' },
  { fn: 'apply', when: 'before' },
  { fn: 'apply', when: 'mid', atWrite: '"SK":"CONTACT#' },
  { fn: 'apply', when: 'mid', atWrite: '"SK":"MEMBER#' },
  { fn: 'finalize', when: 'before' },
] as const;

type Cmd =
  | { t: 'delete'; user: string }
  | { t: 'transfer'; user: string; to: string }
  | { t: 'approve' | 'cancel' | 'resume'; k: number; side: 0 | 1 }
  | { t: 'fault'; step: number }
  | { t: 'seats'; org: string; seats: number }
  | { t: 'plan'; org: string; plan: 'business' | 'enterprise' | 'free' }
  | { t: 'clock'; days: number }
  | { t: 'contract'; org: string; event: 'Contract Cancelled' | 'Contract Reinstated' };

const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ t: fc.constant('delete' as const), user: fc.constantFrom(...MEMBERS) }) },
  {
    weight: 3,
    arbitrary: fc.record({ t: fc.constant('transfer' as const), user: fc.constantFrom(...MEMBERS), to: fc.constantFrom(...ORGS) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constantFrom('approve' as const, 'cancel' as const, 'resume' as const),
      k: fc.nat(20),
      side: fc.constantFrom(0 as const, 1 as const),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('fault' as const), step: fc.nat(FAULT_POINTS.length - 1) }) },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('seats' as const), org: fc.constantFrom(...ORGS), seats: fc.integer({ min: 2, max: 6 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('plan' as const),
      org: fc.constantFrom(...ORGS),
      plan: fc.constantFrom('business' as const, 'enterprise' as const, 'free' as const),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('clock' as const), days: fc.constantFrom(1, 3, 8) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('contract' as const),
      org: fc.constantFrom('B', 'C', 'D'),
      event: fc.constantFrom('Contract Cancelled' as const, 'Contract Reinstated' as const),
    }),
  },
);
const worldArb = fc.record({
  seatsD: fc.integer({ min: 3, max: 5 }),
  graceA: fc.constantFrom(0, 0, 2),
  planC: fc.constantFrom('business', 'enterprise'),
});

const ADMIN: Record<string, string> = { A: 'adminA', B: 'adminB', C: 'adminC', D: 'adminD', F: 'adminF' };
// 401: an administrator deleted by a contract cancellation (B1) signs in no more (D2)
const ANSWERS = [200, 201, 202, 401, 403, 404, 409, 422];

interface Op {
  id: string;
  kind: 'transfer' | 'deletion';
  source: string;
  destination?: string;
}

async function run(commands: Cmd[], ops: Op[], cancelled: Set<string>): Promise<void> {
  for (const c of commands) {
    const now = await target.export();
    const org = (u: string) => now.users.find((x: any) => x.id === u)?.organizationId as string | undefined;
    let answer: { status: number; body: any } | undefined;
    switch (c.t) {
      case 'delete': {
        const o = org(c.user);
        if (!o) continue;
        answer = await target.call('POST', '/deletions', { as: ADMIN[o]!, body: { userId: c.user } });
        if (answer.status === 202) ops.push({ id: answer.body.id, kind: 'deletion', source: o });
        break;
      }
      case 'transfer': {
        const o = org(c.user);
        if (!o) continue;
        answer = await target.call('POST', '/transfers', { as: ADMIN[o]!, body: { userId: c.user, destinationOrganizationId: c.to } });
        if (answer.status === 201) ops.push({ id: answer.body.id, kind: 'transfer', source: o, destination: c.to });
        break;
      }
      case 'approve':
      case 'cancel':
      case 'resume': {
        const op = ops[c.k % Math.max(1, ops.length)];
        if (!op) continue;
        const by = op.kind === 'transfer' && (c.t === 'approve' || (c.t === 'cancel' && c.side === 1)) ? op.destination! : op.source;
        const route = c.t === 'approve' ? 'approval' : c.t === 'cancel' ? 'cancellation' : 'resumption';
        answer = await target.call('POST', `/${op.kind}s/${op.id}/${route}`, { as: ADMIN[by]! });
        break;
      }
      case 'fault':
        {
          const point = FAULT_POINTS[c.step]!;
          await target.fault(point.fn, {
            times: 1,
            when: point.when,
            error: point.when === 'mid' ? 'Sandbox.Timedout' : 'AccessDeniedException',
            ...('atWrite' in point ? { atWrite: point.atWrite } : {}),
          });
        }
        break;
      case 'seats': {
        // never below the members there (fewer seats than members is the customer's business, not an operation's)
        const members = now.users.filter((u: any) => u.organizationId === c.org && u.status !== 'deleted').length;
        await target.billing(billingEvent('Seats Changed', { organizationId: c.org, seats: Math.max(c.seats, members) }));
        break;
      }
      case 'plan':
        await target.billing(billingEvent('Plan Changed', { organizationId: c.org, plan: c.plan }));
        break;
      case 'clock':
        await target.clock({ advanceMs: c.days * 24 * 3600 * 1000 });
        break;
      case 'contract':
        // B1 (under the stack's threshold of 500 members, so it runs at once), or B4's reinstatement
        await target.billing(billingEvent(c.event, { organizationId: c.org }));
        if (c.event === 'Contract Cancelled') cancelled.add(c.org);
        break;
    }
    if (process.env.MODEL_VERBOSE)
      console.log(JSON.stringify(c), answer?.status, JSON.stringify(answer?.body?.error ?? answer?.body?.status));
    if (answer) expect(ANSWERS, `${JSON.stringify(c)} → ${answer.status} ${JSON.stringify(answer.body)}`).toContain(answer.status);
    await target.call('POST', '/_local/idle');
  }
  for (const fn of new Set(FAULT_POINTS.map((p) => p.fn))) await target.fault(fn);
  await target.call('POST', '/_local/idle');
}

/**
 * Resumes every failed operation that may still be resumed (O2), by who may; answers the users of those that may not
 * (past their 7 days, or a premise broken): a failed deletion may leave such a user half-deleted, which is what O2
 * allows (its administrators were told, and may only cancel it now).
 */
async function drain(ops: Op[]): Promise<Set<string>> {
  const stuck = new Set<string>();
  for (let round = 0; round < 3; round++) {
    let resumed = 0;
    stuck.clear();
    for (const op of ops) {
      const as = ADMIN[op.source]!;
      const view = (await target.call('GET', `/${op.kind}s/${op.id}`, { as })).body;
      // O2 lets a failed operation be cancelled even after its first effect: what it had left stays undone (its
      // trail says what), as for one that may no longer be resumed
      if (view.status === 'cancelled') {
        const trail = (await target.call('GET', `/operations/${op.id}/audit`, { as })).body.entries ?? [];
        if (trail.some((e: any) => e.event === 'applied')) stuck.add(view.userId);
      }
      if (view.status !== 'failed') continue;
      const answer = await target.call('POST', `/${op.kind}s/${op.id}/resumption`, { as });
      if (answer.status === 202) resumed++;
      else stuck.add(view.userId);
    }
    await target.call('POST', '/_local/idle');
    if (resumed === 0) break;
  }
  return stuck;
}

/** Every effect of the stored plans of the operations that applied anything, with the operation. */
async function appliedEffects(ops: Op[]): Promise<{ op: Op & { organizationId?: string }; effect: any }[]> {
  const out: { op: Op; effect: any }[] = [];
  for (const op of ops) {
    const as = ADMIN[op.source]!;
    const trail = (await target.call('GET', `/operations/${op.id}/audit`, { as })).body.entries ?? [];
    if (!trail.some((e: any) => e.event === 'applied')) continue;
    let cursor: string | undefined;
    do {
      const page = (await target.call('GET', `/${op.kind}s/${op.id}/effects${cursor ? `?cursor=${cursor}` : ''}`, { as })).body;
      for (const effect of page.effects) out.push({ op, effect });
      cursor = page.nextCursor;
    } while (cursor);
  }
  return out;
}

const key = (...parts: string[]) => parts.join('|');

it('O1, O2, O3: random interleavings of requests, approvals, cancellations, faults, resumptions, billing events and clock moves never remove or move anything outside an applied plan', async (ctx) => {
  if (!target.canInjectFaults) ctx.skip();
  const runs = Number(process.env.MODEL_RUNS ?? 10);
  let steps = 0;
  await fc.assert(
    fc.asyncProperty(worldArb, fc.array(cmd, { minLength: 4, maxLength: 10 }), async (shape, commands) => {
      const world = demoWorld();
      for (const o of world.organizations) {
        if (o.id === 'D') o.seats = shape.seatsD;
        if (o.id === 'A') o.deletionGraceDays = shape.graceA;
        if (o.id === 'C') o.plan = shape.planC;
      }
      await target.load(world);
      const before = await target.export();
      const objectsBefore = new Set(await target.objectKeys());
      const ops: Op[] = [];
      const cancelled = new Set<string>(); // organizations whose contract was cancelled (B1 deletes their members)
      await run(commands, ops, cancelled);
      steps += commands.length;
      const stuck = await drain(ops);
      const after = await target.export();
      expect((await target.check()).filter((p) => !p.ids.some((id) => stuck.has(id)))).toEqual([]);

      const effects = await appliedEffects(ops);
      const has = (kind: string, pred: (e: any) => boolean) => effects.filter((x) => x.effect.kind === kind && pred(x.effect));
      for (const u of after.users) {
        const was = before.users.find((x: any) => x.id === u.id);
        if (u.status === 'deleted' && was.status !== 'deleted') {
          // deleted by a deletion of that user planned in the organization it was a member of (O1), or by the
          // contract cancellation of the organization it was still a member of (B1, O3: never one it had left)
          const by = has('user-deleted', (e) => e.userId === u.id).filter(
            (x) => x.op.kind === 'deletion' && x.op.source === u.organizationId,
          );
          expect(
            by.length > 0 || cancelled.has(u.organizationId),
            `user ${u.id} deleted by no applied plan of its organization ${u.organizationId}`,
          ).toBe(true);
        } else if (u.organizationId !== was.organizationId) {
          const by = has('membership-changed', (e) => e.userId === u.id && e.toOrganizationId === u.organizationId);
          expect(by.length, `user ${u.id} moved to ${u.organizationId} by no applied plan`).toBeGreaterThan(0);
        }
      }
      // B1, F3: what a cancelled organization's run removes is about its members (as they were before) and its files
      const orgBefore = new Map<string, string>(before.users.map((u: any) => [u.id, u.organizationId]));
      const ofCancelled = (userId: string) =>
        cancelled.has(orgBefore.get(userId) ?? '') && after.users.some((u: any) => u.id === userId && u.status === 'deleted');
      const chatsDeleted = new Set([
        ...has('chat-deleted', () => true).map((x) => x.effect.chatId),
        ...before.chats.filter((c: any) => c.members.some((m: any) => ofCancelled(m.userId))).map((c: any) => c.id),
      ]);
      for (const c of before.chats)
        if (!after.chats.some((x: any) => x.id === c.id)) expect(chatsDeleted.has(c.id), `chat ${c.id} gone`).toBe(true);
      const filesDeleted = new Set([
        ...has('file-deleted', () => true).map((x) => x.effect.fileId),
        ...before.files.filter((f: any) => ofCancelled(f.uploaderId) || cancelled.has(f.ownerOrganizationId ?? '')).map((f: any) => f.id),
      ]);
      for (const f of before.files) {
        if (!after.files.some((x: any) => x.id === f.id))
          expect(filesDeleted.has(f.id) || chatsDeleted.has(f.chatId), `file ${f.id} gone`).toBe(true);
      }
      // the bytes too: an object gone is a file an applied plan deleted (F4), never another one (O4)
      const objectsAfter = new Set(await target.objectKeys());
      for (const f of before.files) {
        const k = fileObjectKey(f.chatId, f.id);
        if (objectsBefore.has(k) && !objectsAfter.has(k))
          expect(filesDeleted.has(f.id) || chatsDeleted.has(f.chatId), `object of file ${f.id} gone`).toBe(true);
      }
      const tasksDeleted = new Set([
        ...has('task-deleted', () => true).map((x) => x.effect.taskId),
        ...before.tasks.filter((t: any) => ofCancelled(t.assigneeId)).map((t: any) => t.id),
      ]);
      for (const t of before.tasks) {
        if (!after.tasks.some((x: any) => x.id === t.id))
          expect(tasksDeleted.has(t.id) || chatsDeleted.has(t.chatId), `task ${t.id} gone`).toBe(true);
      }
      const contactsRemoved = new Set([
        ...has('contact-removed', () => true).map((x) => key(...[...x.effect.userIds].sort())),
        ...before.contacts.filter((p: any) => p.some(ofCancelled)).map((p: any) => key(...[...p].sort())),
      ]);
      for (const pair of before.contacts) {
        const k = key(...[...pair].sort());
        if (!after.contacts.some((p: any) => key(...[...p].sort()) === k)) expect(contactsRemoved.has(k), `contact ${k} gone`).toBe(true);
      }
    }),
    {
      numRuns: runs,
      endOnFailure: true,
      // the suite replays one fixed seed, so a red run names a change, not a draw; MODEL_SEED=random explores new
      // sequences (seed 1891317767, path 4 found B1 counting a member done whose own deletion had failed after
      // user-deleted landed; cancellation-guard.test.ts keeps that case)
      ...(process.env.MODEL_SEED === 'random'
        ? {}
        : { seed: Number(process.env.MODEL_SEED ?? 20261202), ...(process.env.MODEL_PATH ? { path: process.env.MODEL_PATH } : {}) }),
    },
  );
  console.log(`lifecycle model: ${runs} sequences, ${steps} steps`);
}, 1_800_000);
