import type { Organization, User } from '../domain/model.js';
import { pairKey } from '../domain/model.js';
import type { ChatContents, ChatView, PlanSlice } from '../domain/planner.js';
import { queryAll } from './batch.js';
import { GSI1, keys } from './keys.js';
import { toChat, toFile, toTask, type Item } from './records.js';
import { batchGet, getOrganizations, getUsers, tableName } from './table.js';

/** Where each planned file or task lives, so its effect can be applied by key (effects name only ids). */
export type Locators = Map<string, string>;
export const fileLocator = (fileId: string) => `file:${fileId}`;
export const taskLocator = (taskId: string) => `task:${taskId}`;

const byPrefix = (pk: string, prefix: string, projection?: string) => ({
  TableName: tableName(),
  KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
  ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
  ...(projection ? { ProjectionExpression: projection } : {}),
  ConsistentRead: true,
});

const byIndex = (gsiPk: string) => ({
  TableName: tableName(),
  IndexName: GSI1,
  KeyConditionExpression: 'GSI1PK = :pk',
  ExpressionAttributeValues: { ':pk': gsiPk },
});

/** Reads the slice of the world a plan for this user depends on. `extraOrganizationIds`: e.g. a transfer's destination. */
export async function readPlanSlice(subject: User, extraOrganizationIds: string[] = []): Promise<{ slice: PlanSlice; locators: Locators }> {
  const [contactItems, membershipItems, fileItems, taskItems] = await Promise.all([
    queryAll(byPrefix(`USER#${subject.id}`, 'CONTACT#')),
    queryAll(byIndex(keys.userChats(subject.id))),
    queryAll(byIndex(keys.userFiles(subject.id))),
    queryAll(byIndex(keys.userAssigned(subject.id))),
  ]);
  const chatIds = [...new Set(membershipItems.map((m) => m.chatId as string))].sort();
  const chatRecords = new Map((await batchGet(chatIds.map((id) => keys.chat(id)))).map((c) => [c.id as string, c]));
  const chatViews = await Promise.all(
    chatIds.filter((id) => chatRecords.has(id)).map(async (chatId): Promise<ChatView> => {
      const chat = chatRecords.get(chatId)!;
      const [members, firstMessage] = await Promise.all([
        queryAll(byPrefix(`CHAT#${chatId}`, 'MEMBER#')),
        chat.chatType === 'direct' ? queryAll({ ...byPrefix(`CHAT#${chatId}`, 'MSG#', 'PK'), Limit: 1 }) : Promise.resolve([]),
      ]);
      const subjectFiles = fileItems.filter((f) => f.chatId === chatId && !f.ownerOrganizationId).map(toFile);
      return { chat: toChat(chat, members), hasMessages: firstMessage.length > 0, subjectFiles };
    }),
  );
  const contacts = contactItems.map((c) => c.otherId as string).sort();
  const userIds = new Set<string>([...contacts, ...chatViews.flatMap((v) => v.chat.members.map((m) => m.userId))]);
  userIds.delete(subject.id);
  const users = await getUsers(userIds);
  users.set(subject.id, subject);
  const orgIds = new Set<string>(extraOrganizationIds);
  for (const u of users.values()) if (u.organizationId) orgIds.add(u.organizationId);
  const organizations: Map<string, Organization> = await getOrganizations(orgIds);
  // C2 only ever needs the pairs that include the subject's organization(s): the source and the destination.
  const allowanceOrgs = [subject.organizationId, ...extraOrganizationIds].filter((o): o is string => Boolean(o));
  const allowanceItems = (await Promise.all(allowanceOrgs.map((o) => queryAll(byPrefix(`ORG#${o}`, 'ALLOW#'))))).flat();
  const allowances = new Set(allowanceItems.map((a) => pairKey(a.organizationId, a.otherId)));

  const locators: Locators = new Map();
  for (const f of fileItems) locators.set(fileLocator(f.id), f.chatId);
  for (const t of taskItems) locators.set(taskLocator(t.id), t.chatId);
  const slice: PlanSlice = {
    subject,
    users,
    comm: { organizations, allowances },
    contacts,
    chats: chatViews,
    assignedTasks: taskItems.map(toTask),
  };
  return { slice, locators };
}

/** F2: the files and tasks of chats a plan deletes. */
export async function readChatContents(chatIds: string[], locators: Locators): Promise<Map<string, ChatContents>> {
  const out = new Map<string, ChatContents>();
  await Promise.all(
    chatIds.map(async (chatId) => {
      const [files, tasks] = await Promise.all([
        queryAll<Item>(byPrefix(`CHAT#${chatId}`, 'FILE#', 'id')),
        queryAll<Item>(byPrefix(`CHAT#${chatId}`, 'TASK#', 'id')),
      ]);
      for (const f of files) locators.set(fileLocator(f.id), chatId);
      for (const t of tasks) locators.set(taskLocator(t.id), chatId);
      out.set(chatId, { fileIds: files.map((f) => f.id).sort(), taskIds: tasks.map((t) => t.id).sort() });
    }),
  );
  return out;
}
