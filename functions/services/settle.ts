import { CHAT_SETTLED_KINDS, settledChatOf, type Effect } from '../domain/impact.js';
import { isPresent } from '../domain/model.js';
import { afterLeaving } from '../domain/planner.js';
import { applyAdminsGranted, applyChatsDeleted } from '../store/apply.js';
import { inParallel } from '../store/batch.js';
import { audit, type OperationRecord } from '../store/operations.js';
import { pagesWith, readPlanHeader, readPlanPages } from '../store/plans.js';
import { readChatViews } from '../store/slice.js';
import { getUsers } from '../store/table.js';
import { PAGES_PER_INVOCATION } from './phases.js';

/**
 * G2, D4, D5 hold after operations that ran at the same time on different users: each planned against the other
 * still present, so a shared chat can be left with nobody in it, or a group with no administrator. Settling a chat
 * looks at it as it is now: nobody active left → deleted with its files (F2); a group without an administrator →
 * every remaining member becomes one. Returns what it did (usually nothing).
 */
export async function settleChats(chatIds: Iterable<string>): Promise<Effect[]> {
  const views = await readChatViews([...new Set(chatIds)]);
  const users = await getUsers(views.flatMap((v) => v.chat.members.map((m) => m.userId)));
  const done: Effect[] = [];
  for (const { chat } of views) {
    const after = afterLeaving(
      chat,
      chat.members.filter((m) => isPresent(users.get(m.userId))),
    );
    if (after?.kind === 'deleted') done.push({ kind: 'chat-deleted', rule: chat.type === 'direct' ? 'D4' : 'G2', chatId: chat.id });
    else if (after) done.push({ kind: 'admin-granted', rule: 'G2', chatId: chat.id, userIds: after.userIds });
  }
  const entries = done.map((effect) => ({ effect }));
  await applyChatsDeleted(entries);
  await applyAdminsGranted(entries);
  return done;
}

/** The chats an operation left, froze or handed over: the ones whose state others may have changed meanwhile. */
export async function touchedChats(planId: string): Promise<string[]> {
  const header = await readPlanHeader(planId);
  if (!header) return [];
  const pages = pagesWith(header, CHAT_SETTLED_KINDS);
  const chats = new Set<string>();
  for (let i = 0; i < pages.length; i += PAGES_PER_INVOCATION) {
    for (const page of await readPlanPages(planId, pages.slice(i, i + PAGES_PER_INVOCATION))) {
      for (const { effect } of page) {
        const chat = settledChatOf(effect);
        if (chat) chats.add(chat);
      }
    }
  }
  return [...chats];
}

/** Chats settled per pass: bounded memory for an operation that touched thousands. */
const SETTLE_PASS = 1000;

/** Settles the chats an operation touched, recording anything it had to do (X2). */
export async function settleAfter(op: OperationRecord): Promise<Effect[]> {
  if (!op.planId) return [];
  const chats = await touchedChats(op.planId);
  const passes: string[][] = [];
  for (let i = 0; i < chats.length; i += SETTLE_PASS) passes.push(chats.slice(i, i + SETTLE_PASS));
  const settled = (await inParallel(passes, 1, settleChats)).flat();
  if (settled.length > 0) await audit(op.id, { event: 'settled', reason: 'concurrent operations on other users', effects: settled });
  return settled;
}
