import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  chatObjectPrefix,
  fileObjectKey,
  keyComponent,
  keys,
  memberIndexKey,
  operationPosition,
  organizationIndexKey,
  runIndexKey,
} from '../../functions/store/keys.js';

/**
 * O4: no two ids share a key. Every table key, index key and object key is built from ids by store/keys.ts; ids are
 * 1 to 256 characters of any kind (lone surrogates included), so the property is checked on ids drawn from the
 * separators themselves (`#`, `/`, `%`, what an encoding looks like), from all of Unicode, and long ones.
 */
const tricky = fc
  .array(
    fc.constantFrom(
      'k',
      'x',
      'y',
      '/',
      '#',
      '%',
      '%2F',
      '%23',
      '%25',
      '%h',
      'files',
      'FILE',
      'MEMBER',
      'USER#',
      '.b1',
      '.1',
      '\u{1F600}',
      '\ud800',
      '\udfff',
    ),
    { minLength: 1, maxLength: 8 },
  )
  .map((parts) => parts.join(''));
/** Ids from a tiny alphabet of separators: in a few dozen calls, some pairs would share a key if anything could. */
const small = fc
  .array(fc.constantFrom('k', 'x', '/files/', '#', '%', '#FILE#', '%2F'), { minLength: 1, maxLength: 3 })
  .map((parts) => parts.join(''));
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n)); // lone surrogates too
const anyId = fc.oneof(
  { weight: 4, arbitrary: small },
  { weight: 4, arbitrary: tricky },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 256 }) },
  { weight: 1, arbitrary: fc.string({ unit: codeUnit, minLength: 1, maxLength: 256 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('/', '#', '%', 'a', '\u{10FFFF}'), minLength: 130, maxLength: 256 }) }, // long: hashed
);
/** Times and page numbers are the system's own (ISO instants, counters), not ids. */
const instant = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString());

type Key = { PK: string; SK: string };
/** A builder call: its name and arguments, and the key it gives. */
const call = <A extends unknown[], K>(name: string, args: fc.Arbitrary<A>, build: (...a: A) => K) =>
  args.map((a) => ({ what: JSON.stringify([name, ...a]), key: build(...a) }));
/** Every table-key builder: two calls are the same call exactly when `what` is equal. */
const tableCalls = fc.oneof(
  call('org', fc.tuple(anyId), keys.org).map(flat),
  call('allowance', fc.tuple(anyId, anyId), keys.allowance).map(flat),
  call('waiting', fc.tuple(anyId, instant, anyId), keys.waiting).map(flat),
  call('waitingOut', fc.tuple(anyId, instant, anyId), keys.waitingOut).map(flat),
  call('outgoing', fc.tuple(anyId, instant, anyId), keys.outgoing).map(flat),
  call('incoming', fc.tuple(anyId, instant, anyId), keys.incoming).map(flat),
  call(
    'orgOperation',
    fc.tuple(anyId, fc.constantFrom('incoming' as const, 'outgoing' as const, 'deletion' as const), instant, anyId),
    (o, l, t, op) => keys.orgOperation(o, l, operationPosition(t, op)),
  ).map(flat),
  call('run', fc.tuple(anyId), keys.run).map(flat),
  call('runBatch', fc.tuple(anyId, fc.nat(999_999), fc.nat(20)), keys.runBatch).map(flat),
  call('plan', fc.tuple(anyId), keys.plan).map(flat),
  call('planPage', fc.tuple(anyId, fc.nat(999_999)), keys.planPage).map(flat),
  call('journal', fc.tuple(anyId, instant, anyId), keys.journal).map(flat),
  call('runCounter', fc.tuple(anyId), keys.runCounter).map(flat),
  call('user', fc.tuple(anyId), keys.user).map(flat),
  call('contact', fc.tuple(anyId, anyId), keys.contact).map(flat),
  call('chat', fc.tuple(anyId), keys.chat).map(flat),
  call('member', fc.tuple(anyId, anyId), keys.member).map(flat),
  call('message', fc.tuple(anyId, anyId), keys.message).map(flat),
  call('file', fc.tuple(anyId, anyId), keys.file).map(flat),
  call('handedOver', fc.tuple(anyId, anyId), keys.handedOver).map(flat),
  call('task', fc.tuple(anyId, anyId), keys.task).map(flat),
  call('operation', fc.tuple(anyId), keys.operation).map(flat),
  call('lock', fc.tuple(anyId), keys.lock).map(flat),
);
function flat(c: { what: string; key: Key }) {
  return { what: c.what, key: `${c.key.PK}\u0000${c.key.SK}` };
}
/** Index partitions (GSI1PK): a user's chats, tasks, operations; an organization's members and who handed files over to it. */
const indexCalls = fc.oneof(
  call('orgMembers', fc.tuple(anyId), keys.orgMembers),
  call('userChats', fc.tuple(anyId), keys.userChats),
  call('userFiles', fc.tuple(anyId), keys.userFiles),
  call('orgHandedOver', fc.tuple(anyId), keys.orgHandedOver),
  call('userAssigned', fc.tuple(anyId), keys.userAssigned),
  call('userOperations', fc.tuple(anyId), keys.userOperations),
);
/** Positions within an index partition (GSI1SK) of one kind of item. */
const positionCalls = fc.oneof(
  call('memberPosition', fc.tuple(anyId), keys.memberPosition),
  call('chatPosition', fc.tuple(anyId), keys.chatPosition),
  call('filePosition', fc.tuple(anyId, anyId), keys.filePosition),
  call('taskPosition', fc.tuple(anyId), keys.taskPosition),
);
const objectCalls = call('fileObjectKey', fc.tuple(anyId, anyId), fileObjectKey);

const RUNS = { numRuns: 300 };
/** In each of RUNS arrays of up to 80 calls, any two calls that give the same key are the same call. */
const distinct = (arb: fc.Arbitrary<{ what: string; key: string }>) =>
  fc.assert(
    fc.property(fc.array(arb, { minLength: 2, maxLength: 80 }), (calls) => {
      const seen = new Map<string, string>();
      for (const { what, key } of calls) {
        const before = seen.get(key);
        if (before !== undefined && before !== what) throw new Error(`${before} and ${what} share the key ${JSON.stringify(key)}`);
        seen.set(key, what);
      }
    }),
    RUNS,
  );

describe('O4: no two ids share a key', () => {
  it('O4: distinct builder calls (kind and ids) never give the same table key (PK, SK)', () => distinct(tableCalls));
  it('O4: distinct calls never give the same index partition (GSI1PK) or the same position in one', () => {
    distinct(indexCalls);
    distinct(positionCalls);
  });
  it('O4: distinct (chat, file) pairs never give the same object key, and no file lies under another chat\u2019s prefix', () => {
    distinct(objectCalls);
    fc.assert(
      fc.property(
        anyId,
        anyId,
        anyId,
        (chat, other, file) => chat === other || !fileObjectKey(other, file).startsWith(chatObjectPrefix(chat)),
      ),
      { numRuns: 3000 },
    );
  });
  it('O4: a component is injective even where a pair of ids collides by construction (the bucket case, lone surrogates, look-alike encodings)', () => {
    expect(fileObjectKey('k', 'x/files/y')).not.toBe(fileObjectKey('k/files/x', 'y'));
    expect(fileObjectKey('k/files/x', 'y').startsWith(chatObjectPrefix('k'))).toBe(false);
    expect(keys.member('a#MEMBER#b', 'c')).not.toEqual(keys.member('a', 'b#MEMBER#c'));
    const looks = ['/', '%2F', '%252F', '\ud800', '%uD800', '\ufffd', '%EF%BF%BD', '%h', `%h${'A'.repeat(43)}`];
    expect(new Set(looks.map(keyComponent)).size).toBe(looks.length);
  });
  it('O4: ids made of plain characters read as themselves (keys of existing worlds unchanged)', () => {
    expect(fileObjectKey('g-launch', 'f-a1-launch')).toBe('chats/g-launch/files/f-a1-launch');
    expect(keys.member('g-launch', 'a1')).toEqual({ PK: 'CHAT#g-launch', SK: 'MEMBER#a1' });
    expect(keys.orgMembers('A')).toBe('ORG#A#MEMBERS');
  });
  it('O4: the query cursors agree with the items they start after', () => {
    fc.assert(
      fc.property(anyId, anyId, instant, (o, u, t) => {
        expect(memberIndexKey(o, u)).toEqual({ GSI1PK: keys.orgMembers(o), GSI1SK: keys.memberPosition(u), ...keys.user(u) });
        expect(organizationIndexKey(o)).toMatchObject(keys.org(o));
        expect(runIndexKey(operationPosition(t, u))).toEqual({ GSI1PK: keys.runs, GSI1SK: operationPosition(t, u), ...keys.run(u) });
      }),
      { numRuns: 500 },
    );
  });
});

describe('O4: keys within DynamoDB and S3 limits', () => {
  const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
  const widest = '\u{10FFFF}'.repeat(256); // 256 characters of 4 bytes: 1,024 bytes raw, 3,072 percent-encoded
  const slashes = '/'.repeat(256);
  const ascii = 'i'.repeat(256);
  it('O4: every key of 256-character ids (4-byte characters, separators, ASCII) fits: PK 2,048 bytes, SK 1,024, object key 1,024', () => {
    const t = new Date().toISOString();
    for (const id of [widest, slashes, ascii, `${ascii.slice(1)}\u{1F600}`]) {
      const table = [
        keys.org(id),
        keys.allowance(id, id),
        keys.waiting(id, t, id),
        keys.waitingOut(id, t, id),
        keys.outgoing(id, t, id),
        keys.incoming(id, t, id),
        keys.orgOperation(id, 'incoming', operationPosition(t, id)),
        keys.run(id),
        keys.runBatch(id, 999_999, 9),
        keys.plan(`${id}.12`),
        keys.planPage(`${id}.b3r2`, 999_999),
        keys.journal(id, t, id),
        keys.user(id),
        keys.contact(id, id),
        keys.chat(id),
        keys.member(id, id),
        keys.message(id, id),
        keys.file(id, id),
        keys.handedOver(id, id),
        keys.task(id, id),
        keys.operation(id),
        keys.lock(id),
        memberIndexKey(id, id),
        organizationIndexKey(id),
        runIndexKey(operationPosition(t, id)),
      ];
      for (const k of table) {
        expect(bytes(k.PK)).toBeLessThanOrEqual(2048);
        expect(bytes(k.SK)).toBeLessThanOrEqual(1024);
      }
      for (const pk of [
        keys.orgMembers(id),
        keys.userChats(id),
        keys.userFiles(id),
        keys.orgHandedOver(id),
        keys.userAssigned(id),
        keys.userOperations(id),
      ])
        expect(bytes(pk)).toBeLessThanOrEqual(2048);
      for (const sk of [keys.memberPosition(id), keys.chatPosition(id), keys.filePosition(id, id), keys.taskPosition(id)])
        expect(bytes(sk)).toBeLessThanOrEqual(1024);
      expect(bytes(fileObjectKey(id, id))).toBeLessThanOrEqual(1024);
    }
  });
});
