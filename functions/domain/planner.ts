import { mayCommunicate, type CommunicationContext } from './communication.js';
import { type Effect, type Impact, mergeEffects } from './impact.js';
import { isPresent, sortedPair, type Chat, type ChatMember, type FileRecord, type Organization, type Task, type User } from './model.js';
import { inheritedExemptions } from './security.js';

/** What a plan needs of a file the subject uploaded (F1, F3): read with no more than that, at any number of files. */
export type FileRef = Pick<FileRecord, 'id' | 'chatId' | 'ownerOrganizationId'>;

/** One chat the subject is a member of, with what the planner needs to decide its fate. */
export interface ChatView {
  chat: Chat;
  /** D4 (RULES.md reading): anything was ever posted: a message, a file or a task. */
  hasMessages: boolean;
  /** Files the subject uploaded in this chat and still owns (not yet handed over to an organization). */
  subjectFiles: FileRef[];
}

/** Everything in a chat that goes when the chat is deleted (F2). Loaded only for chats the plan deletes. */
export interface ChatContents {
  fileIds: string[];
  taskIds: string[];
  /** The organizations owning any of those files (F1): what their runs do to them (F3) changes the plan (X1). */
  ownerOrganizationIds?: string[];
}

/** The slice of the world a plan depends on. The store reads it; the planner never does I/O. */
export interface PlanSlice {
  subject: User;
  /** The subject's contacts, co-members and anyone else referenced, by id. */
  users: ReadonlyMap<string, User>;
  comm: CommunicationContext;
  contacts: string[];
  chats: ChatView[];
  /** Tasks assigned to the subject (D6). */
  assignedTasks: Task[];
  /** F3: every file the subject uploaded that no other organization owns, in chats of any organization (bulk runs). */
  uploads?: FileRef[];
  /** Chats deleted by an earlier pass over other chats of the same plan (planning in pages): D6 skips their tasks. */
  deletedChatIds?: ReadonlySet<string>;
  /** Contents of the chats a first pass found deleted; absent on the first pass. */
  deletedChatContents?: ReadonlyMap<string, ChatContents>;
  /**
   * X3: the successor the operation names (an active member of the user's organization, the source for a transfer,
   * checked by the service), or absent: then the plan is exactly the plan without one.
   */
  successor?: User;
  /** X3: chats an earlier pass found the successor in after the plan (already there, or joining): D6 reassigns their tasks. */
  successorChatIds?: ReadonlySet<string>;
}

/** Effects as a question about a plan's chats needs them: merged or not, in any order. */
export interface PlannedEffects {
  readonly effects: readonly Effect[];
}

class EffectList {
  private readonly list: Effect[] = [];
  readonly deletedChats = new Set<string>();

  add(effect: Effect): void {
    this.list.push(effect);
  }

  /** F2: a deleted chat takes all its files, and its tasks, with it. */
  deleteChat(chatId: string, rule: string, contents: ChatContents | undefined): void {
    this.deletedChats.add(chatId);
    this.add({ kind: 'chat-deleted', rule, chatId });
    for (const fileId of contents?.fileIds ?? []) this.add({ kind: 'file-deleted', rule: 'F2', fileId });
    for (const taskId of contents?.taskIds ?? []) this.add({ kind: 'task-deleted', rule, taskId });
  }

  /** The effects so far, as added (not merged): for a question about chats, asked before the plan is complete. */
  added(): readonly Effect[] {
    return this.list;
  }
}

/** Active, or suspended under a grace period (D7: it may come back; see isPresent). */
function isActive(users: ReadonlyMap<string, User>, userId: string): boolean {
  return isPresent(users.get(userId));
}

interface LeaveRules {
  left: string;
  adminGrant: string;
  emptyChat: string;
  /** F1: "the same organization" (the source organization for a transfer). */
  organizationId: string | null;
  /** F3: the organization's contract is cancelled: every file its users uploaded goes, whoever stays. */
  contractCancelled?: boolean;
}

/**
 * X3: before the subject leaves a group chat, the successor joins it, if not in it already and if C1/C2 allow the
 * successor to communicate with every other active member; as an administrator where the subject was one. Answers
 * the member who joins, or undefined. My Chat and direct chats cannot be joined.
 */
function successorJoins(list: EffectList, slice: PlanSlice, view: ChatView): ChatMember | undefined {
  const { successor, subject } = slice;
  const { chat } = view;
  if (!successor || chat.type !== 'group' || chat.members.some((m) => m.userId === successor.id)) return undefined;
  const others = chat.members.filter((m) => m.userId !== subject.id && isActive(slice.users, m.userId));
  if (!others.every((m) => mayCommunicate(slice.comm, successor, slice.users.get(m.userId)!))) return undefined;
  const role = chat.members.some((m) => m.userId === subject.id && m.role === 'admin') ? 'admin' : 'member';
  list.add({ kind: 'chat-joined', rule: 'X3', chatId: chat.id, userId: successor.id, role });
  return { userId: successor.id, role };
}

/**
 * G2, D4, D5: what a chat needs once only `remaining` are left in it: to be deleted if nobody is, administrators if
 * it is a group without one (every remaining member becomes one). The planner asks it of a chat the subject leaves;
 * settlement (services/settle.ts) asks it again of the chat as it is after concurrent operations.
 */
export function afterLeaving(
  chat: Chat,
  remaining: readonly ChatMember[],
): { kind: 'deleted' } | { kind: 'admins-granted'; userIds: string[] } | undefined {
  if (remaining.length === 0) return { kind: 'deleted' };
  if (chat.type === 'group' && !remaining.some((m) => m.role === 'admin'))
    return { kind: 'admins-granted', userIds: remaining.map((m) => m.userId).sort() };
  return undefined;
}

/** G1, G2, D5, F1: the subject leaves a chat (X3: the successor, if it may, joins it first). */
function leaveChat(list: EffectList, slice: PlanSlice, view: ChatView, rules: LeaveRules): void {
  const { chat } = view;
  const subjectId = slice.subject.id;
  const joined = successorJoins(list, slice, view);
  list.add({ kind: 'chat-left', rule: rules.left, chatId: chat.id, userId: subjectId });
  const remaining = [...chat.members.filter((m) => m.userId !== subjectId && isActive(slice.users, m.userId)), ...(joined ? [joined] : [])];
  const organizationOf = (userId: string) => (userId === slice.successor?.id ? slice.successor : slice.users.get(userId))?.organizationId;
  const after = afterLeaving(chat, remaining);
  if (after?.kind === 'deleted') {
    list.deleteChat(chat.id, rules.emptyChat, slice.deletedChatContents?.get(chat.id)); // D5 / G2: nobody left
    return;
  }
  if (after) list.add({ kind: 'admin-granted', rule: rules.adminGrant, chatId: chat.id, userIds: after.userIds }); // D5 / G2
  const sameOrgStays =
    !rules.contractCancelled && rules.organizationId !== null && remaining.some((m) => organizationOf(m.userId) === rules.organizationId);
  for (const file of view.subjectFiles) {
    if (sameOrgStays) list.add({ kind: 'file-handed-over', rule: 'F1', fileId: file.id, organizationId: rules.organizationId! });
    else list.add({ kind: 'file-deleted', rule: rules.contractCancelled ? 'F3' : 'F1', fileId: file.id });
  }
}

/** The plan of a transfer (T6–T9, C1–C2, G1–G2, F1–F2). Eligibility (T1, T2, T5) is checked separately. */
export function planTransfer(slice: PlanSlice, destination: Organization): Impact {
  return { operation: 'transfer', userId: slice.subject.id, effects: mergeEffects(transferEffects(slice, destination)) };
}

/**
 * planTransfer's effects as they are found, not yet merged (sorted, each once): for a planner that plans in passes and
 * merges them all once (services/planning.ts; issue 18: one chat of 100,000 files is not merged twice).
 */
export function transferEffects(slice: PlanSlice, destination: Organization): readonly Effect[] {
  const { subject } = slice;
  const source = subject.organizationId;
  if (source === null) throw new Error(`user ${subject.id} has no organization to transfer from`);
  const moved: User = { ...subject, organizationId: destination.id, ...inheritedExemptions(destination) };
  const comm: CommunicationContext = {
    organizations: new Map([...slice.comm.organizations, [destination.id, destination]]),
    allowances: slice.comm.allowances,
  };
  const list = new EffectList();
  list.add({ kind: 'membership-changed', rule: 'T9', userId: subject.id, fromOrganizationId: source, toOrganizationId: destination.id });
  list.add({ kind: 'security-changed', rule: 'T6', userId: subject.id, ...inheritedExemptions(destination) });
  list.add({ kind: 'api-token-revoked', rule: 'T9', userId: subject.id });

  const blocked = (userId: string): boolean => {
    const other = slice.users.get(userId);
    return other !== undefined && isPresent(other) && !mayCommunicate(comm, moved, other);
  };
  for (const contactId of slice.contacts) {
    if (blocked(contactId)) list.add({ kind: 'contact-removed', rule: 'T7', userIds: sortedPair(subject.id, contactId) });
  }
  const leave: LeaveRules = { left: 'T8', adminGrant: 'G2', emptyChat: 'G2', organizationId: source };
  for (const view of slice.chats) {
    const others = view.chat.members.filter((m) => m.userId !== subject.id);
    if (view.chat.type === 'direct') {
      // T7: the direct chat of a pair that may no longer communicate goes, as when the contact is deleted.
      if (others.some((m) => blocked(m.userId))) list.deleteChat(view.chat.id, 'T7', slice.deletedChatContents?.get(view.chat.id));
    } else if (view.chat.type === 'group') {
      if (others.some((m) => blocked(m.userId))) leaveChat(list, slice, view, leave); // T8
    }
  }
  return list.added();
}

export interface DeletionOptions {
  /** B1, F3: the deletion is part of a cancelled contract's bulk run. */
  contractCancelled?: boolean;
}

/**
 * The plan of an administrator's deletion of a user (D2–D6, G1–G2, F1–F2), or of a member of an organization whose
 * contract was cancelled (B1: the same, except that F3 deletes every file the user uploaded). D1 is checked separately.
 */
export function planDeletion(slice: PlanSlice, options: DeletionOptions = {}): Impact {
  return { operation: 'deletion', userId: slice.subject.id, effects: mergeEffects(deletionEffects(slice, options)) };
}

/** planDeletion's effects as they are found, not yet merged (as transferEffects). */
export function deletionEffects(slice: PlanSlice, options: DeletionOptions = {}): readonly Effect[] {
  const { subject } = slice;
  const list = new EffectList();
  list.add({ kind: 'user-deleted', rule: 'D2', userId: subject.id });
  list.add({ kind: 'api-token-revoked', rule: 'D2', userId: subject.id });
  for (const contactId of slice.contacts) {
    list.add({ kind: 'contact-removed', rule: 'D4', userIds: sortedPair(subject.id, contactId) });
  }
  const leave: LeaveRules = {
    left: 'D5',
    adminGrant: 'D5',
    emptyChat: 'D5',
    organizationId: subject.organizationId,
    contractCancelled: options.contractCancelled,
  };
  for (const view of slice.chats) {
    const { chat } = view;
    const contents = slice.deletedChatContents?.get(chat.id);
    const others = chat.members.filter((m) => m.userId !== subject.id);
    if (chat.type === 'direct' && others.length === 0) {
      list.deleteChat(chat.id, 'D4', contents); // D4: the other user was deleted before: both users are deleted
    } else if (chat.type === 'my' || (chat.type !== 'direct' && !others.some((m) => isActive(slice.users, m.userId)) && !slice.successor)) {
      // D3: My Chat, and chats where the user was the only participant (reading: members already deleted do not count);
      // X3: a group the user was alone in is kept with the successor (below: it joins, then the user leaves)
      list.deleteChat(chat.id, 'D3', contents);
    } else if (chat.type === 'direct') {
      const otherDeleted = others.every((m) => !isActive(slice.users, m.userId));
      if (!view.hasMessages || otherDeleted) {
        list.deleteChat(chat.id, 'D4', contents); // D4: no message ever posted, or both users deleted
      } else {
        leaveChat(list, slice, view, { ...leave, left: 'D4' });
        if (!chat.frozen) list.add({ kind: 'chat-frozen', rule: 'D4', chatId: chat.id });
      }
    } else {
      leaveChat(list, slice, view, leave); // D5
    }
  }
  const deleted = (chatId: string) => list.deletedChats.has(chatId) || Boolean(slice.deletedChatIds?.has(chatId));
  const planned: PlannedEffects = { effects: list.added() };
  const successorIn = new Set([...(slice.successorChatIds ?? []), ...chatsWithSuccessor(slice.chats, planned, slice.successor?.id)]);
  for (const task of slice.assignedTasks) {
    if (deleted(task.chatId)) continue;
    // X3: a task in a chat the successor is then in goes to the successor instead of being deleted (D6)
    if (slice.successor && successorIn.has(task.chatId))
      list.add({ kind: 'task-reassigned', rule: 'X3', taskId: task.id, userId: slice.successor.id });
    else list.add({ kind: 'task-deleted', rule: 'D6', taskId: task.id });
  }
  if (options.contractCancelled) {
    // F3: the cancelled organization's files go wherever they are, not only in the chats the member still sits in.
    for (const file of slice.uploads ?? []) {
      if (!deleted(file.chatId)) list.add({ kind: 'file-deleted', rule: 'F3', fileId: file.id });
    }
  }
  return list.added();
}

/**
 * X3: the chats (of these, planned as `impact`) the successor is in once the plan ran, for a later pass's tasks
 * (D6): those it was in already and the plan does not delete, and those it joins.
 */
export function chatsWithSuccessor(chats: readonly ChatView[], impact: PlannedEffects, successorId: string | undefined): string[] {
  if (!successorId) return [];
  const gone = new Set(deletedChatIds(impact));
  const joined = impact.effects.flatMap((e) => (e.kind === 'chat-joined' && e.userId === successorId ? [e.chatId] : []));
  return [
    ...chats.filter((v) => !gone.has(v.chat.id) && v.chat.members.some((m) => m.userId === successorId)).map((v) => v.chat.id),
    ...joined,
  ];
}

/** Chats a plan deletes: the store loads their contents and plans again (F2). */
export function deletedChatIds(impact: PlannedEffects): string[] {
  return impact.effects.flatMap((e) => (e.kind === 'chat-deleted' ? [e.chatId] : []));
}
