import { describe, expect, it } from 'vitest';
import { mergeEffects, mergeEffectsInChats, type Effect } from '../../functions/domain/impact.js';
import { keys } from '../../functions/store/keys.js';
import { fingerprint, pagesWith, paginate, summarize, type PlanHeader } from '../../functions/store/plans.js';

/** Plan storage (X1 at size): pages, summaries, fingerprints, and keys that stay within DynamoDB's limits. */
const left = (i: number, id = `c${i}`): Effect => ({ kind: 'chat-left', rule: 'D5', chatId: id, userId: 'u0' });
const entries = (effects: Effect[]) => effects.map((effect) => ({ effect }));
const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

describe('plan pages', () => {
  it('X1: an impact is stored in pages of at most 1,000 effects, in impact order', () => {
    const pages = paginate(entries(Array.from({ length: 2500 }, (_, i) => left(i))));
    expect(pages.map((p) => p.length)).toEqual([1000, 1000, 500]);
    expect(pages.flat().map((e) => (e.effect as any).chatId)).toEqual(Array.from({ length: 2500 }, (_, i) => `c${i}`));
  });
  it('pages close early by size, so 256-character ids keep every page item under 400 KB', () => {
    const long = (i: number) => `${String(i).padStart(6, '0')}${'x'.repeat(250)}`;
    const pages = paginate(entries(Array.from({ length: 3000 }, (_, i) => left(i, long(i)))));
    expect(pages.length).toBeGreaterThan(3);
    for (const page of pages) {
      expect(page.length).toBeLessThanOrEqual(1000);
      expect(bytes(JSON.stringify(page))).toBeLessThanOrEqual(300_000);
    }
  });
  it('a step reads only the pages that hold its kinds, from its cursor on', () => {
    const header = {
      pages: [
        { 'admin-granted': 10, 'chat-left': 990 },
        { 'chat-left': 1000 },
        { 'contact-removed': 3, 'file-deleted': 997 },
        { 'file-deleted': 20 },
      ],
    } as unknown as PlanHeader;
    expect(pagesWith(header, ['chat-left', 'admin-granted', 'chat-frozen'])).toEqual([0, 1]);
    expect(pagesWith(header, ['file-deleted', 'file-handed-over'])).toEqual([2, 3]);
    expect(pagesWith(header, ['file-deleted', 'file-handed-over'], 3)).toEqual([3]); // the cursor handed in is honoured
    expect(pagesWith(header, ['user-deleted'])).toEqual([]);
  });
});

describe('summary and fingerprint', () => {
  const effects = mergeEffects([
    { kind: 'file-deleted', rule: 'F1', fileId: 'f2' },
    { kind: 'file-deleted', rule: 'F2', fileId: 'f1' },
    left(1),
    left(2),
    { kind: 'contact-removed', rule: 'D4', userIds: ['a', 'u0'] },
  ]);
  it('X1: one row per kind and rule, sorted by kind then rule, adding up to the effect count', () => {
    expect(summarize(effects)).toEqual([
      { kind: 'chat-left', rule: 'D5', count: 2 },
      { kind: 'contact-removed', rule: 'D4', count: 1 },
      { kind: 'file-deleted', rule: 'F1', count: 1 },
      { kind: 'file-deleted', rule: 'F2', count: 1 },
    ]);
  });
  it('X1: the same plan has the same fingerprint, whatever order its fields were read in; another plan another one', () => {
    const reordered = effects.map((e) => Object.fromEntries(Object.entries(e).reverse()) as unknown as Effect);
    expect(fingerprint(reordered)).toBe(fingerprint(effects));
    expect(fingerprint(effects.slice(1))).not.toBe(fingerprint(effects));
    expect(fingerprint(effects.map((e) => (e.kind === 'file-deleted' ? { ...e, rule: 'F3' } : e)))).not.toBe(fingerprint(effects));
  });
});

describe('plan entries', () => {
  it('X1: merged effects carry the chat their lookup names, and no chat field where it names none', () => {
    const chatOf = new Map([['f1', 'c9']]);
    const merged = mergeEffectsInChats(
      [
        { kind: 'file-deleted', rule: 'F1', fileId: 'f2' },
        left(1),
        { kind: 'file-deleted', rule: 'F2', fileId: 'f1' },
        { kind: 'file-deleted', rule: 'F2', fileId: 'f1' },
      ],
      (e) => (e.kind === 'file-deleted' ? chatOf.get(e.fileId) : undefined),
    );
    expect(merged).toEqual([
      { effect: left(1) },
      { effect: { kind: 'file-deleted', rule: 'F2', fileId: 'f1' }, chatId: 'c9' },
      { effect: { kind: 'file-deleted', rule: 'F1', fileId: 'f2' } },
    ]);
    expect(merged.map((e) => Object.keys(e))).toEqual([['effect'], ['effect', 'chatId'], ['effect']]);
  });
});

describe('keys at any size', () => {
  const id = 'i'.repeat(256); // the longest id the contract allows
  it('every key stays within DynamoDB limits (partition key 2,048 bytes, sort key 1,024) with 256-character ids', () => {
    const all = [
      keys.user(id),
      keys.contact(id, id),
      keys.chat(id),
      keys.member(id, id),
      keys.message(id, id),
      keys.file(id, id),
      keys.task(id, id),
      keys.org(id),
      keys.allowance(id, id),
      keys.operation(`del-${id}`),
      keys.lock(id),
      keys.plan(`del-${id}.12`),
      keys.planPage(`del-${id}.12`, 999_999),
      keys.journal(id, new Date().toISOString(), `del-${id}`),
      keys.runBatch(`b1-${id}`, 999_999),
      keys.waiting(id, new Date().toISOString(), `tr-${id}`),
    ];
    for (const k of all) {
      expect(bytes(k.PK)).toBeLessThanOrEqual(2048);
      expect(bytes(k.SK)).toBeLessThanOrEqual(1024);
    }
  });
  it('G2, D5: an administrator grant to a group of 100,000 members names them in a plan page, never in a key', () => {
    const grant: Effect = { kind: 'admin-granted', rule: 'D5', chatId: 'g', userIds: Array.from({ length: 100_000 }, (_, i) => `m${i}`) };
    const pages = paginate(entries([left(0, 'a'), grant, left(1, 'z')]));
    expect(pages.flat().map((e) => e.effect.kind)).toEqual(['chat-left', 'admin-granted', 'chat-left']);
    expect(bytes(keys.planPage('del-x.1', pages.length).SK)).toBeLessThan(32); // the key is the page number
  });
});
