import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/constructs/offboard-function.js';
import {
  AFFECTED_DETAIL_TYPE,
  affectedPeople,
  batchAffectedEvents,
  OPERATION_DETAIL_TYPES,
  RUN_DETAIL_TYPES,
  transitionEvents,
} from '../../functions/services/events.js';
import { entrySize, PUT_EVENTS_MAX_ENTRIES, PUT_EVENTS_MAX_ENTRY_BYTES, requestChunks } from '../../functions/store/event-bus.js';
import { BATCH_SIZE } from '../../functions/services/bulk-run.js';
import { TRANSITIONS, type TransitionName } from '../../functions/domain/lifecycle/operation.js';
import type { Effect } from '../../functions/domain/impact.js';
import type { OperationRecord } from '../../functions/store/operations.js';

/** docs/EVENTS.md: the event catalogue, who is told what, and the bounds of PutEvents (issue 22). */
const schemas = readdirSync(path.join(REPO_ROOT, 'docs', 'events'))
  .filter((f) => f !== 'common.schema.json')
  .map((f) => JSON.parse(readFileSync(path.join(REPO_ROOT, 'docs', 'events', f), 'utf8')).title as string);
const doc = readFileSync(path.join(REPO_ROOT, 'docs', 'EVENTS.md'), 'utf8');

describe('event catalogue (docs/EVENTS.md, docs/events/*.schema.json)', () => {
  const all = [
    ...new Set([
      ...Object.values(OPERATION_DETAIL_TYPES.transfer),
      ...Object.values(OPERATION_DETAIL_TYPES.deletion),
      ...Object.values(RUN_DETAIL_TYPES),
      AFFECTED_DETAIL_TYPE,
    ]),
  ];
  it('one JSON Schema per detail-type, no other, and EVENTS.md names each', () => {
    expect([...schemas].sort()).toEqual([...all].sort());
    for (const t of all) expect(doc, t).toContain(`\`${t}\``);
  });
  it('every lifecycle transition of domain/lifecycle/operation.ts has its detail-type for each operation it applies to', () => {
    for (const [name, rule] of Object.entries(TRANSITIONS) as [TransitionName, (typeof TRANSITIONS)[TransitionName]][]) {
      for (const op of rule.operations) expect((OPERATION_DETAIL_TYPES[op] as Record<string, string>)[name], `${op} ${name}`).toBeDefined();
    }
  });
});

const op = (over: Partial<OperationRecord> = {}): OperationRecord => ({
  id: 'del-1',
  operation: 'deletion',
  userId: 'u0',
  organizationId: 'O',
  status: 'awaiting-approval',
  requestedBy: 'admin',
  createdAt: '2026-11-01T00:00:00.000Z',
  updatedAt: '2026-11-01T00:00:00.000Z',
  runCount: 0,
  ...over,
});

describe('Affected: who is told what (docs/EVENTS.md)', () => {
  it('a broken contact is told to both sides, a grant to each member made administrator; what names no person to the operation’s user', () => {
    const effects: Effect[] = [
      { kind: 'contact-removed', rule: 'D4', userIds: ['u0', 'b1'] },
      { kind: 'admin-granted', rule: 'D5', chatId: 'g1', userIds: ['c1', 'c2'] },
      { kind: 'chat-left', rule: 'T8', chatId: 'g2', userId: 'u0' },
      { kind: 'chat-frozen', rule: 'D4', chatId: 'dm' },
      { kind: 'file-deleted', rule: 'F2', fileId: 'f1' },
      { kind: 'user-deleted', rule: 'D2', userId: 'u0' },
    ];
    const people = affectedPeople(
      'u0',
      effects.map((effect) => ({ effect, ...(effect.kind === 'file-deleted' ? { chatId: 'dm' } : {}) })),
    );
    expect(Object.fromEntries(people)).toEqual({
      u0: [
        { kind: 'contact-removed', rule: 'D4', withUserId: 'b1' },
        { kind: 'chat-left', rule: 'T8', chatId: 'g2' },
        { kind: 'chat-frozen', rule: 'D4', chatId: 'dm' },
        { kind: 'file-deleted', rule: 'F2', fileId: 'f1', chatId: 'dm' },
        { kind: 'user-deleted', rule: 'D2' },
      ],
      b1: [{ kind: 'contact-removed', rule: 'D4', withUserId: 'u0' }],
      c1: [{ kind: 'admin-granted', rule: 'D5', chatId: 'g1' }],
      c2: [{ kind: 'admin-granted', rule: 'D5', chatId: 'g1' }],
    });
  });

  it('bounded: 10,000 contacts broken give one lifecycle event, one Affected per member and the user’s split in parts, each entry under 256 KB', async () => {
    const entries = Array.from({ length: 10_000 }, (_, i) => ({
      effect: { kind: 'contact-removed', rule: 'D4', userIds: ['u0', `member-${String(i).padStart(5, '0')}`] } as Effect,
    }));
    const events = await transitionEvents({ op: op(), name: 'request-deletion', from: null, entries });
    const affected = events.filter((e) => e.detailType === 'Affected');
    const subject = affected.filter((e) => e.detail.affectedUserId === 'u0');
    expect(subject.length).toBeGreaterThan(1); // 10,000 effects do not fit one entry
    expect(subject.flatMap((e) => e.detail.effects as unknown[])).toHaveLength(10_000);
    expect(subject.map((e) => e.detail.part)).toEqual(subject.map((_, n) => ({ n: n + 1, of: subject.length })));
    expect(affected.length - subject.length).toBe(10_000);
    for (const e of events)
      expect(entrySize(e, 'offboard-operations'), String(e.detail.id)).toBeLessThanOrEqual(PUT_EVENTS_MAX_ENTRY_BYTES);
    expect(new Set(events.map((e) => e.detail.id)).size).toBe(events.length);
    expect(events.length).toBe(1 + 10_000 + subject.length);
    expect(events[0]).toMatchObject({
      detailType: 'Deletion Requested',
      detail: { effectCount: 10_000, counts: [{ kind: 'contact-removed', rule: 'D4', count: 10_000 }] },
    });
  });

  it('a transition that is not a request or an application tells no one; a transfer’s request says "when" null (until approved), a scheduled deletion its purge date', async () => {
    const entries = [{ effect: { kind: 'contact-removed', rule: 'T7', userIds: ['u0', 'b1'] } as Effect }];
    expect(
      (await transitionEvents({ op: op({ status: 'running' }), name: 'start', from: 'awaiting-approval', entries })).map(
        (e) => e.detailType,
      ),
    ).toEqual(['Deletion Started']);
    const transfer = await transitionEvents({
      op: op({ id: 'tr-1', operation: 'transfer', organizationId: undefined, sourceOrganizationId: 'A', destinationOrganizationId: 'C' }),
      name: 'request',
      from: null,
      entries,
    });
    expect(transfer.filter((e) => e.detailType === 'Affected').map((e) => e.detail.when)).toEqual([null, null]);
    const scheduled = await transitionEvents({
      op: op({ status: 'scheduled', purgeAt: '2026-11-08T00:00:00.000Z' }),
      name: 'schedule',
      from: null,
      entries,
    });
    expect(scheduled.filter((e) => e.detailType === 'Affected').map((e) => e.detail.when)).toEqual([
      '2026-11-08T00:00:00.000Z',
      '2026-11-08T00:00:00.000Z',
    ]);
  });

  it('B1: a 10,000-member cancellation: one Affected per person a batch names (members, their contacts, members made administrators), PutEvents of at most 10 entries and 256 KB', () => {
    const run = 'run-1';
    let events = 0;
    let requests = 0;
    const people = new Set<string>();
    for (let n = 0; n < 10_000 / BATCH_SIZE; n++) {
      const members = Array.from({ length: BATCH_SIZE }, (_, i) => `m${n * BATCH_SIZE + i}`);
      // each member: deleted, 3 contacts outside (one shared by all of the batch), a group left, a grant to a colleague, a file
      const applied = members.flatMap((m, k) => {
        const i = n * BATCH_SIZE + k;
        return [
          { effect: { kind: 'user-deleted', rule: 'D2', userId: m } as Effect },
          ...[`x${i}`, `y${i}`, 'everyone'].map((c) => ({ effect: { kind: 'contact-removed', rule: 'D4', userIds: [m, c] } as Effect })),
          { effect: { kind: 'chat-left', rule: 'D5', chatId: `g${n}`, userId: m } as Effect },
          { effect: { kind: 'admin-granted', rule: 'D5', chatId: `g${i}`, userIds: [`x${i}`] } as Effect },
          { effect: { kind: 'file-deleted', rule: 'F2', fileId: `f${m}` } as Effect, chatId: `g${n}` },
        ];
      });
      const out = batchAffectedEvents({ runId: run, id: `${run}.b${n}`, n, attempt: 0, organizationId: 'O', userIds: members }, applied);
      const told = new Set(out.map((e) => e.detail.affectedUserId as string));
      expect(told.size).toBe(BATCH_SIZE * 3 + 1); // the members, their own contacts, and the one they share
      for (const m of members)
        expect(out.find((e) => e.detail.affectedUserId === m)!.detail).toMatchObject({
          subject: true,
          runId: run,
          batch: n,
          phase: 'applied',
        });
      expect(out.flatMap((e) => e.detail.effects as { kind: string }[]).some((e) => e.kind === 'file-deleted')).toBe(false); // names no person
      const everyone = out.filter((e) => e.detail.affectedUserId === 'everyone');
      expect(everyone.flatMap((e) => e.detail.effects as unknown[])).toHaveLength(BATCH_SIZE);
      const chunks = requestChunks(out, 'offboard-operations');
      for (const c of chunks) {
        expect(c.length).toBeLessThanOrEqual(PUT_EVENTS_MAX_ENTRIES);
        expect(c.reduce((b, e) => b + entrySize(e, 'offboard-operations'), 0)).toBeLessThanOrEqual(PUT_EVENTS_MAX_ENTRY_BYTES);
      }
      expect(chunks.flat()).toEqual(out);
      out.forEach((e) => people.add(e.detail.affectedUserId as string));
      events += out.length;
      requests += chunks.length;
    }
    // bounded: about one event per person told in each batch, about a tenth of that in requests
    expect(people.size).toBe(10_000 * 3 + 1);
    expect(events).toBeLessThanOrEqual(people.size + 20 * 2);
    expect(requests).toBeLessThanOrEqual(Math.ceil(events / PUT_EVENTS_MAX_ENTRIES) + 20 * 2);
  });

  it('PutEvents requests: a request closes at 10 entries or before its entries pass 256 KB together', () => {
    const entry = (bytes: number) => ({ source: 'offboard', detailType: 'Affected', detail: { id: 'x', pad: 'p'.repeat(bytes) } });
    expect(
      requestChunks(
        Array.from({ length: 25 }, () => entry(10)),
        'bus',
      ).map((c) => c.length),
    ).toEqual([10, 10, 5]);
    expect(requestChunks([entry(200_000), entry(100_000), entry(100_000), entry(70_000)], 'bus').map((c) => c.length)).toEqual([1, 2, 1]);
  });
});
