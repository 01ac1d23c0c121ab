import type { EffectOf } from '../domain/impact.js';
import { Ineligible } from '../shared/errors.js';
import { chunk, immediately, inParallel, transactWrite, type WriteSink } from './batch.js';
import { update } from './apply.js';
import { conditionFailed } from './conditions.js';
import { keys } from './keys.js';
import type { PlanEntry } from './plans.js';
import { memberItem } from './records.js';
import { tableName } from './table.js';

/** X3's appliers: the successor joins the chats the user leaves (one transaction each) and takes the user's tasks. */

/** Who leaves and who joins: the operation's user, and its successor with the organization it must still be an active member of (O1). */
export interface Succession {
  userId: string;
  successorId: string;
  organizationId: string;
}

/** Chats per transaction: each takes the successor's join and the user's leave; one condition on the successor per transaction (at most 100 items). */
const CHATS_PER_TRANSACTION = 49;
const IN_FLIGHT = 4;

const joins = (entries: readonly PlanEntry[]) =>
  entries.filter((e): e is PlanEntry & { effect: EffectOf<'chat-joined'> } => e.effect.kind === 'chat-joined');

/** The run-time premise of X3 and O1, as the transaction checks it: the successor is still an active member of the organization. */
export const successorGone = (s: Succession) =>
  new Ineligible([
    { rule: 'X3', message: `the successor ${s.successorId} is no longer an active member of ${s.organizationId}; nothing more is changed` },
  ]);

/**
 * X3: the successor joins each chat and the user leaves it in the same transaction, so no moment exists in which the
 * chat has lost the user without having the successor (nor the successor a chat the user still holds); each
 * transaction is conditional on the successor still being an active member of the organization (O1), else nothing
 * of it lands and the step fails with rule X3. Applying it twice is harmless (a put, a delete of what is gone).
 */
export async function applyChatsJoined(entries: readonly PlanEntry[], succession: Succession | undefined): Promise<void> {
  const joined = joins(entries);
  if (joined.length === 0) return;
  if (!succession) throw new Error("chat-joined effects need the operation's successor (X3)");
  await inParallel(chunk(joined, CHATS_PER_TRANSACTION), IN_FLIGHT, async (batch) => {
    try {
      await transactWrite([
        {
          ConditionCheck: {
            TableName: tableName(),
            Key: keys.user(succession.successorId),
            ConditionExpression: '#status = :active AND organizationId = :org',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':active': 'active', ':org': succession.organizationId },
          },
        },
        ...batch.flatMap(({ effect }) => [
          { Put: { TableName: tableName(), Item: memberItem(effect.chatId, { userId: effect.userId, role: effect.role }) } },
          { Delete: { TableName: tableName(), Key: keys.member(effect.chatId, succession.userId) } },
        ]),
      ]);
    } catch (error) {
      if (conditionFailed(error, 0)) throw successorGone(succession);
      throw error;
    }
  });
}

/** Chats whose leave the join's transaction makes (chat-left of these entries is not applied apart). */
export const joinedChats = (entries: readonly PlanEntry[]): ReadonlySet<string> => new Set(joins(entries).map((e) => e.effect.chatId));

/** X3, D6: a task assigned to the user, in a chat the successor is then in, is assigned to the successor (and indexed as its task). */
export async function applyTasksReassigned(entries: readonly PlanEntry[], sink: WriteSink = immediately): Promise<void> {
  await sink.update(
    entries
      .filter((e): e is PlanEntry & { effect: EffectOf<'task-reassigned'> } => e.effect.kind === 'task-reassigned' && Boolean(e.chatId))
      .map(({ effect, chatId }) =>
        update('"assigneeId" = ?, "GSI1PK" = ?', [effect.userId, keys.userAssigned(effect.userId)], keys.task(chatId!, effect.taskId)),
      ),
  );
}
