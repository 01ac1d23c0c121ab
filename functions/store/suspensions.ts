import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { User } from '../domain/model.js';
import { NotFound } from '../shared/errors.js';
import { conditionFailed } from './conditions.js';
import { transactWrite } from './batch.js';
import { ddb } from './clients.js';
import { keys } from './keys.js';
import { tableName } from './table.js';

/** The user's status moved from one value to the other, only if it still reads `from` (a transaction item). */
function statusChange(userId: string, from: 'active' | 'suspended', to: 'active' | 'suspended') {
  return {
    Update: {
      TableName: tableName(),
      Key: keys.user(userId),
      UpdateExpression: 'SET #status = :to',
      ConditionExpression: '#status = :from',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':from': from, ':to': to },
    },
  };
}

/**
 * D7 beyond, D1: the writes that suspend a user, for the transaction that schedules its deletion. The user must be
 * active; an administrator stops counting as one, conditional on another remaining (the same counter DeleteUser
 * guards), so the last active administrator cannot be suspended either. Its seat stays taken.
 * Items, in order: the user (condition: active), then, for an administrator, the organization (condition: admins > 1).
 */
export function suspensionItems(user: User): any[] {
  return [
    statusChange(user.id, 'active', 'suspended'),
    ...(user.orgAdmin && user.organizationId
      ? [
          {
            Update: {
              TableName: tableName(),
              Key: keys.org(user.organizationId),
              UpdateExpression: 'SET admins = admins - :one',
              ConditionExpression: 'admins > :one',
              ExpressionAttributeValues: { ':one': 1 },
            },
          },
        ]
      : []),
  ];
}

/**
 * D7 beyond: the writes that make a suspended user active again, exactly as before (its token was never removed,
 * only refused while suspended), and count an administrator again. For the transaction that ends the wait.
 */
export function reactivationItems(user: User): any[] {
  return [
    statusChange(user.id, 'suspended', 'active'),
    ...(user.orgAdmin && user.organizationId
      ? [
          {
            Update: {
              TableName: tableName(),
              Key: keys.org(user.organizationId),
              UpdateExpression: 'SET admins = admins + :one',
              ExpressionAttributeValues: { ':one': 1 },
            },
          },
        ]
      : []),
  ];
}

/** D7 beyond: an organization's grace period, in days (0: deletions purge at once). */
export async function setDeletionGraceDays(organizationId: string, days: number): Promise<void> {
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: keys.org(organizationId),
        UpdateExpression: 'SET deletionGraceDays = :d',
        ConditionExpression: 'attribute_exists(PK)',
        ExpressionAttributeValues: { ':d': days },
      }),
    );
  } catch (error) {
    if (conditionFailed(error)) throw new NotFound(`organization ${organizationId} does not exist`);
    throw error;
  }
}

/** D7 beyond: makes a suspended user active again on its own (no operation to end); false when it was not suspended. */
export async function reactivateUser(user: User): Promise<boolean> {
  try {
    await transactWrite(reactivationItems(user));
    return true;
  } catch (error) {
    if (conditionFailed(error)) return false;
    throw error;
  }
}
