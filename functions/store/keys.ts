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
 * | file          | CHAT#c            | FILE#f                      | USER#u#FILES, or    | CHAT#c#FILE#f            |
 * |               |                   |                             | ORG#o#FILES (owned) |                          |
 * | task          | CHAT#c            | TASK#t                      | USER#u#ASSIGNED     | TASK#t                   |
 * | operation     | OP#id             | OP                          | USER#u#OPS          | createdAt#id             |
 * | plan header   | PLAN#id           | META                        |                     |                          |
 * | plan page     | PLAN#id           | PAGE#nnnnnn (gzip, ≤1,000)  |                     |                          |
 * | op journal    | OPLOG             | startedAt#op                |                     |                          |
 * | audit entry   | OP#id             | AUDIT#at#seq                |                     |                          |
 * | user lock     | LOCK#USER#u       | LOCK                        |                     |                          |
 * | waiting (src) | ORG#source        | WAITOUT#createdAt#op        |                     |                          |
 * | incoming      | ORG#dest          | INCOMING#createdAt#op       |                     |                          |
 * | outgoing      | ORG#source        | OUTGOING#createdAt#op       |                     |                          |
 * | transfer idx  | ORG#o             | TRANSFER#IN|OUT#createdAt#op|                     |                          |
 * | deletion idx  | ORG#o             | DELETION#createdAt#op       |                     |                          |
 * | billing run   | RUN#id            | RUN                         | RUNS                | createdAt#id             |
 * | run batch     | RUN#id            | BATCH#[Rk#]nnnnnn           |                     |                          |
 * | idempotency   | IDEMPOTENCY#billing | billing.<detail-type>#hash | (Powertools records of the B2/B3 targets: store/idempotency.ts) |
 */
/** Where an organization's operation index items start, by list; the rest of the sort key is `createdAt#operationId`. */
export const ORG_OPERATION_PREFIX = { incoming: 'TRANSFER#IN#', outgoing: 'TRANSFER#OUT#', deletion: 'DELETION#' } as const;
export type OrgOperationList = keyof typeof ORG_OPERATION_PREFIX;

export const keys = {
  org: (id: string) => ({ PK: `ORG#${id}`, SK: 'ORG' }),
  allowance: (a: string, b: string) => ({ PK: `ORG#${a}`, SK: `ALLOW#${b}` }),
  waiting: (destinationOrgId: string, createdAt: string, operationId: string) => ({
    PK: `ORG#${destinationOrgId}`,
    SK: `WAITING#${createdAt}#${operationId}`,
  }),
  waitingOut: (sourceOrgId: string, createdAt: string, operationId: string) => ({
    PK: `ORG#${sourceOrgId}`,
    SK: `WAITOUT#${createdAt}#${operationId}`,
  }),
  outgoing: (sourceOrgId: string, createdAt: string, operationId: string) => ({
    PK: `ORG#${sourceOrgId}`,
    SK: `OUTGOING#${createdAt}#${operationId}`,
  }),
  incoming: (destinationOrgId: string, createdAt: string, operationId: string) => ({
    PK: `ORG#${destinationOrgId}`,
    SK: `INCOMING#${createdAt}#${operationId}`,
  }),
  /**
   * The console's lists (kept for good, unlike the markers above, which go when a transfer ends): every transfer
   * into or out of an organization, every deletion in it, newest first. Written in the operation's own transaction.
   */
  orgOperation: (orgId: string, list: OrgOperationList, position: string) => ({ PK: `ORG#${orgId}`, SK: `${ORG_OPERATION_PREFIX[list]}${position}` }),
  /** Every organization (GSI1, on the organization item itself: its plan is always current). */
  organizations: 'ORGS',
  /** Every billing run (GSI1, on the run item itself: its counters are always current). */
  runs: 'RUNS',
  run: (id: string) => ({ PK: `RUN#${id}`, SK: 'RUN' }),
  /** A resumed run's batches (attempt 1, 2, ...) are numbered again from 0 under their attempt. */
  runBatch: (id: string, n: number, attempt = 0) => ({ PK: `RUN#${id}`, SK: `BATCH#${attempt ? `R${attempt}#` : ''}${String(n).padStart(6, '0')}` }),
  plan: (id: string) => ({ PK: `PLAN#${id}`, SK: 'META' }),
  planPage: (id: string, n: number) => ({ PK: `PLAN#${id}`, SK: `PAGE#${String(n).padStart(6, '0')}` }),
  journal: (startedAt: string, operationId: string) => ({ PK: 'OPLOG', SK: `${startedAt}#${operationId}` }),
  user: (id: string) => ({ PK: `USER#${id}`, SK: 'USER' }),
  orgMembers: (orgId: string) => `ORG#${orgId}#MEMBERS`,
  contact: (a: string, b: string) => ({ PK: `USER#${a}`, SK: `CONTACT#${b}` }),
  chat: (id: string) => ({ PK: `CHAT#${id}`, SK: 'CHAT' }),
  member: (chatId: string, userId: string) => ({ PK: `CHAT#${chatId}`, SK: `MEMBER#${userId}` }),
  userChats: (userId: string) => `USER#${userId}#CHATS`,
  message: (chatId: string, id: string) => ({ PK: `CHAT#${chatId}`, SK: `MSG#${id}` }),
  file: (chatId: string, id: string) => ({ PK: `CHAT#${chatId}`, SK: `FILE#${id}` }),
  userFiles: (userId: string) => `USER#${userId}#FILES`,
  /** Files an organization owns (handed over to it, F1): found by F3 when its contract is cancelled. */
  orgFiles: (orgId: string) => `ORG#${orgId}#FILES`,
  task: (chatId: string, id: string) => ({ PK: `CHAT#${chatId}`, SK: `TASK#${id}` }),
  userAssigned: (userId: string) => `USER#${userId}#ASSIGNED`,
  operation: (id: string) => ({ PK: `OP#${id}`, SK: 'OP' }),
  userOperations: (userId: string) => `USER#${userId}#OPS`,
  lock: (userId: string) => ({ PK: `LOCK#USER#${userId}`, SK: 'LOCK' }),
};

/** The position of an operation in its organization's lists: newest first is descending order of this. */
export const operationPosition = (createdAt: string, operationId: string) => `${createdAt}#${operationId}`;

/** The organizations-index key of an organization, as a query cursor. */
export const organizationIndexKey = (orgId: string) => ({ GSI1PK: keys.organizations, GSI1SK: `ORG#${orgId}`, ...keys.org(orgId) });

/** The runs-index key of a run (its position is `createdAt#id`), as a query cursor. */
export const runIndexKey = (position: string) => ({ GSI1PK: keys.runs, GSI1SK: position, ...keys.run(position.slice(position.indexOf('#') + 1)) });

/** The members-index key of a user, as a query cursor: the next page starts after this member. */
export const memberIndexKey = (orgId: string, userId: string) => ({ GSI1PK: keys.orgMembers(orgId), GSI1SK: `USER#${userId}`, ...keys.user(userId) });

/** Where a file's bytes live in the bucket. */
export function fileObjectKey(chatId: string, fileId: string): string {
  return `chats/${chatId}/files/${fileId}`;
}

export function chatObjectPrefix(chatId: string): string {
  return `chats/${chatId}/files/`;
}

export const GSI1 = 'GSI1';
