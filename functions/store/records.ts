import type { Chat, ChatMember, FileRecord, Message, Organization, Task, User } from '../domain/model.js';
import { keys, organizationIndexKey } from './keys.js';

/** Mapping between domain records and table items. Each item carries `type` so a scan can tell them apart. */
export type Item = Record<string, any>;

/** `members` and `admins` count active members and administrators: seats (T4) and the last administrator (D1) are guarded by conditions on them. */
export const orgItem = (o: Organization, members: number, admins: number): Item => ({
  ...organizationIndexKey(o.id),
  type: 'org',
  ...o,
  members,
  admins,
});
export function toOrg(item: Item): Organization {
  return {
    id: item.id,
    name: item.name,
    plan: item.plan,
    restrictOutsideCommunication: Boolean(item.restrictOutsideCommunication),
    disallowFileSharing: Boolean(item.disallowFileSharing),
    ...(item.deletionGraceDays === undefined || item.deletionGraceDays === null
      ? {}
      : { deletionGraceDays: Number(item.deletionGraceDays) }),
    ...(item.seats === undefined || item.seats === null ? {} : { seats: Number(item.seats) }),
  };
}

export const userItem = (u: User): Item => ({
  ...keys.user(u.id),
  type: 'user',
  ...u,
  ...(u.organizationId ? { GSI1PK: keys.orgMembers(u.organizationId), GSI1SK: keys.memberPosition(u.id) } : {}),
});
export function toUser(item: Item): User {
  return {
    id: item.id,
    name: item.name,
    organizationId: item.organizationId ?? null,
    orgAdmin: Boolean(item.orgAdmin),
    allowOutsideCommunication: Boolean(item.allowOutsideCommunication),
    allowFileSharing: Boolean(item.allowFileSharing),
    apiToken: item.apiToken ?? null,
    status: item.status === 'deleted' || item.status === 'suspended' ? item.status : 'active',
    ...(item.deletedAt ? { deletedAt: item.deletedAt } : {}),
  };
}

export const contactItems = (a: string, b: string): Item[] => [
  { ...keys.contact(a, b), type: 'contact', userId: a, otherId: b },
  { ...keys.contact(b, a), type: 'contact', userId: b, otherId: a },
];
export const allowanceItems = (a: string, b: string): Item[] => [
  { ...keys.allowance(a, b), type: 'allowance', organizationId: a, otherId: b },
  { ...keys.allowance(b, a), type: 'allowance', organizationId: b, otherId: a },
];

export const chatItem = (c: Omit<Chat, 'members'>): Item => ({
  ...keys.chat(c.id),
  type: 'chat',
  id: c.id,
  chatType: c.type,
  name: c.name,
  frozen: c.frozen,
});
export const memberItem = (chatId: string, m: ChatMember): Item => ({
  ...keys.member(chatId, m.userId),
  type: 'member',
  chatId,
  userId: m.userId,
  role: m.role,
  GSI1PK: keys.userChats(m.userId),
  GSI1SK: keys.chatPosition(chatId),
});
export function toChat(item: Item, members: Item[]): Chat {
  return {
    id: item.id,
    type: item.chatType,
    ...(item.name === undefined ? {} : { name: item.name }),
    frozen: Boolean(item.frozen),
    members: members.map((m) => ({ userId: m.userId, role: m.role })).sort((a, b) => (a.userId < b.userId ? -1 : 1)),
  };
}

export const messageItem = (m: Message): Item => ({ ...keys.message(m.chatId, m.id), type: 'message', ...m });
export const toMessage = (item: Item): Message => ({
  id: item.id,
  chatId: item.chatId,
  senderId: item.senderId,
  postedAt: item.postedAt,
  ...(item.body === undefined ? {} : { body: item.body }),
});

/** In its uploader's uploads (keys.ts, GSI3), whoever owns it. */
export const fileItem = (f: FileRecord): Item => ({
  ...keys.file(f.chatId, f.id),
  type: 'file',
  ...f,
  GSI3PK: keys.userFiles(f.uploaderId),
  GSI3SK: keys.filePosition(f.chatId, f.id),
});

/**
 * F1, F3: `userId`'s files were handed over to `organizationId` (some, or all, of them): the planner reads which of
 * the user's uploads are owned when the user has one, and F3 finds the organization's files from them (GSI1).
 */
export const handedOverItem = (userId: string, organizationId: string): Item => ({
  ...keys.handedOver(userId, organizationId),
  type: 'handed-over',
  userId,
  organizationId,
  GSI1PK: keys.orgHandedOver(organizationId),
  GSI1SK: keys.memberPosition(userId),
});

/** The hand-over records a set of files needs: one per uploader and owning organization. */
export const handedOverItems = (files: readonly Pick<FileRecord, 'uploaderId' | 'ownerOrganizationId'>[]): Item[] => {
  const pairs = new Map<string, [string, string]>();
  for (const f of files)
    if (f.ownerOrganizationId) pairs.set(JSON.stringify([f.uploaderId, f.ownerOrganizationId]), [f.uploaderId, f.ownerOrganizationId]);
  return [...pairs.values()].map(([u, o]) => handedOverItem(u, o));
};
export const toFile = (item: Item): FileRecord => ({
  id: item.id,
  chatId: item.chatId,
  uploaderId: item.uploaderId,
  name: item.name,
  size: Number(item.size ?? 0),
  ownerOrganizationId: item.ownerOrganizationId ?? null,
});

export const taskItem = (t: Task): Item => ({
  ...keys.task(t.chatId, t.id),
  type: 'task',
  ...t,
  GSI1PK: keys.userAssigned(t.assigneeId),
  GSI1SK: keys.taskPosition(t.id),
});
export const toTask = (item: Item): Task => ({
  id: item.id,
  chatId: item.chatId,
  assigneeId: item.assigneeId,
  requesterId: item.requesterId,
  ...(item.body === undefined ? {} : { body: item.body }),
});
