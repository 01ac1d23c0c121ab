/**
 * Which operation a request belongs to, which keys many operations write, and whether a concurrent run changed
 * anything outside its operations' plans. Pure (the records come from local/request-counts.ts).
 */

/**
 * A Contract Cancelled event's run id, as functions/services/billing-events.ts `runIdFor` makes it (not imported:
 * that module creates the store's SDK clients when loaded, before the embedded stack has set their endpoints).
 */
export const cancellationRunId = (eventId: string) => `b1-${eventId}`;

/** What the attribution needs of a Lambda invocation (local/functions.ts `InvocationScope`). */
export interface InvocationLike {
  name: string;
  event: unknown;
  result?: unknown;
}

const bodyId = (result: any): string | undefined => {
  if (!result || typeof result.body !== 'string') return undefined;
  try {
    const id = JSON.parse(result.body)?.id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
};

/**
 * The operation an invocation works for: a step's `operationId`, a bulk step's `runId`, an API request's `{id}` path
 * parameter or (a POST that creates the operation) the `id` of its answer, a Contract Cancelled event's run
 * (`b1-<event id>`), any other event by its id; otherwise the invocation itself (`<function>:<n>`), so that two
 * unrelated invocations are never taken for one operation.
 */
export function operationOf(invocation: InvocationLike | undefined, fallback: () => string): string {
  const e: any = invocation?.event;
  if (!invocation) return 'harness';
  if (e && typeof e === 'object') {
    if (typeof e.operationId === 'string') return e.operationId;
    if (typeof e.runId === 'string') return e.runId;
    if (e.pathParameters && typeof e.pathParameters.id === 'string') return e.pathParameters.id;
    const created = bodyId(invocation.result);
    if (created) return created;
    if (typeof e.id === 'string' && typeof e['detail-type'] === 'string')
      return e['detail-type'] === 'Contract Cancelled' ? cancellationRunId(e.id) : `event:${e.id}`;
  }
  return `${invocation.name}:${fallback()}`;
}

/**
 * Whether a key (`PK\u0000SK`) is the world's own data: users and their contacts, chats and everything in them
 * (members, messages, files, tasks), outside allowances and each organization's own items (its counters).
 * Everything else (operation records, locks, plans, journals, audit entries, indexes, runs) is the product's own.
 */
export function isWorldDataKey(key: string): boolean {
  const [pk = '', sk = ''] = key.split('\u0000');
  // the user, its contacts, and its records of the files it handed over (keys.ts `handedOver`: the files' owners)
  if (pk.startsWith('USER#') && (sk === 'USER' || sk.startsWith('CONTACT#') || sk.startsWith('HANDED#'))) return true;
  if (pk.startsWith('CHAT#')) return true;
  // the organization's item (its seat and member counters) and its run counter (store/operations.ts quietSince)
  if (pk.startsWith('ORG#') && (sk === 'ORG' || sk === 'RUNS' || sk.startsWith('ALLOW#'))) return true;
  return false;
}

export interface HotKey {
  key: string;
  /** Distinct operations that wrote it. */
  operations: number;
  writes: number;
}

/** Keys outside the world's own data, by the number of distinct operations that wrote each, most first (ties: key). */
export function hottestKeys(writes: Iterable<{ key: string; operation: string }>, top = 5): HotKey[] {
  const byKey = new Map<string, { ops: Set<string>; writes: number }>();
  for (const w of writes) {
    if (isWorldDataKey(w.key)) continue;
    const k = byKey.get(w.key) ?? { ops: new Set<string>(), writes: 0 };
    k.ops.add(w.operation);
    k.writes++;
    byKey.set(w.key, k);
  }
  return [...byKey.entries()]
    .map(([key, v]) => ({ key: key.replace('\u0000', ' '), operations: v.ops.size, writes: v.writes }))
    .sort((a, b) => b.operations - a.operations || b.writes - a.writes || a.key.localeCompare(b.key))
    .slice(0, top);
}

/** What a set of plans allows to change in a world export, by entity. */
export interface Allowed {
  users: Set<string>;
  contacts: Set<string>;
  chats: Set<string>;
  messages: Set<string>;
  files: Set<string>;
  tasks: Set<string>;
}
export const emptyAllowed = (): Allowed => ({
  users: new Set(),
  contacts: new Set(),
  chats: new Set(),
  messages: new Set(),
  files: new Set(),
  tasks: new Set(),
});
const pair = (a: string, b: string) => [a, b].sort().join('|');

/** Adds what one impact's effects (CONTRACT "Impact") allow to change; a deleted chat takes its messages, files and tasks. */
export function allowEffects(into: Allowed, effects: readonly any[], before: any): Allowed {
  const deletedChats = new Set<string>();
  for (const e of effects) {
    switch (e.kind) {
      case 'user-deleted':
      case 'membership-changed':
      case 'security-changed':
      case 'api-token-revoked':
        into.users.add(e.userId);
        break;
      case 'contact-removed':
        into.contacts.add(pair(e.userIds[0], e.userIds[1]));
        break;
      case 'chat-deleted':
        deletedChats.add(e.chatId);
        into.chats.add(e.chatId);
        break;
      case 'chat-left':
      case 'chat-frozen':
      case 'admin-granted':
      case 'chat-joined':
        into.chats.add(e.chatId);
        break;
      case 'task-deleted':
      case 'task-reassigned':
        into.tasks.add(e.taskId);
        break;
      case 'file-deleted':
      case 'file-handed-over':
        into.files.add(e.fileId);
        break;
      default:
        throw new Error(`allowEffects: unknown effect kind ${String(e.kind)}`);
    }
  }
  for (const m of before.messages ?? []) if (deletedChats.has(m.chatId)) into.messages.add(m.id);
  for (const f of before.files ?? []) if (deletedChats.has(f.chatId)) into.files.add(f.id);
  for (const t of before.tasks ?? []) if (deletedChats.has(t.chatId)) into.tasks.add(t.id);
  return into;
}

/**
 * Adds what a contract cancellation of an organization may change: every active member, their contacts, every chat
 * one of them is in and what it holds, tasks assigned to them (B1 is F3 over all members: the union of the
 * members' deletion plans lies within this).
 */
export function allowCancellation(into: Allowed, organizationId: string, before: any): Allowed {
  const members = new Set<string>(
    (before.users ?? [])
      .filter((u: any) => u.organizationId === organizationId && (u.status ?? 'active') === 'active')
      .map((u: any) => u.id),
  );
  for (const id of members) into.users.add(id);
  for (const [a, b] of before.contacts ?? []) if (members.has(a) || members.has(b)) into.contacts.add(pair(a, b));
  const chats = new Set<string>(
    (before.chats ?? []).filter((c: any) => c.members.some((m: any) => members.has(m.userId))).map((c: any) => c.id),
  );
  for (const c of chats) into.chats.add(c);
  for (const m of before.messages ?? []) if (chats.has(m.chatId)) into.messages.add(m.id);
  for (const f of before.files ?? []) if (chats.has(f.chatId) || members.has(f.uploaderId)) into.files.add(f.id);
  for (const t of before.tasks ?? []) if (chats.has(t.chatId) || members.has(t.assigneeId)) into.tasks.add(t.id);
  return into;
}

/** Fields an export computes when read (display names): a change in them alone is no write. */
const COMPUTED = new Set(['displayName', 'speakerName', 'requesterName', 'assigneeName', 'uploaderName']);
const stable = (x: any) =>
  JSON.stringify(
    Object.fromEntries(
      Object.entries(x ?? {})
        .filter(([k]) => !COMPUTED.has(k))
        .sort(([a], [b]) => a.localeCompare(b)),
    ),
  );

/** Every entity of `before` that is gone or changed in `after` and that no plan allowed, as `kind id`. */
export function changesOutsidePlans(before: any, after: any, allowed: Allowed): string[] {
  const out: string[] = [];
  const check = (kind: keyof Allowed, list: any[] | undefined, afterList: any[] | undefined, idOf: (x: any) => string) => {
    const next = new Map((afterList ?? []).map((x) => [idOf(x), stable(x)]));
    for (const x of list ?? []) {
      const id = idOf(x);
      if (next.get(id) === stable(x)) continue;
      if (!allowed[kind].has(id)) out.push(`${kind} ${id}`);
    }
  };
  check('users', before.users, after.users, (u) => u.id);
  check('contacts', before.contacts, after.contacts, (p) => pair(p[0], p[1]));
  check('chats', before.chats, after.chats, (c) => c.id);
  check('messages', before.messages, after.messages, (m) => m.id);
  check('files', before.files, after.files, (f) => f.id);
  check('tasks', before.tasks, after.tasks, (t) => t.id);
  return out;
}
