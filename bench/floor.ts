import { fileObjectKey, keys } from '../functions/store/keys.js';
import { pushTo } from '../functions/shared/collections.js';
import type { WorldJson } from '../local/world/validate.js';
import {
  allowanceItems,
  chatItem,
  contactItems,
  fileItem,
  memberItem,
  messageItem,
  taskItem,
  toFile,
  toMessage,
  toTask,
  toUser,
  userItem,
  type Item,
} from '../functions/store/records.js';

/**
 * The floor: the smallest request sequence that turns a before-world into an after-world, computed from the two
 * World JSON exports and what the operation is. Pure (no I/O): the benchmark replays `plan` on the emulators.
 *
 * It is a conservative lower bound on what any correct implementation must send, given the table's key design
 * (functions/store/keys.ts) and the services' request limits:
 *
 * Reads (only what a correct plan cannot avoid; each Query counts one request per started 1 MB page, estimated
 * from the items' DynamoDB sizes as records.ts maps them; GSI1 projects every attribute, GSI3 a file's keys and id):
 *  - deletion or transfer of U:
 *    R1 Query USER#U (the user item and its contacts: C1/C2 must be decided for every contact, T7, D4);
 *    R2 Query GSI1 USER#U#CHATS (U's memberships: T8, D3–D5);
 *    R3 Query GSI3 USER#U#FILES (U's uploads: F1, F2);
 *    R4 Query GSI1 USER#U#ASSIGNED (tasks assigned to U: D6);
 *    R5 Query CHAT#c for every chat U is a member of (the chat, members, messages, files, tasks: who stays, D4
 *       "has messages", G2 administrators, F1 "another member of the same organization");
 *    R6 BatchGetItem, 100 keys each, of the distinct other users referenced (contacts and co-members): their
 *       organization and exemptions decide C2;
 *    R7 BatchGetItem, 100 keys each, of the organizations of U, of those users and (transfer) the destination:
 *       their ids are known only once the users are read, so they cannot share R6's requests.
 *    Outside allowances (ORG#a ALLOW#b) are not counted: a lower bound may assume them cached.
 *  - cancellation of organization X with N active members:
 *    R0 Query GSI1 ORG#X#MEMBERS (about 150 bytes per member, one request per 1 MB page);
 *    R1–R4 for every member; R5 once per distinct chat of any member; R6 for the distinct users referenced that
 *    are not members (members come with R0); R7 for the organizations of all of them.
 *
 * Writes: every table item that differs between before and after (records.ts mapping: organization 1 item, user 1,
 * contact pair 2, chat 1 + 1 per member, message, file, task 1 each). Displayed names (displayName, speakerName,
 * requesterName) and `stored` are computed when read: never writes.
 *  W1 BatchWriteItem, 25 requests each: items deleted (DeleteRequest) and items added or modified (PutRequest of the
 *     whole after-item), except the items that must change atomically:
 *  W2 TransactWriteItems, one: transfer: U's user item + both organizations' member counters (T4, T9);
 *     deletion: U's user item + its organization's counters (D1); cancellation: X's counters, once.
 *     Organization items change only through W2 (their counters are not in the World JSON).
 *
 * S3: S1 DeleteObjects, 1,000 keys each, of every file stored before (`stored` true, or absent in a fixture that was
 * loaded with its bytes) and, after, absent or `stored: false` (F4).
 *
 * Waves (`floorWaves`, what the replay sends one after the other, each wave's requests `inFlight` at once): a request
 * can only be sent once what names it has been read: R0 (the members) → R1–R4 (each subject's partitions) → R5 (the
 * chats R2 named) → R6 (the users R1 and R5 named) → R7 (their organizations) → W1, W2 and S1 (the writes, which
 * depend on every read). The page counts above are estimates; the replay counts the pages DynamoDB really returned
 * (a page with a LastEvaluatedKey is followed by one more), and the benchmark reports the floor with those.
 *
 * The safe floor (`safeFloor`): the floor plus the least an operation itself must write to meet T3, X1 and X2, which a
 * bare before→after diff does not show:
 *  - at the request, one TransactWriteItems: the operation record (who asked, the stored plan X1 applies, when it fits
 *    the record's 400 KB) with the user's lock (one operation per user, T3's "nothing changes before approval" needs
 *    the request stored before anything runs); for a cancellation, the run record;
 *  - each consent given later (T3's approval of a transfer, B4's operator confirmation): one read of the record (is
 *    it still awaiting that consent, and who may give it) and one write recording who gave it;
 *  - at the end, one TransactWriteItems: the final status, the audit entry (X2: who asked, who approved, what changed,
 *    which rule, when) and the lock released. It is counted apart from W2 (merging the two would save one request
 *    where W2 can be the last write; the safe floor does not assume that).
 */

export type Operation =
  | { kind: 'deletion'; userId: string }
  | { kind: 'transfer'; userId: string; from: string; to: string }
  | { kind: 'cancellation'; organizationId: string };

export type World = WorldJson;

export type Key = { PK: string; SK: string };
export interface OrgCounter {
  organizationId: string;
  /** Change of the active-member counter (after − before). */
  members: number;
  /** Change of the active-administrator counter. */
  admins: number;
}
export type FloorRequest =
  | {
      service: 'dynamodb';
      op: 'Query';
      term: 'R0' | 'R1' | 'R2' | 'R3' | 'R4' | 'R5';
      partition: string;
      index?: FloorIndex;
      pages: number;
    }
  | { service: 'dynamodb'; op: 'BatchGet'; term: 'R6' | 'R7'; keys: Key[] }
  | { service: 'dynamodb'; op: 'BatchWrite'; term: 'W1'; puts: Item[]; deletes: Key[] }
  | { service: 'dynamodb'; op: 'TransactWrite'; term: 'W2'; puts: Item[]; counters: OrgCounter[] }
  | { service: 's3'; op: 'DeleteObjects'; term: 'S1'; keys: string[] };

/** The indexes a floor reads, and the attribute each is partitioned by (infra/constructs/data.ts). */
export type FloorIndex = 'GSI1' | 'GSI3';
export const INDEX_PARTITION_KEY: Record<FloorIndex, string> = { GSI1: 'GSI1PK', GSI3: 'GSI3PK' };

export interface Floor {
  dynamodb: number;
  s3: number;
  /** Requests by term (R0–R7, W1, W2, S1); a Query counts its pages. */
  terms: Record<string, number>;
  /** Items written: deleted, put (added or modified), in W2. */
  items: { deleted: number; put: number; atomic: number };
  plan: FloorRequest[];
}

export const QUERY_PAGE_BYTES = 1024 * 1024;
export const BATCH_GET_LIMIT = 100;
export const BATCH_WRITE_LIMIT = 25;
export const DELETE_OBJECTS_LIMIT = 1000;
/** R0: the size of one member item as GSI1 ORG#X#MEMBERS returns it, for the page count. */
export const MEMBER_ITEM_BYTES = 150;

const chunk = <T>(xs: readonly T[], n: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
};

/** An item's size as DynamoDB counts it (attribute names plus values), near enough for page counts. */
function valueBytes(v: unknown): number {
  if (v === undefined) return 0;
  if (v === null || typeof v === 'boolean') return 1;
  if (typeof v === 'number') return Math.ceil(String(Math.abs(v)).replace('.', '').length / 2) + 1;
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (Array.isArray(v)) return 3 + v.reduce((n: number, x) => n + 1 + valueBytes(x), 0);
  return 3 + Object.entries(v as object).reduce((n, [k, x]) => n + (x === undefined ? 0 : Buffer.byteLength(k) + valueBytes(x)), 0);
}
export function itemBytes(item: Item): number {
  return Object.entries(item).reduce((n, [k, v]) => n + (v === undefined ? 0 : Buffer.byteLength(k) + valueBytes(v)), 0);
}

const pagesFor = (bytes: number) => Math.max(1, Math.ceil(bytes / QUERY_PAGE_BYTES));

/** Stable JSON (sorted keys, undefined dropped): two items are the same item value when these are equal. */
function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  return `{${Object.keys(v as object)
    .filter((k) => (v as any)[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical((v as any)[k])}`)
    .join(',')}}`;
}

const keyOf = (i: { PK: string; SK: string }) => `${i.PK}\u0000${i.SK}`;
const isActive = (u: any) => (u.status ?? 'active') === 'active';

/** The table items a world maps to, as the store writes them (local/world/world-store.ts `loadWorld`), but organizations. */
export function worldItems(w: World): Item[] {
  return [
    ...(w.outsideAllowances ?? []).flatMap(([a, b]) => allowanceItems(a!, b!)),
    ...w.users.map((u) =>
      userItem(
        toUser({
          ...u,
          organizationId: u.organizationId ?? null,
          apiToken: (u.status ?? 'active') === 'deleted' ? null : (u.apiToken ?? null),
          status: u.status ?? 'active',
        }),
      ),
    ),
    ...(w.contacts ?? []).flatMap(([a, b]) => contactItems(a!, b!)),
    ...(w.chats ?? []).flatMap((c) => [chatItem({ ...c, frozen: Boolean(c.frozen) }), ...c.members.map((m: any) => memberItem(c.id, m))]),
    ...(w.messages ?? []).map((m) => messageItem(toMessage(m))),
    ...(w.files ?? []).map((f) => fileItem(toFile({ ...f, size: f.content !== undefined ? Buffer.byteLength(f.content) : (f.size ?? 0) }))),
    ...(w.tasks ?? []).map((t) => taskItem(toTask(t))),
  ];
}

function counters(before: World, after: World): OrgCounter[] {
  const count = (w: World) => {
    const m = new Map<string, { members: number; admins: number }>();
    for (const o of w.organizations) m.set(o.id, { members: 0, admins: 0 });
    for (const u of w.users) {
      if (!u.organizationId || !isActive(u)) continue;
      const c = m.get(u.organizationId) ?? { members: 0, admins: 0 };
      c.members++;
      if (u.orgAdmin) c.admins++;
      m.set(u.organizationId, c);
    }
    return m;
  };
  const b = count(before);
  const a = count(after);
  return [...new Set([...b.keys(), ...a.keys()])].sort().map((id) => ({
    organizationId: id,
    members: (a.get(id)?.members ?? 0) - (b.get(id)?.members ?? 0),
    admins: (a.get(id)?.admins ?? 0) - (b.get(id)?.admins ?? 0),
  }));
}

/** A floor request's wave (see the doc comment above): lower waves first. */
export const WAVE_OF_TERM: Record<FloorRequest['term'], number> = {
  R0: 0,
  R1: 1,
  R2: 1,
  R3: 1,
  R4: 1,
  R5: 2,
  R6: 3,
  R7: 4,
  W1: 5,
  W2: 5,
  S1: 5,
};

/** The plan in dependency waves, in order, empty waves left out; each wave keeps the plan's order. */
export function floorWaves(plan: readonly FloorRequest[]): FloorRequest[][] {
  const waves: FloorRequest[][] = [];
  for (const r of plan) {
    const w = WAVE_OF_TERM[r.term];
    if (w === undefined) throw new Error(`floorWaves: unknown term ${String(r.term)}`);
    (waves[w] ??= []).push(r);
  }
  return waves.filter((w) => w !== undefined && w.length > 0);
}

/** What the safe floor adds to the floor (see the doc comment above). */
export interface OperationRecords {
  /** One TransactWriteItems at the request (operation record + lock, or the run record). */
  start: number;
  /** Per consent given later (T3 approval, B4 confirmation): a read and a write. */
  consentReads: number;
  consentWrites: number;
  /** One TransactWriteItems at the end (final status + audit entry + lock released). */
  end: number;
}

/** The safe floor's DynamoDB requests: the floor's plus the operation's own records for T3, X1 and X2. */
export function safeFloor(floorDynamodb: number, consents: number): { dynamodb: number; records: OperationRecords } {
  if (!Number.isInteger(consents) || consents < 0) throw new Error(`safeFloor: consents must be a whole number ≥ 0, got ${consents}`);
  const records = { start: 1, consentReads: consents, consentWrites: consents, end: 1 };
  return { dynamodb: floorDynamodb + records.start + records.consentReads + records.consentWrites + records.end, records };
}

export function floorRequests(before: World, after: World, operation: Operation): Floor {
  const plan: FloorRequest[] = [];
  const beforeItems = worldItems(before);
  const afterItems = worldItems(after);

  // Partition sizes, for the page counts of R0–R5.
  const partitionBytes = new Map<string, number>();
  const indexBytes = new Map<string, number>();
  const uploadBytes = new Map<string, number>(); // GSI3, by partition
  for (const item of beforeItems) {
    const bytes = itemBytes(item);
    partitionBytes.set(item.PK, (partitionBytes.get(item.PK) ?? 0) + bytes);
    if (item.GSI1PK) indexBytes.set(item.GSI1PK, (indexBytes.get(item.GSI1PK) ?? 0) + bytes);
    if (item.GSI3PK) {
      const projected = itemBytes({ PK: item.PK, SK: item.SK, GSI3PK: item.GSI3PK, GSI3SK: item.GSI3SK, id: item.id, chatId: item.chatId });
      uploadBytes.set(item.GSI3PK, (uploadBytes.get(item.GSI3PK) ?? 0) + projected);
    }
  }
  const usersById = new Map(before.users.map((u) => [u.id as string, u]));
  const contactsOf = new Map<string, string[]>();
  for (const [a, b] of before.contacts ?? []) {
    pushTo(contactsOf, a!, b!);
    pushTo(contactsOf, b!, a!);
  }
  const chatsOf = new Map<string, any[]>();
  for (const c of before.chats ?? []) for (const m of c.members) pushTo(chatsOf, m.userId, c);

  // Reads.
  const subjects =
    operation.kind === 'cancellation'
      ? before.users.filter((u) => u.organizationId === operation.organizationId && isActive(u)).map((u) => u.id as string)
      : [operation.userId];
  const subjectSet = new Set(subjects);
  if (operation.kind === 'cancellation') {
    const bytes = subjects.length * MEMBER_ITEM_BYTES;
    plan.push({
      service: 'dynamodb',
      op: 'Query',
      term: 'R0',
      partition: keys.orgMembers(operation.organizationId),
      index: 'GSI1',
      pages: pagesFor(bytes),
    });
  }
  const chats = new Map<string, any>();
  const referenced = new Set<string>();
  for (const u of subjects) {
    const pk = keys.user(u).PK;
    plan.push({ service: 'dynamodb', op: 'Query', term: 'R1', partition: pk, pages: pagesFor(partitionBytes.get(pk) ?? 0) });
    plan.push({
      service: 'dynamodb',
      op: 'Query',
      term: 'R2',
      partition: keys.userChats(u),
      index: 'GSI1',
      pages: pagesFor(indexBytes.get(keys.userChats(u)) ?? 0),
    });
    plan.push({
      service: 'dynamodb',
      op: 'Query',
      term: 'R3',
      partition: keys.userFiles(u),
      index: 'GSI3',
      pages: pagesFor(uploadBytes.get(keys.userFiles(u)) ?? 0),
    });
    plan.push({
      service: 'dynamodb',
      op: 'Query',
      term: 'R4',
      partition: keys.userAssigned(u),
      index: 'GSI1',
      pages: pagesFor(indexBytes.get(keys.userAssigned(u)) ?? 0),
    });
    for (const c of contactsOf.get(u) ?? []) referenced.add(c);
    for (const c of chatsOf.get(u) ?? []) {
      chats.set(c.id, c);
      for (const m of c.members) referenced.add(m.userId);
    }
  }
  for (const id of [...chats.keys()].sort()) {
    const pk = keys.chat(id).PK;
    plan.push({ service: 'dynamodb', op: 'Query', term: 'R5', partition: pk, pages: pagesFor(partitionBytes.get(pk) ?? 0) });
  }
  const others = [...referenced].filter((u) => !subjectSet.has(u)).sort();
  for (const batch of chunk(others, BATCH_GET_LIMIT))
    plan.push({ service: 'dynamodb', op: 'BatchGet', term: 'R6', keys: batch.map((u) => keys.user(u)) });
  const orgs = new Set<string>();
  for (const u of [...subjects, ...others]) {
    const org = usersById.get(u)?.organizationId;
    if (org) orgs.add(org);
  }
  if (operation.kind === 'transfer') orgs.add(operation.from).add(operation.to);
  if (operation.kind === 'cancellation') orgs.add(operation.organizationId);
  for (const batch of chunk([...orgs].sort(), BATCH_GET_LIMIT))
    plan.push({ service: 'dynamodb', op: 'BatchGet', term: 'R7', keys: batch.map((o) => keys.org(o)) });

  // Writes: the items that differ.
  const beforeByKey = new Map(beforeItems.map((i) => [keyOf(i as Key), canonical(i)]));
  const afterByKey = new Map(afterItems.map((i) => [keyOf(i as Key), i]));
  const deletes: Key[] = [];
  for (const i of beforeItems) if (!afterByKey.has(keyOf(i as Key))) deletes.push({ PK: i.PK, SK: i.SK });
  let puts: Item[] = afterItems.filter((i) => beforeByKey.get(keyOf(i as Key)) !== canonical(i));

  const atomicUserKeys = new Set(operation.kind === 'cancellation' ? [] : [keyOf(keys.user(operation.userId))]);
  const atomicPuts = puts.filter((i) => atomicUserKeys.has(keyOf(i as Key)));
  puts = puts.filter((i) => !atomicUserKeys.has(keyOf(i as Key)));
  const atomicOrgs =
    operation.kind === 'transfer'
      ? [operation.from, operation.to]
      : operation.kind === 'deletion'
        ? [usersById.get(operation.userId)?.organizationId].filter((o): o is string => Boolean(o))
        : [operation.organizationId];
  const changedCounters = counters(before, after).filter(
    (c) => atomicOrgs.includes(c.organizationId) && (c.members !== 0 || c.admins !== 0),
  );

  const writes: ({ put: Item } | { delete: Key })[] = [...deletes.map((k) => ({ delete: k })), ...puts.map((p) => ({ put: p }))];
  for (const batch of chunk(writes, BATCH_WRITE_LIMIT)) {
    plan.push({
      service: 'dynamodb',
      op: 'BatchWrite',
      term: 'W1',
      puts: batch.flatMap((w) => ('put' in w ? [w.put] : [])),
      deletes: batch.flatMap((w) => ('delete' in w ? [w.delete] : [])),
    });
  }
  if (atomicPuts.length > 0 || changedCounters.length > 0) {
    plan.push({ service: 'dynamodb', op: 'TransactWrite', term: 'W2', puts: atomicPuts, counters: changedCounters });
  }

  // S3: bytes deleted.
  const afterFiles = new Map((after.files ?? []).map((f) => [f.id as string, f]));
  const gone = (before.files ?? [])
    .filter((f) => f.stored !== false)
    .filter((f) => {
      const a = afterFiles.get(f.id);
      return !a || a.stored === false;
    })
    .map((f) => fileObjectKey(f.chatId, f.id))
    .sort();
  for (const batch of chunk(gone, DELETE_OBJECTS_LIMIT)) plan.push({ service: 's3', op: 'DeleteObjects', term: 'S1', keys: batch });

  const terms: Record<string, number> = {};
  let dynamodb = 0;
  let s3 = 0;
  for (const r of plan) {
    const n = r.op === 'Query' ? r.pages : 1;
    terms[r.term] = (terms[r.term] ?? 0) + n;
    if (r.service === 'dynamodb') dynamodb += n;
    else s3 += n;
  }
  return {
    dynamodb,
    s3,
    terms,
    items: { deleted: deletes.length, put: puts.length, atomic: atomicPuts.length + changedCounters.length },
    plan,
  };
}
