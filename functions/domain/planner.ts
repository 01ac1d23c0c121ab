import { mayCommunicate, type CommunicationContext } from './communication.js';
import { type Effect, type Impact, mergeEffects } from './impact.js';
import { isPresent, sortedPair, type Chat, type FileRecord, type Organization, type Task, type User } from './model.js';
import { inheritedExemptions } from './security.js';

/** One chat the subject is a member of, with what the planner needs to decide its fate. */
export interface ChatView {
  chat: Chat;
  /** D4 (RULES.md reading): anything was ever posted: a message, a file or a task. */
  hasMessages: boolean;
  /** Files the subject uploaded in this chat and still owns (not yet handed over to an organization). */
  subjectFiles: FileRecord[];
}

/** Everything in a chat that goes when the chat is deleted (F2). Loaded only for chats the plan deletes. */
export interface ChatContents {
  fileIds: string[];
  taskIds: string[];
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
  uploads?: FileRecord[];
  /** Chats deleted by an earlier pass over other chats of the same plan (planning in pages): D6 skips their tasks. */
  deletedChatIds?: ReadonlySet<string>;
  /** Contents of the chats a first pass found deleted; absent on the first pass. */
  deletedChatContents?: ReadonlyMap<string, ChatContents>;
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

  effects(): Effect[] {
    return mergeEffects(this.list);
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

/** G1, G2, D5, F1: the subject leaves a chat. */
function leaveChat(list: EffectList, slice: PlanSlice, view: ChatView, rules: LeaveRules): void {
  const { chat } = view;
  const subjectId = slice.subject.id;
  list.add({ kind: 'chat-left', rule: rules.left, chatId: chat.id, userId: subjectId });
  const remaining = chat.members.filter((m) => m.userId !== subjectId && isActive(slice.users, m.userId));
  if (remaining.length === 0) {
    list.deleteChat(chat.id, rules.emptyChat, slice.deletedChatContents?.get(chat.id)); // D5 / G2: nobody left
    return;
  }
  if (chat.type === 'group' && !remaining.some((m) => m.role === 'admin')) {
    const userIds = remaining.map((m) => m.userId).sort();
    list.add({ kind: 'admin-granted', rule: rules.adminGrant, chatId: chat.id, userIds }); // D5 / G2
  }
  const sameOrgStays =
    !rules.contractCancelled &&
    rules.organizationId !== null &&
    remaining.some((m) => slice.users.get(m.userId)?.organizationId === rules.organizationId);
  for (const file of view.subjectFiles) {
    if (sameOrgStays) list.add({ kind: 'file-handed-over', rule: 'F1', fileId: file.id, organizationId: rules.organizationId! });
    else list.add({ kind: 'file-deleted', rule: rules.contractCancelled ? 'F3' : 'F1', fileId: file.id });
  }
}

/** The plan of a transfer (T6–T9, C1–C2, G1–G2, F1–F2). Eligibility (T1, T2, T5) is checked separately. */
export function planTransfer(slice: PlanSlice, destination: Organization): Impact {
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
  return { operation: 'transfer', userId: subject.id, effects: list.effects() };
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
    } else if (chat.type === 'my' || (chat.type !== 'direct' && !others.some((m) => isActive(slice.users, m.userId)))) {
      // D3: My Chat, and chats where the user was the only participant (reading: members already deleted do not count)
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
  for (const task of slice.assignedTasks) {
    if (!deleted(task.chatId)) list.add({ kind: 'task-deleted', rule: 'D6', taskId: task.id });
  }
  if (options.contractCancelled) {
    // F3: the cancelled organization's files go wherever they are, not only in the chats the member still sits in.
    for (const file of slice.uploads ?? []) {
      if (!deleted(file.chatId)) list.add({ kind: 'file-deleted', rule: 'F3', fileId: file.id });
    }
  }
  return { operation: 'deletion', userId: subject.id, effects: list.effects() };
}

/** Chats a plan deletes: the store loads their contents and plans again (F2). */
export function deletedChatIds(impact: Impact): string[] {
  return impact.effects.flatMap((e) => (e.kind === 'chat-deleted' ? [e.chatId] : []));
}
