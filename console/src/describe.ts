import type { Effect, Names } from './api.js';
import type { Dictionary } from './i18n/index.js';

/** Names known so far (merged across pages of `/effects`); ids stand in for anything the API did not name. */
export function mergeNames(a: Names, b: Names | undefined): Names {
  if (!b) return a;
  return {
    users: { ...a.users, ...b.users },
    chats: { ...a.chats, ...b.chats },
    organizations: { ...a.organizations, ...b.organizations },
    files: { ...a.files, ...b.files },
    tasks: { ...a.tasks, ...b.tasks },
  };
}

export interface Labels {
  user(id: unknown): string;
  /** A user other than the subject: with their organization, which is what decides C2. */
  other(id: unknown): string;
  chat(id: unknown): string;
  org(id: unknown): string;
  file(id: unknown): string;
  task(id: unknown): string;
}

export function labels(t: Dictionary, names: Names, orgNames: Record<string, string>): Labels {
  const org = (id: unknown) => names.organizations?.[String(id)]?.name ?? orgNames[String(id)] ?? String(id);
  const user = (id: unknown) => names.users?.[String(id)]?.displayName ?? String(id);
  return {
    user,
    org,
    other(id) {
      const o = names.users?.[String(id)]?.organizationId;
      return o ? `${user(id)} (${org(o)})` : user(id);
    },
    chat(id) {
      const c = names.chats?.[String(id)];
      if (c?.name) return c.name;
      if (c?.type === 'my') return t.chatMy;
      if (c?.type === 'direct') return `${t.chatDirectUnnamed} (${String(id)})`;
      return String(id);
    },
    file: (id) => names.files?.[String(id)]?.name ?? String(id),
    task: (id) => names.tasks?.[String(id)]?.title ?? String(id),
  };
}

/** One effect in plain words (CONTRACT.md "Impact": each kind and its fields). */
export function describeEffect(t: Dictionary, l: Labels, e: Effect, subject: string): string {
  const ids = (Array.isArray(e.userIds) ? e.userIds : []) as string[];
  switch (e.kind) {
    case 'security-changed':
      return t.effectSecurity(l.user(e.userId), e.allowOutsideCommunication ? t.yes : t.no, e.allowFileSharing ? t.yes : t.no);
    case 'membership-changed':
      return t.effectMembership(l.user(e.userId), l.org(e.fromOrganizationId), l.org(e.toOrganizationId));
    case 'user-deleted':
      return t.effectUserDeleted(l.user(e.userId));
    case 'api-token-revoked':
      return t.effectTokenRevoked(l.user(e.userId));
    case 'contact-removed': {
      // the subject first, the other side with its organization
      const [a, b] = ids.includes(subject) ? [subject, ids.find((u) => u !== subject) ?? subject] : [ids[0], ids[1]];
      return t.effectContactRemoved(a === subject ? l.user(a) : l.other(a), l.other(b));
    }
    case 'chat-left':
      return t.effectChatLeft(e.userId === subject ? l.user(e.userId) : l.other(e.userId), l.chat(e.chatId));
    case 'chat-frozen':
      return t.effectChatFrozen(l.chat(e.chatId));
    case 'chat-deleted':
      return t.effectChatDeleted(l.chat(e.chatId));
    case 'admin-granted':
      return t.effectAdminGranted(ids.map((u) => l.other(u)).join(t.and), l.chat(e.chatId));
    case 'task-deleted':
      return t.effectTaskDeleted(l.task(e.taskId));
    case 'file-deleted':
      return t.effectFileDeleted(l.file(e.fileId));
    case 'file-handed-over':
      return t.effectFileHandedOver(l.file(e.fileId), l.org(e.organizationId));
    case 'chat-joined':
      return t.effectChatJoined(l.user(e.userId), l.chat(e.chatId));
    case 'task-reassigned':
      return t.effectTaskReassigned(l.task(e.taskId), l.user(e.userId));
    default:
      return `${e.kind}: ${JSON.stringify(e)}`;
  }
}

/** The label of an effect kind, e.g. "Chats left"; an unknown kind is shown as it is. */
export const kindLabel = (t: Dictionary, kind: string): string => {
  const key = `kind_${kind}` as keyof Dictionary;
  const v = t[key];
  return typeof v === 'string' ? v : kind;
};

export const statusLabel = (t: Dictionary, status: string): string => {
  const v = t[`status_${status}` as keyof Dictionary];
  return typeof v === 'string' ? v : status;
};

export const phaseLabel = (t: Dictionary, name: string): string => {
  const v = t[`phase_${name}` as keyof Dictionary];
  return typeof v === 'string' ? v : name;
};

export const auditEventLabel = (t: Dictionary, event: string): string => {
  const v = t[`audit_${event}` as keyof Dictionary];
  return typeof v === 'string' ? v : event;
};
