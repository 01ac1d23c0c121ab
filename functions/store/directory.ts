import { displayName } from '../domain/display-names.js';
import type { User } from '../domain/model.js';
import { filteredPage, inParallel, queryAll } from './batch.js';
import { GSI1, keys, memberIndexKey, organizationIndexKey } from './keys.js';
import { toUser } from './records.js';
import { batchGet, tableName } from './table.js';

/**
 * What the admin console reads about people, organizations and the things effects name: members of an organization
 * (GSI1 `ORG#o#MEMBERS`, in user-id order), every organization (GSI1 `ORGS`), and the names of the ids on an
 * effects page (BatchGetItem of 100).
 */

export interface MemberRow {
  userId: string;
  displayName: string;
  /** The user's own name: the console words D2's suffix ("(cancelled)", "Cancelled user") in the reader's language. */
  name: string;
  role: 'admin' | 'member';
  status: User['status'];
}

const MEMBER_ATTRIBUTES = {
  ProjectionExpression: 'id, #name, orgAdmin, #status, deletedAt',
  ExpressionAttributeNames: { '#name': 'name', '#status': 'status' },
};

/**
 * An organization's members (deleted ones too, with their D2 names), by user id. `q` keeps those whose id or shown
 * name contains it, ignoring case: a search reads the members index on (1 MB a request) until the page is full.
 */
export async function listMembers(
  organizationId: string,
  options: { q?: string; after?: string; limit: number },
): Promise<{ members: MemberRow[]; next?: string }> {
  const q = options.q?.toLowerCase();
  const { values, last } = await filteredPage<MemberRow>(
    {
      TableName: tableName(),
      IndexName: GSI1,
      KeyConditionExpression: 'GSI1PK = :pk',
      ExpressionAttributeValues: { ':pk': keys.orgMembers(organizationId) },
      ...MEMBER_ATTRIBUTES,
      ...(options.after ? { ExclusiveStartKey: memberIndexKey(organizationId, options.after) } : {}),
    },
    options.limit,
    (items) =>
      items.flatMap((item): [Record<string, any>, MemberRow][] => {
        const user = toUser(item);
        const row: MemberRow = {
          userId: user.id,
          displayName: displayName(user),
          name: user.name,
          role: user.orgAdmin ? 'admin' : 'member',
          status: user.status,
        };
        return !q || row.userId.toLowerCase().includes(q) || row.displayName.toLowerCase().includes(q) ? [[item, row]] : [];
      }),
    q ? Number.POSITIVE_INFINITY : undefined,
  );
  return { members: values, ...(last ? { next: last.id as string } : {}) };
}

export interface OrganizationRow {
  id: string;
  name: string;
  plan: string;
}

/** Every organization, by id. */
export async function listOrganizations(options: {
  after?: string;
  limit: number;
}): Promise<{ organizations: OrganizationRow[]; next?: string }> {
  const { values, last } = await filteredPage<OrganizationRow>(
    {
      TableName: tableName(),
      IndexName: GSI1,
      KeyConditionExpression: 'GSI1PK = :pk',
      ExpressionAttributeValues: { ':pk': keys.organizations },
      ProjectionExpression: 'id, #name, #plan',
      ExpressionAttributeNames: { '#name': 'name', '#plan': 'plan' },
      ...(options.after ? { ExclusiveStartKey: organizationIndexKey(options.after) } : {}),
    },
    options.limit,
    (items) => items.map((i) => [i, { id: i.id, name: i.name, plan: i.plan }]),
  );
  return { organizations: values, ...(last ? { next: last.id as string } : {}) };
}

/** The ids an effects page names; files and tasks with the chat they live in (their key). */
export interface NamedIds {
  users: Set<string>;
  chats: Set<string>;
  organizations: Set<string>;
  files: Map<string, string>;
  tasks: Map<string, string>;
}

export interface Names {
  /** `displayName` as D2 shows it to others; `name` and `status` so the console words the D2 suffix in its language. */
  users: Record<string, { displayName: string; organizationId: string | null; name: string; status: User['status'] }>;
  /** `members`: a direct chat's participants, so it is named by the other person rather than by its id. */
  chats: Record<string, { name: string | null; type: string; members?: string[] }>;
  organizations: Record<string, { name: string }>;
  /**
   * `uploaderId`: who uploaded the file (named among `users`, with their organization); `size` and
   * `ownerOrganizationId` (F1, F3): what an export would hold of it (X4), counted by the console from the preview.
   */
  files: Record<string, { name: string; uploaderId?: string; size: number; ownerOrganizationId?: string }>;
  tasks: Record<string, { title: string }>;
}

/** Reads in flight at once for a page's names: a 1,000-effect page names a few thousand ids, 100 to a request. */
const NAME_READS_IN_FLIGHT = 8;

/**
 * The names of every id on an effects page, as people see them now: a deleted user's as D2 shows it. Records gone
 * since (a chat, file or task an operation deleted) have no name left to show and are absent.
 */
export async function readNames(ids: NamedIds): Promise<Names> {
  const items = await batchGet(
    [
      ...[...ids.users].map(keys.user),
      ...[...ids.chats].map(keys.chat),
      ...[...ids.organizations].map(keys.org),
      ...[...ids.files].map(([id, chatId]) => keys.file(chatId, id)),
      ...[...ids.tasks].map(([id, chatId]) => keys.task(chatId, id)),
    ],
    NAME_READS_IN_FLIGHT,
  );
  const names: Names = { users: {}, chats: {}, organizations: {}, files: {}, tasks: {} };
  const addUser = (item: Record<string, any>) => {
    const user = toUser(item);
    names.users[user.id] = { displayName: displayName(user), organizationId: user.organizationId, name: user.name, status: user.status };
  };
  for (const item of items) {
    if (item.type === 'user') addUser(item);
    else if (item.type === 'chat') names.chats[item.id] = { name: item.name ?? null, type: item.chatType };
    else if (item.type === 'org') names.organizations[item.id] = { name: item.name };
    else if (item.type === 'file') {
      const owner = item.ownerOrganizationId ? { ownerOrganizationId: item.ownerOrganizationId as string } : {};
      names.files[item.id] = {
        name: item.name,
        ...(item.uploaderId ? { uploaderId: item.uploaderId } : {}),
        size: Number(item.size ?? 0),
        ...owner,
      };
    } else if (item.type === 'task') names.tasks[item.id] = { title: item.body ?? '' };
  }
  // a direct chat has no name: its members (one Query each), and they and the files' uploaders named in a second read
  const direct = Object.entries(names.chats)
    .filter(([, c]) => c.type === 'direct')
    .map(([id]) => id);
  await inParallel(direct, NAME_READS_IN_FLIGHT, async (chatId) => {
    const members = await queryAll<Record<string, any>>({
      TableName: tableName(),
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :m)',
      ExpressionAttributeValues: { ':pk': keys.chat(chatId).PK, ':m': 'MEMBER#' },
      ProjectionExpression: 'userId',
    });
    names.chats[chatId]!.members = members.map((m) => m.userId as string).sort();
  });
  const more = new Set(
    [
      ...Object.values(names.chats).flatMap((c) => c.members ?? []),
      ...Object.values(names.files).flatMap((f) => (f.uploaderId ? [f.uploaderId] : [])),
    ].filter((u) => !names.users[u]),
  );
  const people = await batchGet([...more].map(keys.user), NAME_READS_IN_FLIGHT);
  for (const item of people) if (item.type === 'user') addUser(item);
  return names;
}
