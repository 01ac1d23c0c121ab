import { mayCommunicate, type CommunicationContext } from '../../functions/domain/communication.js';
import { isPresent, pairKey, type Organization, type User } from '../../functions/domain/model.js';
import { fileObjectKey } from '../../functions/store/keys.js';
import { HOLDS_LOCK } from '../../functions/domain/lifecycle/operation.js';
import { toOrg, toUser, type Item } from '../../functions/store/records.js';
import { readSnapshot, type Snapshot, type SnapshotSource } from '../../functions/store/snapshot.js';

/** One broken invariant: which (a stable kebab-case name), what is wrong citing the rule, and the ids involved. */
export interface Problem {
  invariant: string;
  message: string;
  ids: string[];
}

/**
 * The invariants a world at rest (no operation mid-step) must hold, each named after what breaks and citing the
 * rules that make it one. README "Reliability" lists them.
 */
export const INVARIANTS = {
  'group-without-admin': 'D5, G2: a group chat with members has an administrator',
  'forbidden-contact': 'C1, C2, T7: every contact is a pair that may communicate',
  'forbidden-membership': 'C2, T7, T8: every two members of a chat who are not deleted (active, or suspended under D7) may communicate',
  'one-sided-contact': 'T7, D4: a contact exists on both sides or on neither',
  'deleted-user-contact': "D4: a deleted user is in nobody's contacts",
  'deleted-user-member': 'D3, D4, D5: a deleted user is a member of no chat',
  'deleted-user-task': 'D6: no task is assigned to a deleted user',
  'deleted-user-token': 'D2: a deleted user holds no API token',
  'empty-chat': 'D3, D5, G2: a chat without members is deleted',
  'direct-chat-shape': 'D4, T7: a direct chat has two members, or one and is frozen',
  'dangling-reference': 'F2, D3: an item names a chat, user or organization that exists',
  'file-bytes-missing': 'F4, CONTRACT export: a file record has its bytes in the bucket',
  'bytes-without-record': 'F4: bytes in the bucket belong to a file record',
  'owner-without-record':
    "F1, F3: a file owned by an organization has its uploader's record of the hand-over (a table from before GSI3: npm run world -- migrate)",
  'over-seats': 'T4, D7: an organization has no more members (active, or suspended and holding their seat) than seats',
  'organization-counters':
    "T4, D1, D7: an organization's member counter matches its members (active or suspended), its administrator counter its active administrators",
  'no-administrator': 'D1, T5: an organization with active members has an active administrator',
  'lock-without-operation': 'T3, D1 (one operation per user): a user lock is held by a waiting or running operation on that user',
  'operation-without-lock': "one operation per user: a waiting or running operation holds its user's lock",
  'marker-without-transfer': 'T4, B2, B3: a waiting, incoming or outgoing mark names a transfer that has not ended',
  'plan-without-owner': 'X1: a stored plan belongs to its operation, saved preview or bulk run',
  'cancellation-mark-without-run':
    'B1, O3: an organization is marked as having its members deleted (no transfer out) only while that contract-cancellation run is running',
} as const;
export type Invariant = keyof typeof INVARIANTS;

/** Reads the whole world (parallel Scan segments and the bucket listing at once) and reports every broken invariant. */
export async function checkWorld(deps: SnapshotSource = {}): Promise<Problem[]> {
  return problemsOf(await readSnapshot(deps));
}

const problem = (invariant: Invariant, message: string, ids: string[]): Problem => ({
  invariant,
  message: `${INVARIANTS[invariant].split(':')[0]}: ${message}`,
  ids,
});

/** The check itself, pure: from every item and object key to the problems, sorted by invariant then ids. */
export function problemsOf(snapshot: Snapshot): Problem[] {
  const out: Problem[] = [];
  const byType = new Map<string, Item[]>();
  for (const item of snapshot.items) {
    const list = byType.get(item.type) ?? byType.set(item.type, []).get(item.type)!;
    list.push(item);
  }
  const of = (type: string) => byType.get(type) ?? [];

  const orgs = new Map<string, Organization & { counters: { members: number; admins: number } }>(
    of('org').map((i) => [i.id, { ...toOrg(i), counters: { members: Number(i.members ?? 0), admins: Number(i.admins ?? 0) } }]),
  );
  const users = new Map<string, User>(of('user').map((i) => [i.id, toUser(i)]));
  const ctx: CommunicationContext = {
    organizations: orgs,
    allowances: new Set(of('allowance').map((i) => pairKey(i.organizationId, i.otherId))),
  };
  const chats = new Map<string, Item>(of('chat').map((i) => [i.id, i]));
  const isDeleted = (id: string) => users.get(id)?.status === 'deleted';
  const missingUser = (id: string, where: string, ids: string[]) => {
    if (!users.has(id)) out.push(problem('dangling-reference', `${where} names user ${id}, who does not exist`, ids));
  };

  // Users and organizations: seats (T4), counters (T4, D1), an administrator (D1, T5), tokens (D2).
  const active = new Map<string, { members: number; admins: number }>();
  for (const u of users.values()) {
    if (u.organizationId !== null && !orgs.has(u.organizationId))
      out.push(
        problem('dangling-reference', `user ${u.id} is in organization ${u.organizationId}, which does not exist`, [
          u.id,
          u.organizationId,
        ]),
      );
    if (u.status === 'deleted' && u.apiToken)
      out.push(problem('deleted-user-token', `deleted user ${u.id} still holds an API token`, [u.id]));
    // D7: a suspended member still holds its seat (a member) but no longer counts as an administrator
    if (u.status === 'deleted' || u.organizationId === null) continue;
    const counts = active.get(u.organizationId) ?? active.set(u.organizationId, { members: 0, admins: 0 }).get(u.organizationId)!;
    counts.members++;
    if (u.orgAdmin && u.status === 'active') counts.admins++;
  }
  for (const org of orgs.values()) {
    const counts = active.get(org.id) ?? { members: 0, admins: 0 };
    if (org.seats !== undefined && counts.members > org.seats)
      out.push(
        problem('over-seats', `organization ${org.id} has ${counts.members} members (active or suspended) for ${org.seats} seats`, [
          org.id,
        ]),
      );
    if (counts.members !== org.counters.members || counts.admins !== org.counters.admins) {
      out.push(
        problem(
          'organization-counters',
          `organization ${org.id} counts ${org.counters.members} members and ${org.counters.admins} administrators; it has ${counts.members} and ${counts.admins}`,
          [org.id],
        ),
      );
    }
    if (counts.members > 0 && counts.admins === 0)
      out.push(
        problem('no-administrator', `organization ${org.id} has ${counts.members} active members and no active administrator`, [org.id]),
      );
  }

  // Contacts: both sides (T7, D4), may communicate (C1, C2), nobody deleted (D4).
  const contactSides = new Set(of('contact').map((i) => `${i.userId}\u0000${i.otherId}`));
  const seenPairs = new Set<string>();
  for (const c of of('contact')) {
    const pair = [c.userId, c.otherId].sort() as [string, string];
    if (!contactSides.has(`${c.otherId}\u0000${c.userId}`))
      out.push(problem('one-sided-contact', `${c.userId} has ${c.otherId} as a contact, not the other way round`, pair));
    if (seenPairs.has(pair.join('|'))) continue;
    seenPairs.add(pair.join('|'));
    missingUser(c.userId, 'a contact', pair);
    missingUser(c.otherId, 'a contact', pair);
    const [a, b] = [users.get(pair[0]), users.get(pair[1])];
    if (!a || !b) continue;
    const deleted = [a, b].filter((u) => u.status === 'deleted').map((u) => u.id);
    if (deleted.length)
      out.push(
        problem(
          'deleted-user-contact',
          `the contact ${pair.join('–')} remains though ${deleted.join(' and ')} ${deleted.length > 1 ? 'are' : 'is'} deleted`,
          pair,
        ),
      );
    else if (!mayCommunicate(ctx, a, b))
      out.push(problem('forbidden-contact', `${pair.join(' and ')} are contacts but may not communicate`, pair));
  }

  // Chats and their members.
  const membersOf = new Map<string, Item[]>();
  for (const m of of('member')) (membersOf.get(m.chatId) ?? membersOf.set(m.chatId, []).get(m.chatId)!).push(m);
  for (const [chatId, members] of membersOf) {
    if (!chats.has(chatId))
      out.push(problem('dangling-reference', `chat ${chatId} has ${members.length} member items but no chat`, [chatId]));
  }
  for (const chat of chats.values()) {
    const members = membersOf.get(chat.id) ?? [];
    for (const m of members) {
      missingUser(m.userId, `a member of chat ${chat.id}`, [chat.id, m.userId]);
      if (isDeleted(m.userId))
        out.push(
          problem('deleted-user-member', `deleted user ${m.userId} is still a member of ${chat.chatType} chat ${chat.id}`, [
            chat.id,
            m.userId,
          ]),
        );
    }
    if (members.length === 0) out.push(problem('empty-chat', `${chat.chatType} chat ${chat.id} has no members`, [chat.id]));
    if (chat.chatType === 'group' && members.length > 0 && !members.some((m) => m.role === 'admin')) {
      out.push(problem('group-without-admin', `group chat ${chat.id} has ${members.length} members and no administrator`, [chat.id]));
    }
    if (chat.chatType === 'direct' && (members.length > 2 || (members.length === 1 && !chat.frozen))) {
      out.push(
        problem('direct-chat-shape', `direct chat ${chat.id} has ${members.length} members${chat.frozen ? '' : ' and is not frozen'}`, [
          chat.id,
        ]),
      );
    }
    // T8 reading: a member suspended under a grace period (D7) still counts as a member until the purge
    const forbidden = forbiddenPair(
      ctx,
      members.map((m) => users.get(m.userId)).filter((u): u is User => isPresent(u)),
    );
    if (forbidden)
      out.push(
        problem(
          'forbidden-membership',
          `${forbidden[0]} and ${forbidden[1]} are both in ${chat.chatType} chat ${chat.id} but may not communicate`,
          [chat.id, ...forbidden],
        ),
      );
  }

  // What lives in a chat lives in a chat that exists (F2, D3); tasks of deleted assignees are gone (D6).
  for (const type of ['message', 'file', 'task']) {
    for (const i of of(type))
      if (!chats.has(i.chatId))
        out.push(problem('dangling-reference', `${type} ${i.id} is in chat ${i.chatId}, which does not exist`, [i.chatId, i.id]));
  }
  for (const t of of('task'))
    if (isDeleted(t.assigneeId))
      out.push(problem('deleted-user-task', `task ${t.id} is still assigned to deleted user ${t.assigneeId}`, [t.id, t.assigneeId]));

  // Files and bytes, both ways (F4).
  const objects = new Set(snapshot.objectKeys);
  const recorded = new Set<string>();
  for (const f of of('file')) {
    const key = fileObjectKey(f.chatId, f.id);
    recorded.add(key);
    if (!objects.has(key)) out.push(problem('file-bytes-missing', `file ${f.id} in chat ${f.chatId} has no bytes at ${key}`, [f.id]));
  }
  for (const key of snapshot.objectKeys)
    if (!recorded.has(key)) out.push(problem('bytes-without-record', `${key} is in the bucket without a file record`, [key]));
  const handedOver = new Set(of('handed-over').map((i) => JSON.stringify([i.userId, i.organizationId])));
  for (const f of of('file'))
    if (f.ownerOrganizationId && !handedOver.has(JSON.stringify([f.uploaderId, f.ownerOrganizationId])))
      out.push(
        problem(
          'owner-without-record',
          `file ${f.id} in chat ${f.chatId} is owned by ${f.ownerOrganizationId}, but its uploader ${f.uploaderId} has no record of handing files over to it`,
          [f.id],
        ),
      );

  // Locks, operations, marks and plans.
  const operations = new Map<string, Item>(of('operation').map((i) => [i.id, i]));
  const isActive = (op: Item | undefined) => op !== undefined && (HOLDS_LOCK as readonly string[]).includes(op.status);
  const locks = new Map<string, Item>(of('lock').map((i) => [i.userId, i]));
  for (const lock of locks.values()) {
    const op = operations.get(lock.operationId);
    if (!isActive(op) || op!.userId !== lock.userId) {
      out.push(
        problem(
          'lock-without-operation',
          `user ${lock.userId} is locked by ${lock.operationId}, which is ${op ? `${op.status} (on ${op.userId})` : 'absent'}`,
          [lock.userId, lock.operationId],
        ),
      );
    }
  }
  for (const op of operations.values()) {
    if (isActive(op) && locks.get(op.userId)?.operationId !== op.id)
      out.push(
        problem('operation-without-lock', `${op.operation} ${op.id} is ${op.status} without the lock on user ${op.userId}`, [
          op.id,
          op.userId,
        ]),
      );
  }
  for (const type of ['waiting', 'incoming', 'outgoing']) {
    for (const mark of of(type)) {
      const op = operations.get(mark.operationId);
      if (!isActive(op))
        out.push(
          problem(
            'marker-without-transfer',
            `${String(mark.PK)} marks transfer ${mark.operationId} ${type}, which is ${op?.status ?? 'absent'}`,
            [mark.operationId],
          ),
        );
    }
  }
  const runs = new Set(of('run').map((i) => i.id as string));
  const runStatus = new Map(of('run').map((i) => [i.id as string, i.status as string]));
  for (const org of of('org')) {
    if (org.cancellationRun === undefined || org.cancellationRun === null) continue;
    const status = runStatus.get(String(org.cancellationRun));
    if (status !== 'running')
      out.push(
        problem(
          'cancellation-mark-without-run',
          `organization ${org.id} is marked by run ${org.cancellationRun}, which is ${status ?? 'absent'}`,
          [String(org.id), String(org.cancellationRun)],
        ),
      );
  }
  // O4: a plan's key holds its id encoded (store/keys.ts), so the id is read from the header and the pages
  const headers = new Map<string, Item>(of('plan').map((i) => [String(i.PK), i]));
  for (const header of headers.values()) {
    const planId = String(JSON.parse(String(header.header ?? '{}')).id);
    const owner = planOwner(planId, header);
    if (owner.kind === 'preview') continue;
    const exists = owner.kind === 'run' ? runs.has(owner.id) : operations.has(owner.id);
    if (!exists)
      out.push(problem('plan-without-owner', `plan ${planId} belongs to ${owner.kind} ${owner.id}, which does not exist`, [planId]));
  }
  const pageless = new Set(
    of('plan-page')
      .filter((i) => !headers.has(String(i.PK)))
      .map((i) => String(i.planId ?? i.PK)),
  );
  for (const planId of pageless) out.push(problem('plan-without-owner', `plan ${planId} has pages but no header`, [planId]));

  return out.sort((a, b) =>
    a.invariant !== b.invariant ? (a.invariant < b.invariant ? -1 : 1) : a.ids.join('\u0000') < b.ids.join('\u0000') ? -1 : 1,
  );
}

/**
 * Plan ids (store/plans.ts callers): a saved preview's header carries its expiry; an operation's n-th plan is
 * `${operationId}.${n}`; a bulk run's n-th batch plan is `${runId}.b${n}`.
 */
function planOwner(planId: string, header: Item): { kind: 'preview' | 'operation' | 'run'; id: string } {
  if (header.expiresAt !== undefined || JSON.parse(String(header.header ?? '{}')).expiresAt !== undefined)
    return { kind: 'preview', id: planId };
  const dot = planId.lastIndexOf('.');
  const [owner, suffix] = [planId.slice(0, dot), planId.slice(dot + 1)];
  return suffix.startsWith('b') ? { kind: 'run', id: owner } : { kind: 'operation', id: owner };
}

/**
 * C1, C2 over a chat's active members without looking at every pair: whether two users may communicate depends
 * only on each one's organization and whether that side is cleared regardless of the other (no restriction, or an
 * exemption), so the members fall into a few classes and one representative of each is enough.
 */
function forbiddenPair(ctx: CommunicationContext, members: readonly User[]): [string, string] | undefined {
  const classes = new Map<string, User>();
  for (const u of members) {
    const restricts =
      u.organizationId !== null && ctx.organizations.get(u.organizationId)?.restrictOutsideCommunication && !u.allowOutsideCommunication;
    const key = `${u.organizationId ?? ''}\u0000${restricts ? 'r' : 'c'}`;
    const rep = classes.get(key);
    if (!rep || u.id < rep.id) classes.set(key, u);
  }
  const reps = [...classes.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  for (let i = 0; i < reps.length; i++) {
    for (let j = i + 1; j < reps.length; j++) if (!mayCommunicate(ctx, reps[i]!, reps[j]!)) return [reps[i]!.id, reps[j]!.id];
  }
  return undefined;
}
