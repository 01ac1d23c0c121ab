/**
 * Single-table key design. Access patterns (issue: "a user's contacts and chat memberships, a chat's members,
 * files by chat and uploader, tasks, operations by id and by user, pending transfers by destination"):
 *
 * | item          | PK                | SK                          | GSI1PK              | GSI1SK                   |
 * |---------------|-------------------|-----------------------------|---------------------|--------------------------|
 * | organization  | ORG#o             | ORG                         | ORGS                | ORG#o                    |
 * | allowance     | ORG#a             | ALLOW#b (and reverse)       |                     |                          |
 * | waiting seat  | ORG#dest          | WAITING#createdAt#op        |                     |                          |
 * | user          | USER#u            | USER                        | ORG#o#MEMBERS       | USER#u                   |
 * | contact       | USER#a            | CONTACT#b (and reverse)     |                     |                          |
 * | chat          | CHAT#c            | CHAT                        |                     |                          |
 * | member        | CHAT#c            | MEMBER#u                    | USER#u#CHATS        | CHAT#c                   |
 * | message       | CHAT#c            | MSG#m                       |                     |                          |
 * | file          | CHAT#c            | FILE#f                      | (GSI3) USER#u#FILES | CHAT#c#FILE#f            |
 * | handed over   | USER#u            | HANDED#o                    | ORG#o#HANDED        | USER#u                   |
 * | task          | CHAT#c            | TASK#t                      | USER#u#ASSIGNED     | TASK#t                   |
 * | operation     | OP#id             | OP                          | USER#u#OPS          | createdAt#id             |
 * | plan header   | PLAN#id           | META                        |                     |                          |
 * | plan page     | PLAN#id           | PAGE#nnnnnn (gzip, ≤1,000)  |                     |                          |
 * | plan work     | PLAN#id           | WORK#name#nnnnnn (gzip)     |                     |                          |
 * | run journal   | OPLOG#o           | startedAt#run               |                     |                          |
 * | run counter   | ORG#o             | RUNS                        |                     |                          |
 * | audit entry   | OP#id             | AUDIT#at#seq                |                     |                          |
 * | user lock     | LOCK#USER#u       | LOCK                        |                     |                          |
 * | waiting (src) | ORG#source        | WAITOUT#createdAt#op        |                     |                          |
 * | incoming      | ORG#dest          | INCOMING#createdAt#op       |                     |                          |
 * | outgoing      | ORG#source        | OUTGOING#createdAt#op       |                     |                          |
 * | transfer idx  | ORG#o             | TRANSFER#IN|OUT#createdAt#op|                     |                          |
 * | deletion idx  | ORG#o             | DELETION#createdAt#op       |                     |                          |
 * | billing run   | RUN#id            | RUN                         | RUNS                | createdAt#id             |
 * | layout mark   | SCHEMA            | HAND-OVERS                  |                     |                          |
 * | run batch     | RUN#id            | BATCH#[Rk#]nnnnnn           |                     |                          |
 * | idempotency   | IDEMPOTENCY#billing | billing.<detail-type>#hash | (Powertools records of the B2/B3 targets: store/idempotency.ts) |
 *
 * GSI2, the outbox index (sparse, keys and id only): only an operation item or a billing run item whose outbox holds
 * entries (docs/EVENTS.md, store/outbox.ts) carries `GSI2PK` = `OUTBOX#<shard>` and `GSI2SK` = its outbox mark
 * (`<at>#<transition>:<run or attempt>` of the last outbox write, or `<at>#sweep:<uuid>` of the sweeper's claim), so
 * the outbox sweeper finds the entries left longest without reading any other item. Both items' GSI1 keys are lists
 * already (a user's operations, the runs), hence an index of its own.
 *
 * GSI3, the uploads index (issue 18: an F1 hand-over is one item write): only file items carry `GSI3PK` =
 * `USER#<uploader>#FILES` and `GSI3SK` = `CHAT#<chat>#FILE#<file>`, which never change, projecting `id` and `chatId`.
 * Nothing an F1 hand-over changes is in any index: the file's `ownerOrganizationId` changes on the item alone (1 write
 * unit, where moving the file between two GSI1 lists took 3), and the owners are found from the user's `HANDED#o`
 * items instead (read with its contacts).
 *
 * O4: every id in a key (and in an object key) is one encoded component (`keyComponent` below), so no two ids map to the
 * same key, whatever characters they hold: `#`, `/` and `%` never appear raw in a component, and a long one is
 * replaced by its hash, which keeps a key of two 256-character ids of 4-byte characters within DynamoDB's limits.
 */
import { createHash } from 'node:crypto';

/** Characters a component keeps as they are (those `encodeURIComponent` keeps): ids made of them read as themselves. */
const PLAIN = /^[A-Za-z0-9\-_.!~*'()]$/;
/** A component longer than this (in bytes, all ASCII) is replaced by its hash: two of them and a prefix fit a sort key of 1,024 bytes. */
export const MAX_COMPONENT = 400;

/**
 * O4: one id as a key component, injective. Percent-encoding of the UTF-8 bytes (`%XX`, upper-case hex), a lone
 * surrogate as `%uXXXX`; if that is longer than MAX_COMPONENT, `%h` and the SHA-256 of the encoding (base64url).
 * No encoding starts `%h` (it would be `%XX` with hex digits), so a hashed id never equals an encoded one.
 */
export function keyComponent(value: string): string {
  let out = '';
  for (const ch of value) {
    if (PLAIN.test(ch)) out += ch;
    else {
      const cp = ch.codePointAt(0)!;
      if (cp >= 0xd800 && cp <= 0xdfff) out += `%u${cp.toString(16).toUpperCase().padStart(4, '0')}`;
      else for (const byte of Buffer.from(ch, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    }
  }
  return out.length <= MAX_COMPONENT ? out : `%h${createHash('sha256').update(out).digest('base64url')}`;
}
const enc = keyComponent;

/** Where an organization's operation index items start, by list; the rest of the sort key is `createdAt#operationId`. */
export const ORG_OPERATION_PREFIX = { incoming: 'TRANSFER#IN#', outgoing: 'TRANSFER#OUT#', deletion: 'DELETION#' } as const;
export type OrgOperationList = keyof typeof ORG_OPERATION_PREFIX;

export const keys = {
  org: (o: string) => ({ PK: `ORG#${enc(o)}`, SK: 'ORG' }),
  allowance: (a: string, b: string) => ({ PK: `ORG#${enc(a)}`, SK: `ALLOW#${enc(b)}` }),
  waiting: (destinationOrgId: string, createdAt: string, operationId: string) => ({
    PK: `ORG#${enc(destinationOrgId)}`,
    SK: `WAITING#${operationPosition(createdAt, operationId)}`,
  }),
  waitingOut: (sourceOrgId: string, createdAt: string, operationId: string) => ({
    PK: `ORG#${enc(sourceOrgId)}`,
    SK: `WAITOUT#${operationPosition(createdAt, operationId)}`,
  }),
  outgoing: (sourceOrgId: string, createdAt: string, operationId: string) => ({
    PK: `ORG#${enc(sourceOrgId)}`,
    SK: `OUTGOING#${operationPosition(createdAt, operationId)}`,
  }),
  incoming: (destinationOrgId: string, createdAt: string, operationId: string) => ({
    PK: `ORG#${enc(destinationOrgId)}`,
    SK: `INCOMING#${operationPosition(createdAt, operationId)}`,
  }),
  /**
   * The console's lists (kept for good, unlike the markers above, which go when a transfer ends): every transfer
   * into or out of an organization, every deletion in it, newest first. Written in the operation's own transaction.
   * `position` is an `operationPosition` (already encoded).
   */
  orgOperation: (orgId: string, list: OrgOperationList, position: string) => ({
    PK: `ORG#${enc(orgId)}`,
    SK: `${ORG_OPERATION_PREFIX[list]}${position}`,
  }),
  /** Every organization (GSI1, on the organization item itself: its plan is always current). */
  organizations: 'ORGS',
  /** Every billing run (GSI1, on the run item itself: its counters are always current). */
  runs: 'RUNS',
  run: (r: string) => ({ PK: `RUN#${enc(r)}`, SK: 'RUN' }),
  /** A resumed run's batches (attempt 1, 2, ...) are numbered again from 0 under their attempt. */
  runBatch: (r: string, n: number, attempt = 0) => ({
    PK: `RUN#${enc(r)}`,
    SK: `BATCH#${attempt ? `R${attempt}#` : ''}${String(n).padStart(6, '0')}`,
  }),
  plan: (p: string) => ({ PK: `PLAN#${enc(p)}`, SK: 'META' }),
  planPage: (p: string, n: number) => ({ PK: `PLAN#${enc(p)}`, SK: `PAGE#${String(n).padStart(6, '0')}` }),
  /** The planning workflow's work on a plan (store/plan-work.ts): part `n` of what `name` holds, kept a day. */
  planWork: (p: string, name: string, n: number) => ({ PK: `PLAN#${enc(p)}`, SK: `WORK#${name}#${String(n).padStart(6, '0')}` }),
  /** A run's entry in the journal of one organization it changes (store/operations.ts `otherRunsOverlapped`). */
  journal: (orgId: string, startedAt: string, runId: string) => ({ PK: `OPLOG#${enc(orgId)}`, SK: operationPosition(startedAt, runId) }),
  /** The organization's own counter of the runs begun in its journal (store/operations.ts `quietSince`). */
  runCounter: (orgId: string) => ({ PK: `ORG#${enc(orgId)}`, SK: 'RUNS' }),
  user: (u: string) => ({ PK: `USER#${enc(u)}`, SK: 'USER' }),
  orgMembers: (orgId: string) => `ORG#${enc(orgId)}#MEMBERS`,
  /** GSI1SK of a user in its organization's members (in id order where ids are plain). */
  memberPosition: (userId: string) => `USER#${enc(userId)}`,
  contact: (a: string, b: string) => ({ PK: `USER#${enc(a)}`, SK: `CONTACT#${enc(b)}` }),
  chat: (c: string) => ({ PK: `CHAT#${enc(c)}`, SK: 'CHAT' }),
  member: (chatId: string, userId: string) => ({ PK: `CHAT#${enc(chatId)}`, SK: `MEMBER#${enc(userId)}` }),
  userChats: (userId: string) => `USER#${enc(userId)}#CHATS`,
  /** GSI1SK of a membership among a user's chats. */
  chatPosition: (chatId: string) => `CHAT#${enc(chatId)}`,
  message: (chatId: string, m: string) => ({ PK: `CHAT#${enc(chatId)}`, SK: `MSG#${enc(m)}` }),
  file: (chatId: string, f: string) => ({ PK: `CHAT#${enc(chatId)}`, SK: `FILE#${enc(f)}` }),
  /** GSI3PK: a user's uploads, whoever owns them. */
  userFiles: (userId: string) => `USER#${enc(userId)}#FILES`,
  /** GSI3SK of a file among its uploader's, in chat order (`chatPosition` starts it). */
  filePosition: (chatId: string, f: string) => `CHAT#${enc(chatId)}#FILE#${enc(f)}`,
  /**
   * F1, F3: some of user u's files were handed over to organization o (store/apply.ts writes it before the files
   * change): a plan for u reads which of its uploads are owned only when u has one, and F3 finds o's files from them.
   */
  handedOver: (userId: string, orgId: string) => ({ PK: `USER#${enc(userId)}`, SK: `HANDED#${enc(orgId)}` }),
  /** The table holds every owned file's hand-over record (store/hand-overs.ts). */
  handOverRecordsMark: { PK: 'SCHEMA', SK: 'HAND-OVERS' },
  /** GSI1: the users who handed files over to an organization (F3, when its contract is cancelled). */
  orgHandedOver: (orgId: string) => `ORG#${enc(orgId)}#HANDED`,
  task: (chatId: string, t: string) => ({ PK: `CHAT#${enc(chatId)}`, SK: `TASK#${enc(t)}` }),
  userAssigned: (userId: string) => `USER#${enc(userId)}#ASSIGNED`,
  /** GSI1SK of a task among its assignee's tasks. */
  taskPosition: (t: string) => `TASK#${enc(t)}`,
  operation: (o: string) => ({ PK: `OP#${enc(o)}`, SK: 'OP' }),
  userOperations: (userId: string) => `USER#${enc(userId)}#OPS`,
  lock: (userId: string) => ({ PK: `LOCK#USER#${enc(userId)}`, SK: 'LOCK' }),
  /** X4: an operation's export (its state) and its archive parts. */
  exportArchive: (o: string) => ({ PK: `OP#${enc(o)}`, SK: 'EXPORT' }),
  exportPart: (o: string, n: number) => ({ PK: `OP#${enc(o)}`, SK: `EXPORT#PART#${String(n).padStart(6, '0')}` }),
};

/** The position of an operation (or run) in its lists: newest first is descending order of this (times hold no `#`). */
export function operationPosition(createdAt: string, operationId: string): string {
  return `${createdAt}#${enc(operationId)}`;
}

/** The organizations-index key of an organization, as a query cursor. */
export const organizationIndexKey = (orgId: string) => ({ GSI1PK: keys.organizations, GSI1SK: `ORG#${enc(orgId)}`, ...keys.org(orgId) });

/** The runs-index key of a run (its position is `createdAt#id`, the id encoded), as a query cursor. */
export const runIndexKey = (position: string) => ({
  GSI1PK: keys.runs,
  GSI1SK: position,
  PK: `RUN#${position.slice(position.indexOf('#') + 1)}`,
  SK: 'RUN',
});

/** The members-index key of a user, as a query cursor: the next page starts after this member. */
export const memberIndexKey = (orgId: string, userId: string) => ({
  GSI1PK: keys.orgMembers(orgId),
  GSI1SK: keys.memberPosition(userId),
  ...keys.user(userId),
});

/** Where a file's bytes live in the bucket (O4: neither id can reach into another's path). */
export function fileObjectKey(chatId: string, fileId: string): string {
  return `chats/${enc(chatId)}/files/${enc(fileId)}`;
}

/** X4: an archive part of an operation's export, in the export bucket (O4). */
export function exportObjectKey(operationId: string, part: number): string {
  return `exports/${enc(operationId)}/part-${String(part).padStart(6, '0')}.zip`;
}

export function chatObjectPrefix(chatId: string): string {
  return `chats/${enc(chatId)}/files/`;
}

export const GSI1 = 'GSI1';
/** A user's uploads, by chat (the key design above): `uploaderId` = u, `chatId` in order. */
export const UPLOADS_INDEX = 'GSI3';

/** docs/EVENTS.md, the outbox sweeper: the sparse index of operations and billing runs with outbox entries (keys above). */
export const OUTBOX_INDEX = 'GSI2';
/**
 * Partitions of the outbox index: each transition writes its index entry and removes it, and one index partition takes
 * about 1,000 writes a second; the sweeper queries each.
 */
export const OUTBOX_SHARDS = 4;
export const outboxShards = (): string[] => Array.from({ length: OUTBOX_SHARDS }, (_, n) => `OUTBOX#${n}`);
/** The outbox index partition of an operation or a billing run: spread by a hash of its id. */
export const outboxShard = (id: string): string => `OUTBOX#${createHash('sha256').update(id).digest()[0]! % OUTBOX_SHARDS}`;
