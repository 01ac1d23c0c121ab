import type { Task } from '../domain/model.js';
import { pairKey } from '../domain/model.js';
import type { ChatContents, ChatView, FileRef } from '../domain/planner.js';
import { inParallel, queryAll, queryPage, queryUpTo, READ_CONCURRENCY } from './batch.js';
import { GSI1, keys, memberIndexKey, UPLOADS_INDEX } from './keys.js';
import { toChat, toTask, type Item } from './records.js';
import { batchGet, tableName } from './table.js';
import { assertHandOverRecordsInPlace } from './hand-overs.js';

/**
 * What a plan reads, partition by partition. A plan for a user of any size is read in pages of chats and contacts
 * (see services/planning.ts); each function here reads one such page with bounded concurrency, one Query per
 * partition it must read and BatchGetItem for items known by key.
 */

const byPrefix = (pk: string, prefix: string, projection?: string) => ({
  TableName: tableName(),
  KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
  ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
  ...(projection ? { ProjectionExpression: projection } : {}),
  ConsistentRead: true,
});

const byIndex = (gsiPk: string, projection?: string) => ({
  TableName: tableName(),
  IndexName: GSI1,
  KeyConditionExpression: 'GSI1PK = :pk',
  ExpressionAttributeValues: { ':pk': gsiPk },
  ...(projection ? { ProjectionExpression: projection } : {}),
});

/** The user's side of a plan: its contacts, the chats it sits in, the files it uploaded, the tasks assigned to it. */
export interface SubjectIndex {
  contacts: string[];
  chatIds: string[];
  uploads: FileRef[];
  assignedTasks: Task[];
  /** Read with a bound that the user's chats, uploads or assigned tasks exceed: the lists hold only part of them. */
  truncated?: true;
}

/** How much of a subject's index a read may take (a plan within an API request, services/planning.ts `PlanBudget`). */
export interface IndexBound {
  chats: number;
  /** Uploads, and assigned tasks, each. */
  files: number;
}

/**
 * The subject's index. With a `bound` it stops past the bound (CONTRACT.md `planning`: a request reads no more than
 * it may plan, whatever the user's size) and says so with `truncated`; without one (the planning workflow, bulk runs)
 * it reads everything.
 */
export async function readSubjectIndex(userId: string, bound?: IndexBound): Promise<SubjectIndex> {
  const chats = bound?.chats ?? Number.POSITIVE_INFINITY;
  const files = bound?.files ?? Number.POSITIVE_INFINITY;
  await assertHandOverRecordsInPlace();
  const [ownItems, memberships, uploads, tasks] = await Promise.all([
    // the user's contacts and its records of files handed over (CONTACT# < HANDED# < USER): one Query
    queryAll({
      TableName: tableName(),
      KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': keys.user(userId).PK, ':from': 'CONTACT#', ':to': 'HANDED#\uffff' },
      ProjectionExpression: 'SK, otherId, organizationId',
      ConsistentRead: true,
    }),
    queryUpTo(byIndex(keys.userChats(userId), 'chatId'), chats),
    queryUpTo(uploadsOf(userId), files),
    queryUpTo(byIndex(keys.userAssigned(userId)), files),
  ]);
  const handedTo = ownItems.filter((i) => String(i.SK).startsWith('HANDED#'));
  const owners = handedTo.length ? await ownersOfUploads(userId, uploads.items) : new Map<string, string>();
  return {
    contacts: ownItems
      .filter((i) => String(i.SK).startsWith('CONTACT#'))
      .map((c) => c.otherId as string)
      .sort(),
    chatIds: [...new Set(memberships.items.map((m) => m.chatId as string))].sort(),
    uploads: uploads.items.map((f) => ({
      id: f.id as string,
      chatId: f.chatId as string,
      ownerOrganizationId: owners.get(`${f.chatId}\u0000${f.id}`) ?? null,
    })),
    assignedTasks: tasks.items.map(toTask),
    ...(memberships.more || uploads.more || tasks.more ? { truncated: true as const } : {}),
  };
}

/** GSI3: a user's uploads (id and chat), in chat order. */
const uploadsOf = (userId: string) => ({
  TableName: tableName(),
  IndexName: UPLOADS_INDEX,
  KeyConditionExpression: 'GSI3PK = :pk',
  ExpressionAttributeValues: { ':pk': keys.userFiles(userId) },
  ProjectionExpression: 'id, chatId',
});

/** One chat's files uploaded by `userId` (and, with `ownerId`, owned by it), as stored: their owners. */
const uploadsInChat = (chatId: string, userId: string, ownerId?: string) => ({
  ...byPrefix(keys.chat(chatId).PK, 'FILE#', 'PK, SK, id, ownerOrganizationId'),
  FilterExpression: ownerId === undefined ? 'uploaderId = :u' : 'uploaderId = :u AND ownerOrganizationId = :o',
  ExpressionAttributeValues: {
    ':pk': keys.chat(chatId).PK,
    ':prefix': 'FILE#',
    ':u': userId,
    ...(ownerId === undefined ? {} : { ':o': ownerId }),
  },
});

/**
 * F1: the owners of a user's uploads, for a user who handed files over (its HANDED# records): no index holds a
 * file's owner, so each chat holding its uploads is read, its files filtered to the user's. Keyed chat and file.
 */
async function ownersOfUploads(userId: string, uploads: readonly Item[]): Promise<Map<string, string>> {
  const owners = new Map<string, string>();
  const chatIds = [...new Set(uploads.map((f) => f.chatId as string))];
  await inParallel(chatIds, READ_CONCURRENCY, async (chatId) => {
    for (const f of await queryAll<Item>(uploadsInChat(chatId, userId)))
      if (f.ownerOrganizationId) owners.set(`${chatId}\u0000${f.id}`, f.ownerOrganizationId as string);
  });
  return owners;
}

const POST_PREFIXES = ['FILE#', 'MSG#', 'TASK#'];
const isPost = (sk: string) => POST_PREFIXES.some((p) => sk.startsWith(p));
/** A direct chat's partition is read once, its first items: the chat, its (at most two) members, and whether anything was posted. */
const DIRECT_PROBE = 12;

/** A chat as read for planning; `contents` when its whole partition was read on the way (F2 needs no second read). */
export type ReadChat = ChatView & { contents?: ChatContents };

/**
 * F2: what goes with a chat, sorted, and (X1) the organizations owning any of its files (F1): a plan deleting the chat
 * read what their runs change (F3).
 */
function chatContents(
  files: readonly { id: string; ownerOrganizationId?: string | null }[],
  tasks: readonly { id: string }[],
): ChatContents {
  const owners = [...new Set(files.flatMap((f) => f.ownerOrganizationId ?? []))].sort();
  return {
    fileIds: files.map((f) => f.id).sort(),
    taskIds: tasks.map((t) => t.id).sort(),
    ...(owners.length ? { ownerOrganizationIds: owners } : {}),
  };
}

const contentsOf = (items: Item[]): ChatContents =>
  chatContents(
    items.filter((i) => String(i.SK).startsWith('FILE#')) as { id: string }[],
    items.filter((i) => String(i.SK).startsWith('TASK#')) as { id: string }[],
  );

/** B1: the one subject of a bulk batch whose index lists a My Chat, with that index (readChatViews `owners`). */
export type MyChatOwner = { userId: string } & Pick<SubjectIndex, 'uploads' | 'assignedTasks'>;

/**
 * B1: a bulk batch's My Chat, not read: the batch deletes it with its member (D3), and that deletion reads the
 * partition once the member is deleted and deletes whatever it holds, bytes first (apply.ts applyChatsDeleted, F2,
 * F4). Its contents in the plan are the member's own uploads and assigned tasks in it, from the index read already;
 * its one member is the subject (D3 looks at no role).
 */
function ownedMyChat(chat: Item, owner: MyChatOwner, subjectFiles: FileRef[]): ReadChat {
  const here = (x: { chatId: string }) => x.chatId === chat.id;
  return {
    chat: toChat(chat, [{ userId: owner.userId, role: 'admin' }]),
    hasMessages: false,
    subjectFiles,
    contents: chatContents(owner.uploads.filter(here), owner.assignedTasks.filter(here)),
  };
}

/**
 * The chats, as the planner sees them: records by BatchGetItem, then per chat one Query: a group's members; a My
 * Chat's whole partition (it is always deleted with its user, D3, so its contents are needed, F2); the head of a
 * direct chat's partition (members and whether anything was posted, D4; the whole of it, when small).
 * `subjectFiles` are left empty: they are the subject's, and the planning context adds them per subject (F1).
 */
export async function readChatViews(chatIds: readonly string[], owners?: ReadonlyMap<string, MyChatOwner>): Promise<ReadChat[]> {
  const records = new Map((await batchGet(chatIds.map((id) => keys.chat(id)))).map((c) => [c.id as string, c]));
  const views = await inParallel(
    chatIds.filter((id) => records.has(id)),
    READ_CONCURRENCY,
    async (chatId): Promise<ReadChat> => {
      const chat = records.get(chatId)!;
      const pk = keys.chat(chatId).PK;
      const subjectFiles: FileRef[] = [];
      const whole = {
        TableName: tableName(),
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ProjectionExpression: 'SK, id, userId, #role, ownerOrganizationId',
        ExpressionAttributeNames: { '#role': 'role' },
        ConsistentRead: true,
      };
      const isMember = (i: Item) => String(i.SK).startsWith('MEMBER#');
      const owner = chat.chatType === 'my' ? owners?.get(chatId) : undefined;
      if (owner) return ownedMyChat(chat, owner, subjectFiles);
      if (chat.chatType === 'my') {
        const items = await queryAll(whole);
        return {
          chat: toChat(chat, items.filter(isMember)),
          hasMessages: items.some((i) => isPost(i.SK)),
          subjectFiles,
          contents: contentsOf(items),
        };
      }
      if (chat.chatType === 'direct') {
        const head = await queryPage({ ...whole, Limit: DIRECT_PROBE });
        const hasMessages = head.items.some((i) => isPost(i.SK));
        const pastMembers = head.items.some((i) => i.SK > 'MEMBER#\uffff');
        let members = head.items.filter(isMember);
        if (head.next && !pastMembers) members = await queryAll(byPrefix(pk, 'MEMBER#'));
        return { chat: toChat(chat, members), hasMessages, subjectFiles, ...(head.next ? {} : { contents: contentsOf(head.items) }) };
      }
      return { chat: toChat(chat, await queryAll(byPrefix(pk, 'MEMBER#'))), hasMessages: false, subjectFiles };
    },
  );
  return views;
}

/** F2: the files and tasks of chats a plan deletes, with the chat of each (to apply by key). */
export async function readChatContents(chatIds: readonly string[]): Promise<Map<string, ChatContents>> {
  const out = new Map<string, ChatContents>();
  await inParallel(chatIds, READ_CONCURRENCY, async (chatId) => {
    const [files, tasks] = await Promise.all([
      queryAll<Item>(byPrefix(keys.chat(chatId).PK, 'FILE#', 'id, ownerOrganizationId')),
      queryAll<Item>(byPrefix(keys.chat(chatId).PK, 'TASK#', 'id')),
    ]);
    out.set(chatId, chatContents(files as { id: string }[], tasks as { id: string }[]));
  });
  return out;
}

/** C2: the outside allowances of these organizations (the subject's side is all C2 ever needs). */
export async function readAllowances(organizationIds: readonly string[]): Promise<Set<string>> {
  const items = (await Promise.all(organizationIds.map((o) => queryAll(byPrefix(keys.org(o).PK, 'ALLOW#'))))).flat();
  return new Set(items.map((a) => pairKey(a.organizationId, a.otherId)));
}

/** Where DeleteOwnedFiles goes on: the user (its position among the organization's HANDED# records), the chat, and the file read last in it. */
export interface OwnedFilesCursor {
  userId: string;
  chatId: string;
  after?: { PK: string; SK: string };
}

const isOwnedFilesCursor = (c: unknown): c is OwnedFilesCursor =>
  typeof c === 'object' &&
  c !== null &&
  typeof (c as OwnedFilesCursor).userId === 'string' &&
  typeof (c as OwnedFilesCursor).chatId === 'string';

/** Query pages (each at most 1 MB) one page of owned files reads at most: an invocation's work is bounded whatever it finds. */
export const OWNED_FILES_READS = 200;

/** GSI3: the first chat after `afterChat` (or the first) holding an upload of `userId`. */
async function nextUploadChat(userId: string, afterChat?: string): Promise<string | undefined> {
  const page = await queryPage({
    TableName: tableName(),
    IndexName: UPLOADS_INDEX,
    KeyConditionExpression: afterChat === undefined ? 'GSI3PK = :pk' : 'GSI3PK = :pk AND GSI3SK > :after',
    ExpressionAttributeValues: {
      ':pk': keys.userFiles(userId),
      ...(afterChat === undefined ? {} : { ':after': `${keys.chatPosition(afterChat)}#\uffff` }),
    },
    ProjectionExpression: 'chatId',
    Limit: 1,
  });
  return page.items[0]?.chatId as string | undefined;
}

/**
 * F3: one page of the files an organization owns (handed over to it), with their chats: from the users who handed
 * files over to it (GSI1 `ORG#o#HANDED`), each one's chats (GSI3, one at a time), in each chat that user's files the
 * organization owns. At most `limit` files and OWNED_FILES_READS pages read; `next` is where it stopped. A cursor of
 * another shape (a run begun before this layout) starts again from the first user: the files deleted since are gone.
 * The records stay (a hand-over to the organization may be landing meanwhile; a stale one costs reads, never data).
 */
export async function readOwnedFilesPage(organizationId: string, limit: number, cursor?: unknown) {
  await assertHandOverRecordsInPlace();
  const at = isOwnedFilesCursor(cursor) ? cursor : undefined;
  const users = (await queryAll<Item>(byIndex(keys.orgHandedOver(organizationId), 'userId')))
    .map((i) => i.userId as string)
    .filter((u) => !at || keys.memberPosition(u) >= keys.memberPosition(at.userId));
  const files: { id: string; chatId: string }[] = [];
  let reads = 1;
  for (const userId of users) {
    let chatId: string | undefined = at?.userId === userId ? at.chatId : (reads++, await nextUploadChat(userId));
    let after = at?.userId === userId ? at.after : undefined;
    while (chatId !== undefined) {
      do {
        if (reads >= OWNED_FILES_READS) return { files, next: { userId, chatId, ...(after ? { after } : {}) } satisfies OwnedFilesCursor };
        const page = await queryPage<Item>({
          ...uploadsInChat(chatId, userId, organizationId),
          ...(after ? { ExclusiveStartKey: after } : {}),
        });
        reads++;
        for (const f of page.items) {
          files.push({ id: f.id as string, chatId });
          if (files.length >= limit)
            return { files, next: { userId, chatId, after: { PK: f.PK as string, SK: f.SK as string } } satisfies OwnedFilesCursor };
        }
        after = page.next as OwnedFilesCursor['after'];
      } while (after);
      reads++;
      chatId = await nextUploadChat(userId, chatId);
    }
  }
  return { files };
}

/** The members page cursor that goes on after this member (a batch that took only part of its page, B1). */
export const memberPageAfter = (organizationId: string, userId: string): Record<string, unknown> => memberIndexKey(organizationId, userId);

/** Members of an organization, one page of the members index at a time (B1 reads them in batches). */
export async function readMemberPage(organizationId: string, limit: number, cursor?: Record<string, unknown>) {
  const page = await queryPage({
    ...byIndex(keys.orgMembers(organizationId), 'id'),
    Limit: limit,
    ...(cursor ? { ExclusiveStartKey: cursor } : {}),
  });
  return { userIds: page.items.map((i) => i.id as string), next: page.next };
}
