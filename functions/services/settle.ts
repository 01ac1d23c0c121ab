import type { Effect } from '../domain/impact.js';
import { applyAdminsGranted, applyChatsDeleted } from '../store/apply.js';
import { queryAll } from '../store/batch.js';
import { keys } from '../store/keys.js';
import { audit, readEffectsPage } from '../store/operations.js';
import { toChat } from '../store/records.js';
import { getItem, getUsers, tableName } from '../store/table.js';

/**
 * G2, D4, D5 hold after operations that ran at the same time on different users: each planned against the other
 * still present, so a shared chat can be left with nobody in it, or a group with no administrator. Settling a chat
 * looks at it as it is now: nobody active left → deleted with its files (F2); a group without an administrator →
 * every remaining member becomes one. Returns what it did (usually nothing).
 */
export async function settleChats(chatIds: Iterable<string>): Promise<Effect[]> {
  const done: Effect[] = [];
  for (const chatId of new Set(chatIds)) {
    const chat = await getItem(keys.chat(chatId));
    if (!chat) continue;
    const members = await queryAll({
      TableName: tableName(),
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :p)',
      ExpressionAttributeValues: { ':pk': keys.chat(chatId).PK, ':p': 'MEMBER#' },
      ConsistentRead: true,
    });
    const users = await getUsers(members.map((m) => m.userId));
    const remaining = toChat(chat, members).members.filter((m) => users.get(m.userId)?.status === 'active');
    if (remaining.length === 0) {
      const effect: Effect = { kind: 'chat-deleted', rule: chat.chatType === 'direct' ? 'D4' : 'G2', chatId };
      await applyChatsDeleted([{ effect }]);
      done.push(effect);
    } else if (chat.chatType === 'group' && !remaining.some((m) => m.role === 'admin')) {
      const effect: Effect = { kind: 'admin-granted', rule: 'G2', chatId, userIds: remaining.map((m) => m.userId) };
      await applyAdminsGranted([{ effect }]);
      done.push(effect);
    }
  }
  return done;
}

/** The chats an operation left, froze or handed over: the ones whose state others may have changed meanwhile. */
export async function touchedChats(operationId: string): Promise<string[]> {
  const chats: string[] = [];
  for (const kind of ['chat-left', 'chat-frozen', 'admin-granted'] as const) {
    let after: string | undefined;
    do {
      const page = await readEffectsPage(operationId, kind, after, 500);
      for (const { effect } of page.effects) if ('chatId' in effect) chats.push(effect.chatId);
      after = page.last;
    } while (after);
  }
  return chats;
}

/** Settles the chats an operation touched, recording anything it had to do (X2). */
export async function settleAfter(operationId: string): Promise<Effect[]> {
  const settled = await settleChats(await touchedChats(operationId));
  if (settled.length > 0) await audit(operationId, { event: 'settled', reason: 'concurrent operations on other users', effects: settled });
  return settled;
}
