import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { conditionFailed } from './conditions.js';
import type { Effect, EffectKind, EffectOf } from '../domain/impact.js';
import { Ineligible, NoFreeSeat } from '../shared/errors.js';
import { batchWrite, deleteObjects, del, listKeyPages, queryPages, transactWrite } from './batch.js';
import { ddb } from './clients.js';
import { chatObjectPrefix, fileObjectKey, keys } from './keys.js';
import type { StoredEffect } from './operations.js';
import { bucketName, getUser, tableName } from './table.js';

/**
 * Applies planned effects. Every function here is idempotent: applying the same effects twice leaves the same
 * end state (deletes accept "already gone", updates are conditional on the item still existing).
 */

async function updateIfExists(input: ConstructorParameters<typeof UpdateCommand>[0]): Promise<void> {
  try {
    await ddb.send(new UpdateCommand({ ...input, ConditionExpression: 'attribute_exists(PK)' }));
  } catch (error) {
    if (!conditionFailed(error)) throw error;
  }
}

const ofKind = <K extends EffectKind>(effects: StoredEffect[], kind: K) =>
  effects.filter((s): s is StoredEffect & { effect: EffectOf<K> } => s.effect.kind === kind);

/**
 * T6, T9: membership, seats at both organizations, exemptions and token revocation, atomically.
 * The destination's seat count is conditional, so a seat is never over-allocated (T4).
 */
export async function applyMembership(effects: StoredEffect[]): Promise<void> {
  const move = ofKind(effects, 'membership-changed')[0]?.effect;
  if (!move) return;
  const security = ofKind(effects, 'security-changed')[0]?.effect;
  const user = await getUser(move.userId);
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
              ConditionExpression: 'members > :zero',
              ExpressionAttributeValues: { ':one': 1, ':zero': 0 },
            },
          },
        ]);
  } catch (error) {
    if (conditionFailed(error, 1)) {
      throw new NoFreeSeat(`organization ${move.toOrganizationId} has no free seat`);
    }
    throw error;
  }
}

/**
 * D2: the user is deleted, signs in no more, API token revoked; the seat is released. D1: deleting an administrator
 * is conditional on another remaining, in the same transaction, so two deletions at once cannot remove the last one
 * (except in a bulk run for a cancelled contract, B1, which deletes everyone).
 */
export async function applyUserDeleted(effects: StoredEffect[], deletedAt: string, bulk = false): Promise<void> {
  for (const { effect } of ofKind(effects, 'user-deleted')) {
    const user = await getUser(effect.userId);
    if (!user || user.status === 'deleted') continue; // applied already
    const items: any[] = [
      {
        Update: {
          TableName: tableName(),
          Key: keys.user(user.id),
          UpdateExpression: 'SET #status = :deleted, deletedAt = :at, apiToken = :null, orgAdmin = :false',
          ConditionExpression: '#status = :active',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':deleted': 'deleted', ':active': 'active', ':at': deletedAt, ':null': null, ':false': false },
        },
      },
    ];
    if (user.organizationId) {
      items.push({
        Update: {
          TableName: tableName(),
          Key: keys.org(user.organizationId),
          UpdateExpression: user.orgAdmin ? 'SET members = members - :one, admins = admins - :one' : 'SET members = members - :one',
          ConditionExpression: user.orgAdmin ? 'members > :zero AND admins > :keep' : 'members > :zero',
          ExpressionAttributeValues: { ':one': 1, ':zero': 0, ...(user.orgAdmin ? { ':keep': bulk ? 0 : 1 } : {}) },
        },
      });
    }
    try {
      await transactWrite(items);
    } catch (error) {
      if (user.orgAdmin && !bulk && conditionFailed(error, 1)) {
        throw new Ineligible([{ rule: 'D1', message: `user ${user.id} is the last administrator of ${user.organizationId}` }]);
      }
      throw error;
    }
  }
}

export async function applyTokenRevoked(effects: StoredEffect[]): Promise<void> {
  for (const { effect } of ofKind(effects, 'api-token-revoked')) {
    await updateIfExists({
      TableName: tableName(),
      Key: keys.user(effect.userId),
      UpdateExpression: 'SET apiToken = :null',
      ExpressionAttributeValues: { ':null': null },
    });
  }
}

/** T7, D4: a contact is broken on both sides. */
export async function applyContactsRemoved(effects: StoredEffect[]): Promise<void> {
  await batchWrite(
    tableName(),
    ofKind(effects, 'contact-removed').flatMap(({ effect: { userIds: [a, b] } }) => [del(keys.contact(a, b)), del(keys.contact(b, a))]),
  );
}

/** G1: the member is removed from the member list; past posts stay. */
export async function applyChatsLeft(effects: StoredEffect[]): Promise<void> {
  await batchWrite(tableName(), ofKind(effects, 'chat-left').map(({ effect }) => del(keys.member(effect.chatId, effect.userId))));
}

/** D5, G2: every remaining member becomes an administrator. */
export async function applyAdminsGranted(effects: StoredEffect[]): Promise<void> {
  for (const { effect } of ofKind(effects, 'admin-granted')) {
    await Promise.all(
      effect.userIds.map((userId) =>
        updateIfExists({
          TableName: tableName(),
          Key: keys.member(effect.chatId, userId),
          UpdateExpression: 'SET #role = :admin',
          ExpressionAttributeNames: { '#role': 'role' },
          ExpressionAttributeValues: { ':admin': 'admin' },
        }),
      ),
    );
  }
}

/** D4: nobody can join the remaining direct chat. */
export async function applyChatsFrozen(effects: StoredEffect[]): Promise<void> {
  for (const { effect } of ofKind(effects, 'chat-frozen')) {
    await updateIfExists({
      TableName: tableName(),
      Key: keys.chat(effect.chatId),
      UpdateExpression: 'SET frozen = :true',
      ExpressionAttributeValues: { ':true': true },
    });
  }
}

/**
 * D3, D4, D5, G2, T7: a chat is deleted with everything in it. F2: its files' bytes go first (listed by prefix,
 * so a file uploaded after planning goes too), then every item in its partition, page by page.
 */
export async function applyChatsDeleted(effects: StoredEffect[]): Promise<void> {
  for (const { effect } of ofKind(effects, 'chat-deleted')) {
    for await (const keysPage of listKeyPages(bucketName(), chatObjectPrefix(effect.chatId))) {
      await deleteObjects(bucketName(), keysPage);
    }
    for await (const page of queryPages({
      TableName: tableName(),
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': keys.chat(effect.chatId).PK },
      ProjectionExpression: 'PK, SK',
    })) {
      await batchWrite(tableName(), page.map((i) => del({ PK: i.PK, SK: i.SK })));
    }
  }
}

/** D6 (and tasks of deleted chats). */
export async function applyTasksDeleted(effects: StoredEffect[]): Promise<void> {
  await batchWrite(
    tableName(),
    ofKind(effects, 'task-deleted')
      .filter((s) => s.chatId)
      .map(({ effect, chatId }) => del(keys.task(chatId!, effect.taskId))),
  );
}

/** F1, F2, F4: bytes are removed from the bucket first, then the records, so no record outlives its bytes unnoticed. */
export async function applyFilesDeleted(effects: StoredEffect[]): Promise<void> {
  const files = ofKind(effects, 'file-deleted').filter((s) => s.chatId);
  await deleteObjects(bucketName(), files.map(({ effect, chatId }) => fileObjectKey(chatId!, effect.fileId)));
  await batchWrite(tableName(), files.map(({ effect, chatId }) => del(keys.file(chatId!, effect.fileId))));
}

/** F1: the file stays, owned by the organization. */
export async function applyFilesHandedOver(effects: StoredEffect[]): Promise<void> {
  for (const { effect, chatId } of ofKind(effects, 'file-handed-over')) {
    if (!chatId) continue;
    await updateIfExists({
      TableName: tableName(),
      Key: keys.file(chatId, effect.fileId),
      UpdateExpression: 'SET ownerOrganizationId = :org',
      ExpressionAttributeValues: { ':org': effect.organizationId },
    });
  }
}

export interface ApplyContext {
  at: string;
  /** Part of a bulk run for a cancelled contract (B1). */
  bulk: boolean;
}

export type Applier = (effects: StoredEffect[], context: ApplyContext) => Promise<void>;

/** Which function applies each effect kind. */
export const APPLIERS: Record<Effect['kind'], Applier> = {
  'membership-changed': (e) => applyMembership(e),
  'security-changed': async () => {}, // applied with membership-changed, in the same transaction (T6)
  'user-deleted': (e, { at, bulk }) => applyUserDeleted(e, at, bulk),
  'api-token-revoked': (e) => applyTokenRevoked(e),
  'contact-removed': (e) => applyContactsRemoved(e),
  'chat-left': (e) => applyChatsLeft(e),
  'chat-frozen': (e) => applyChatsFrozen(e),
  'chat-deleted': (e) => applyChatsDeleted(e),
  'admin-granted': (e) => applyAdminsGranted(e),
  'task-deleted': (e) => applyTasksDeleted(e),
  'file-deleted': (e) => applyFilesDeleted(e),
  'file-handed-over': (e) => applyFilesHandedOver(e),
};
