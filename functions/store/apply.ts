import { conditionFailed } from './conditions.js';
import type { Effect, EffectKind, EffectOf } from '../domain/impact.js';
import { Ineligible, NoFreeSeat } from '../shared/errors.js';
import {
  batchWrite,
  deleteObjects,
  del,
  immediately,
  inParallel,
  put,
  queryAll,
  transactWrite,
  type Statement,
  type WriteSink,
} from './batch.js';
import { handedOverItem } from './records.js';
import { fileObjectKey, keys } from './keys.js';
import type { PlanEntry } from './plans.js';
import { bucketName, getUser, tableName } from './table.js';
import type { User } from '../domain/model.js';
import { applyChatsJoined, applyTasksReassigned, joinedChats, type Succession } from './apply-successor.js';

/**
 * Applies planned effects, gathered across a page of plan entries (or several): deletes in BatchWriteItem of 25,
 * conditional updates in BatchExecuteStatement of 25, object deletes in DeleteObjects of 1,000; a transaction only
 * where atomicity is required (membership and seats, T4/T9; the user and its organization's counters, D1/D2).
 * Every function is idempotent: deletes accept "already gone", updates are conditional on the item still existing.
 */

const ofKind = <K extends EffectKind>(entries: readonly PlanEntry[], kind: K) =>
  entries.filter((s): s is PlanEntry & { effect: EffectOf<K> } => s.effect.kind === kind);

/** A PartiQL update of one existing item (an absent item fails its condition and is skipped). */
export const update = (set: string, params: unknown[], key: { PK: string; SK: string }, condition?: [string, ...unknown[]]): Statement => ({
  Statement: `UPDATE "${tableName()}" SET ${set} WHERE "PK" = ? AND "SK" = ?${condition ? ` AND ${condition[0]}` : ''}`,
  Parameters: [...params, key.PK, key.SK, ...(condition ? condition.slice(1) : [])],
});

/**
 * T6, T9: membership, seats at both organizations, exemptions and token revocation, atomically.
 * The destination's seat count is conditional, so a seat is never over-allocated (T4).
 */
export async function applyMembership(entries: readonly PlanEntry[], operation?: ApplyingOperation): Promise<void> {
  const move = ofKind(entries, 'membership-changed')[0]?.effect;
  if (!move) return;
  const security = ofKind(entries, 'security-changed')[0]?.effect;
  const user = operation?.subject?.id === move.userId ? operation.subject : await getUser(move.userId);
  if (user?.organizationId === move.toOrganizationId) return; // applied already
  const table = tableName();
  try {
    await transactWrite([
      {
        Update: {
          TableName: table,
          Key: keys.user(move.userId),
          UpdateExpression:
            'SET organizationId = :to, GSI1PK = :members, allowOutsideCommunication = :aoc, allowFileSharing = :afs, apiToken = :null',
          ConditionExpression: 'organizationId = :from AND #status = :active',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':to': move.toOrganizationId,
            ':from': move.fromOrganizationId,
            ':members': keys.orgMembers(move.toOrganizationId),
            ':aoc': security?.allowOutsideCommunication ?? false,
            ':afs': security?.allowFileSharing ?? false,
            ':null': null,
            ':active': 'active',
          },
        },
      },
      {
        Update: {
          TableName: table,
          Key: keys.org(move.toOrganizationId),
          UpdateExpression: 'SET members = members + :one',
          ConditionExpression: 'attribute_not_exists(seats) OR seats = :null OR members < seats',
          ExpressionAttributeValues: { ':one': 1, ':null': null },
        },
      },
      {
        Update: {
          TableName: table,
          Key: keys.org(move.fromOrganizationId),
          UpdateExpression: 'SET members = members - :one',
          // O3, B1: no member moves out while the source's contract-cancellation run deletes its members
          ConditionExpression: 'members > :zero AND attribute_not_exists(cancellationRun)',
          ExpressionAttributeValues: { ':one': 1, ':zero': 0 },
        },
      },
      ...beganApplying(operation),
    ]);
  } catch (error) {
    if (conditionFailed(error, 1)) {
      throw new NoFreeSeat(`organization ${move.toOrganizationId} has no free seat`);
    }
    if (conditionFailed(error, 0))
      throw new Ineligible([{ rule: 'O1', message: `user ${move.userId} is no longer an active member of ${move.fromOrganizationId}` }]);
    if (conditionFailed(error, 2))
      throw new Ineligible([
        { rule: 'B1', message: `the contract of ${move.fromOrganizationId} is being cancelled: its members are being deleted` },
      ]);
    if (operation && conditionFailed(error, 3))
      throw new Ineligible([{ rule: 'O1', message: `operation ${operation.id} is no longer running` }]);
    throw error;
  }
}

/** The operation whose plan is applied: its first effect records, in the same transaction, that the plan began (O1, O2). */
export interface ApplyingOperation {
  id: string;
  planId: string;
  /** The operation's user (F1: the uploader of the files it hands over). */
  userId: string;
  /** The organization the user must still be a member of (O1). */
  organizationId?: string;
  /** X3: the user and its successor, who joins the chats the user leaves. */
  succession?: Succession;
  /**
   * The user as this invocation read it for its premise check (O1), just before: a transfer's membership change
   * does not read it again to tell whether it landed already (its transaction is conditional on the same fields).
   */
  subject?: User;
}

/** The write that marks the plan as begun, atomically with its first effect: a resume keeps exactly this plan. */
const beganApplying = (operation: ApplyingOperation | undefined): any[] =>
  operation
    ? [
        {
          Update: {
            TableName: tableName(),
            Key: keys.operation(operation.id),
            UpdateExpression: 'SET appliedPlan = :plan',
            ConditionExpression: '#status = :running',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':plan': operation.planId, ':running': 'running' },
          },
        },
      ]
    : [];

/**
 * D2: the user is deleted, signs in no more, API token revoked; the seat is released. D1: deleting an administrator
 * is conditional on another remaining, in the same transaction, so two deletions at once cannot remove the last one.
 */
export async function applyUserDeleted(entries: readonly PlanEntry[], deletedAt: string, operation?: ApplyingOperation): Promise<void> {
  for (const { effect } of ofKind(entries, 'user-deleted')) {
    // the user as the premise check of this invocation read it, or read now; either way the transaction below is
    // conditional on what was read (status, organization, administrator): a change since fails it (O1, D1)
    const seen = operation?.subject?.id === effect.userId ? operation.subject : undefined;
    const user = seen ?? (await getUser(effect.userId));
    if (!user || user.status === 'deleted') continue; // applied already
    // O1: only a member of the operation's organization is deleted (a user who moved out meanwhile stays)
    if (operation?.organizationId && user.organizationId !== operation.organizationId) {
      throw new Ineligible([
        {
          rule: 'O1',
          message: `user ${user.id} is no longer a member of ${operation.organizationId} (now of ${user.organizationId ?? 'none'})`,
        },
      ]);
    }
    // D7: a suspended user (purged after its grace period) stopped counting as an administrator when suspended
    const countsAsAdmin = user.orgAdmin && user.status === 'active';
    const items: any[] = [
      {
        Update: {
          TableName: tableName(),
          Key: keys.user(user.id),
          UpdateExpression: 'SET #status = :deleted, deletedAt = :at, apiToken = :null, orgAdmin = :false',
          // O1: still a member of the organization it was planned in (a move meanwhile fails the condition)
          // D1: and still the administrator it was read to be, or not (the counters below follow what was read)
          ConditionExpression: `#status IN (:active, :suspended) AND #status = :seen${user.organizationId ? ' AND organizationId = :org' : ''} AND ${
            user.orgAdmin ? 'orgAdmin = :true' : '(attribute_not_exists(orgAdmin) OR orgAdmin <> :true)'
          }`,
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':deleted': 'deleted',
            ':seen': user.status,
            ':true': true,
            ':active': 'active',
            ':suspended': 'suspended',
            ':at': deletedAt,
            ':null': null,
            ':false': false,
            ...(user.organizationId ? { ':org': user.organizationId } : {}),
          },
        },
      },
    ];
    if (user.organizationId) {
      items.push({
        Update: {
          TableName: tableName(),
          Key: keys.org(user.organizationId),
          UpdateExpression: countsAsAdmin ? 'SET members = members - :one, admins = admins - :one' : 'SET members = members - :one',
          ConditionExpression: countsAsAdmin ? 'members > :zero AND admins > :one' : 'members > :zero',
          ExpressionAttributeValues: { ':one': 1, ':zero': 0 },
        },
      });
    }
    items.push(...beganApplying(operation));
    try {
      await transactWrite(items);
    } catch (error) {
      if (conditionFailed(error, 0))
        throw new Ineligible([{ rule: 'O1', message: `user ${user.id} changed while it was being deleted; nothing more is changed` }]);
      if (operation && conditionFailed(error, items.length - 1))
        throw new Ineligible([{ rule: 'O1', message: `operation ${operation.id} is no longer running` }]);
      if (countsAsAdmin && conditionFailed(error, 1)) {
        throw new Ineligible([{ rule: 'D1', message: `user ${user.id} is the last administrator of ${user.organizationId}` }]);
      }
      throw error;
    }
  }
}

/**
 * B1: every member of a cancelled organization is deleted (D2), 25 per request; the organization's counters are
 * set once, when the run ends (D1 does not apply: everyone goes).
 */
export async function applyMembersDeleted(
  entries: readonly PlanEntry[],
  deletedAt: string,
  organizationId?: string,
  sink: WriteSink = immediately,
): Promise<void> {
  // D7: suspended members too (B1 ignores grace periods); O3: only while the member is still in the run's organization
  const condition: [string, ...unknown[]] = organizationId
    ? ['"status" <> ? AND "organizationId" = ?', 'deleted', organizationId]
    : ['"status" <> ?', 'deleted'];
  await sink.update(
    ofKind(entries, 'user-deleted').map(({ effect }) =>
      update(
        '"status" = ?, "deletedAt" = ?, "apiToken" = ?, "orgAdmin" = ?',
        ['deleted', deletedAt, null, false],
        keys.user(effect.userId),
        condition,
      ),
    ),
  );
}

/** T7, D4: a contact is broken on both sides. */
export async function applyContactsRemoved(entries: readonly PlanEntry[], sink: WriteSink = immediately): Promise<void> {
  await sink.write(
    tableName(),
    ofKind(entries, 'contact-removed').flatMap(
      ({
        effect: {
          userIds: [a, b],
        },
      }) => [del(keys.contact(a, b)), del(keys.contact(b, a))],
    ),
  );
}

/** G1: the member is removed from the member list; past posts stay. */
export async function applyChatsLeft(entries: readonly PlanEntry[], sink: WriteSink = immediately): Promise<void> {
  await sink.write(
    tableName(),
    ofKind(entries, 'chat-left').map(({ effect }) => del(keys.member(effect.chatId, effect.userId))),
  );
}

/** D5, G2: every remaining member becomes an administrator (a member who left meanwhile is not brought back). */
export async function applyAdminsGranted(effects: readonly Pick<PlanEntry, 'effect'>[], sink: WriteSink = immediately): Promise<void> {
  await sink.update(
    ofKind(effects as PlanEntry[], 'admin-granted').flatMap(({ effect }) =>
      effect.userIds.map((userId) => update('"role" = ?', ['admin'], keys.member(effect.chatId, userId))),
    ),
  );
}

/** D4: nobody can join the remaining direct chat. */
export async function applyChatsFrozen(entries: readonly PlanEntry[], sink: WriteSink = immediately): Promise<void> {
  await sink.update(ofKind(entries, 'chat-frozen').map(({ effect }) => update('"frozen" = ?', [true], keys.chat(effect.chatId))));
}

/** Chats deleted at once: their partitions are read this many at a time. */
const CHAT_DELETE_CONCURRENCY = 8;

/**
 * D3, D4, D5, G2, T7: a chat is deleted with everything in it. Its planned files went already (HandleFiles, F2);
 * a file uploaded after planning is found in the partition and its bytes deleted first (F4), then every item of
 * every chat in the page goes, in batches gathered across chats. Answers the files and tasks it found and deleted
 * that the plan did not name (a file posted after planning; a bulk batch's My Chat, which its plan does not read).
 */
export async function applyChatsDeleted(
  effects: readonly Pick<PlanEntry, 'effect'>[],
  leave?: ReadonlySet<string>,
  sink: WriteSink = immediately,
): Promise<PlanEntry[]> {
  const chatIds = [...new Set(ofKind(effects as PlanEntry[], 'chat-deleted').map(({ effect }) => effect.chatId))];
  const partitions = await inParallel(chatIds, CHAT_DELETE_CONCURRENCY, (chatId) =>
    queryAll({
      TableName: tableName(),
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': keys.chat(chatId).PK },
      ProjectionExpression: 'PK, SK, id, chatId',
    }),
  );
  const table = tableName();
  const items = partitions
    .flatMap((p, n) => p.map((i: Record<string, any>): Record<string, any> => ({ ...i, chatId: i.chatId ?? chatIds[n] })))
    .filter((i) => !(leave?.has(i.id) && String(i.SK).startsWith('FILE#')))
    .filter((i) => !sink.deleting(table, { PK: i.PK, SK: i.SK })); // a planned file of this invocation: its bytes went (F2)
  const objects = items.filter((i) => String(i.SK).startsWith('FILE#')).map((i) => fileObjectKey(i.chatId, i.id));
  await deleteObjects(bucketName(), objects);
  await sink.write(
    table,
    items.map((i) => del({ PK: i.PK, SK: i.SK })),
  );
  // beyond the plan: files (F2) and tasks (under the chat's own rule) not among this phase's planned effects
  const planned = new Set(ofKind(effects as PlanEntry[], 'task-deleted').map(({ effect }) => effect.taskId));
  const ruleOf = new Map(ofKind(effects as PlanEntry[], 'chat-deleted').map(({ effect }) => [effect.chatId, effect.rule]));
  return items.flatMap((i): PlanEntry[] => {
    const chatId = i.chatId as string;
    if (String(i.SK).startsWith('FILE#')) return [{ effect: { kind: 'file-deleted', rule: 'F2', fileId: i.id }, chatId }];
    if (!String(i.SK).startsWith('TASK#') || planned.has(i.id)) return [];
    return [{ effect: { kind: 'task-deleted', rule: ruleOf.get(chatId) ?? 'F2', taskId: i.id }, chatId }];
  });
}

/** D6 (and tasks of deleted chats). */
export async function applyTasksDeleted(entries: readonly PlanEntry[], sink: WriteSink = immediately): Promise<void> {
  await sink.write(
    tableName(),
    ofKind(entries, 'task-deleted')
      .filter((s) => s.chatId)
      .map(({ effect, chatId }) => del(keys.task(chatId!, effect.taskId))),
  );
}

/** F1, F2, F3, F4: bytes are removed from the bucket first, then the records, so no record outlives its bytes unnoticed. */
export async function applyFilesDeleted(entries: readonly PlanEntry[], sink: WriteSink = immediately): Promise<void> {
  const files = ofKind(entries, 'file-deleted').filter((s) => s.chatId);
  await deleteObjects(
    bucketName(),
    files.map(({ effect, chatId }) => fileObjectKey(chatId!, effect.fileId)),
  );
  await sink.write(
    tableName(),
    files.map(({ effect, chatId }) => del(keys.file(chatId!, effect.fileId))),
  );
}

/**
 * F1: the file stays, owned by the organization. Its uploader's record of the hand-over (records.ts
 * `handedOverItem`) lands first, so an owned file is always found from its uploader and its owner (F3) even if this
 * invocation stops half-way; then each file changes on its item alone (no index holds its owner: 1 write unit).
 * Only an operation on the uploader hands files over (a bulk run's F3 deletes them).
 */
export async function applyFilesHandedOver(
  entries: readonly PlanEntry[],
  operation: ApplyingOperation | undefined,
  sink: WriteSink = immediately,
): Promise<void> {
  const handed = ofKind(entries, 'file-handed-over').filter((s) => s.chatId);
  if (handed.length === 0) return;
  if (!operation) throw new Error('F1: files are handed over by an operation on their uploader only');
  await batchWrite(
    tableName(),
    [...new Set(handed.map(({ effect }) => effect.organizationId))].map((o) => put(handedOverItem(operation.userId, o))),
  );
  await sink.update(
    handed.map(({ effect, chatId }) => update('"ownerOrganizationId" = ?', [effect.organizationId], keys.file(chatId!, effect.fileId))),
  );
}

export interface ApplyContext {
  at: string;
  /** Part of a bulk run for a cancelled contract (B1). */
  bulk: boolean;
  /** Files whose deletion a bulk batch hands to the next one (bytes and record together): left as they are. */
  leave?: ReadonlySet<string>;
  /** The operation applying its plan (absent for bulk batches): its first effect marks the plan begun. */
  operation?: ApplyingOperation;
  /** O3: a bulk batch deletes a member only while it is still a member of the run's organization. */
  organizationId?: string;
  /** Where the appliers' batched item writes go (services/phases.ts gathers an invocation's in a WriteBuffer). */
  writes: WriteSink;
}

/** Applies its kind's entries; may answer what it found and applied beyond them (a chat's deletion, F2). */
export type Applier = (entries: readonly PlanEntry[], context: ApplyContext) => Promise<void | readonly PlanEntry[]>;

/** Which function applies each effect kind. */
export const APPLIERS: Record<Effect['kind'], Applier> = {
  'membership-changed': (e, { operation }) => applyMembership(e, operation),
  'security-changed': async () => {}, // applied with membership-changed, in the same transaction (T6)
  'user-deleted': (e, { at, bulk, operation, organizationId, writes }) =>
    bulk ? applyMembersDeleted(e, at, organizationId, writes) : applyUserDeleted(e, at, operation),
  'api-token-revoked': async () => {}, // applied with user-deleted (D2) or membership-changed (T9), in the same write
  'contact-removed': (e, { writes }) => applyContactsRemoved(e, writes),
  // X3: a chat the successor joins is left in the join's own transaction
  'chat-left': (e, { writes }) => {
    const joined = joinedChats(e);
    return applyChatsLeft(
      e.filter((x) => !joined.has((x.effect as { chatId: string }).chatId)),
      writes,
    );
  },
  'chat-frozen': (e, { writes }) => applyChatsFrozen(e, writes),
  'chat-deleted': (e, { leave, writes }) => applyChatsDeleted(e, leave, writes),
  'admin-granted': (e, { writes }) => applyAdminsGranted(e, writes),
  'task-deleted': (e, { writes }) => applyTasksDeleted(e, writes),
  'file-deleted': (e, { writes }) => applyFilesDeleted(e, writes),
  'file-handed-over': (e, { operation, writes }) => applyFilesHandedOver(e, operation, writes),
  'chat-joined': (e, { operation }) => applyChatsJoined(e, operation?.succession), // one transaction per chats, at once
  'task-reassigned': (e, { writes }) => applyTasksReassigned(e, writes),
};
