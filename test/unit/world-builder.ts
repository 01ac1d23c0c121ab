import type { CommunicationContext } from '../../functions/domain/communication.js';
import {
  pairKey,
  type Chat,
  type ChatMember,
  type FileRecord,
  type Organization,
  type Task,
  type User,
} from '../../functions/domain/model.js';
import type { ChatContents, ChatView, PlanSlice } from '../../functions/domain/planner.js';

/** Small builders for rule tests: a world in a few lines, the slice the planner sees. */
export const org = (id: string, o: Partial<Organization> = {}): Organization => ({
  id,
  name: `Company ${id}`,
  plan: 'business',
  restrictOutsideCommunication: false,
  disallowFileSharing: false,
  ...o,
});

export const user = (id: string, organizationId: string | null, u: Partial<User> = {}): User => ({
  id,
  name: id.toUpperCase(),
  organizationId,
  orgAdmin: false,
  allowOutsideCommunication: false,
  allowFileSharing: false,
  apiToken: `tok-${id}`,
  status: 'active',
  ...u,
});

export const comm = (orgs: Organization[], allowances: [string, string][] = []): CommunicationContext => ({
  organizations: new Map(orgs.map((o) => [o.id, o])),
  allowances: new Set(allowances.map(([a, b]) => pairKey(a, b))),
});

export const member = (userId: string, role: ChatMember['role'] = 'member'): ChatMember => ({ userId, role });

export interface SliceSpec {
  subject: User;
  users: User[];
  orgs: Organization[];
  allowances?: [string, string][];
  contacts?: string[];
  chats?: { chat: Partial<Chat> & Pick<Chat, 'id' | 'type' | 'members'>; hasMessages?: boolean; files?: string[] }[];
  assignedTasks?: Task[];
  contents?: Record<string, ChatContents>;
}

export function slice(spec: SliceSpec): PlanSlice {
  const chats: ChatView[] = (spec.chats ?? []).map(({ chat, hasMessages = true, files = [] }) => ({
    chat: { frozen: false, ...chat },
    hasMessages,
    subjectFiles: files.map((id): FileRecord => ({
      id,
      chatId: chat.id,
      uploaderId: spec.subject.id,
      name: `${id}.txt`,
      size: 1,
      ownerOrganizationId: null,
    })),
  }));
  return {
    subject: spec.subject,
    users: new Map([spec.subject, ...spec.users].map((u) => [u.id, u])),
    comm: comm(spec.orgs, spec.allowances),
    contacts: spec.contacts ?? [],
    chats,
    assignedTasks: spec.assignedTasks ?? [],
    ...(spec.contents ? { deletedChatContents: new Map(Object.entries(spec.contents)) } : {}),
  };
}

export const kinds = (effects: { kind: string }[]) => effects.map((e) => e.kind);
