import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeEffectsInChats, mergeSortedRuns, type Effect, type EffectInChat } from '../../functions/domain/impact.js';

/**
 * services/sliced-planning.ts: a plan computed in slices is the merge of each slice's entries (each already merged)
 * and the rest's. For any effects, cut anywhere into runs, the streamed merge must give exactly what one merge of all
 * of them in run order gives: the same entries, in the same order (duplicates across runs once; the same key with
 * another rule or fields kept; each file and task once, the first in impact order).
 */
const id = fc.constantFrom('1', '2', '3');
const effectArb: fc.Arbitrary<Effect> = fc.oneof(
  fc.record({ kind: fc.constant('file-deleted' as const), rule: fc.constantFrom('F2', 'F3'), fileId: id }),
  fc.record({
    kind: fc.constant('file-handed-over' as const),
    rule: fc.constant('F1'),
    fileId: id,
    organizationId: fc.constantFrom('A', 'B'),
  }),
  fc.record({ kind: fc.constant('task-deleted' as const), rule: fc.constantFrom('D6', 'F2'), taskId: id }),
  fc.record({ kind: fc.constant('task-reassigned' as const), rule: fc.constant('X3'), taskId: id, userId: fc.constantFrom('s1', 's2') }),
  fc.record({ kind: fc.constant('chat-left' as const), rule: fc.constantFrom('D5', 'T7'), chatId: id, userId: fc.constant('u') }),
  fc.record({ kind: fc.constant('chat-deleted' as const), rule: fc.constantFrom('D3', 'D4'), chatId: id }),
  fc.record({
    kind: fc.constant('contact-removed' as const),
    rule: fc.constant('D2'),
    userIds: fc.constant(['u', 'v'] as [string, string]),
  }),
  fc.record({ kind: fc.constant('user-deleted' as const), rule: fc.constant('D1'), userId: fc.constant('u') }),
);
const chatOf = (e: Effect) => ('fileId' in e ? `chat-of-${e.fileId}` : 'taskId' in e ? `chat-of-t${e.taskId}` : undefined);

async function collect(entries: AsyncIterable<EffectInChat>): Promise<EffectInChat[]> {
  const out: EffectInChat[] = [];
  for await (const e of entries) out.push(e);
  return out;
}
async function* stream(entries: readonly EffectInChat[]): AsyncGenerator<EffectInChat> {
  yield* entries;
}

describe('mergeSortedRuns (a plan merged from its slices)', () => {
  it('X1: runs merged one by one, then streamed together, are the merge of all their effects in run order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(effectArb, { maxLength: 12 }), { minLength: 1, maxLength: 5 }), async (runs) => {
        const whole = mergeEffectsInChats(runs.flat(), chatOf);
        const merged = await collect(mergeSortedRuns(runs.map((run) => stream(mergeEffectsInChats(run, chatOf)))));
        expect(merged).toEqual(whole);
      }),
      { numRuns: 500 },
    );
  });

  it('an effect in two runs is listed once; a file deleted in one run and handed over in another only as deleted (F2 before F1)', async () => {
    const deleted: Effect = { kind: 'file-deleted', rule: 'F2', fileId: 'f' };
    const handed: Effect = { kind: 'file-handed-over', rule: 'F1', fileId: 'f', organizationId: 'A' };
    const left: Effect = { kind: 'chat-left', rule: 'D5', chatId: 'c', userId: 'u' };
    const merged = await collect(
      mergeSortedRuns([stream([{ effect: left }, { effect: handed }]), stream([{ effect: left }, { effect: deleted }])]),
    );
    expect(merged.map((e) => e.effect)).toEqual([left, deleted]);
  });
});
