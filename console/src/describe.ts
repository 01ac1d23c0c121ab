import type { Effect, EffectKind, Names } from './api.js';
import type { Dictionary } from './i18n/index.js';
import { PHASES, type Phase } from '../../functions/domain/phases.js';

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
  /** Who uploaded a file, with their organization; undefined when the API did not say. */
  uploader(fileId: unknown): string | undefined;
  task(id: unknown): string;
}

type NamedUser = NonNullable<Names['users']>[string];

/**
 * A person's name as others see it (D2), worded in the reader's language: "Name (cancelled)", "Cancelled user"
 * (deleted before 2016, the API's display name says so), "Name (suspended)" during a grace period (D7).
 */
export function personName(t: Dictionary, u: NamedUser | undefined, fallback: string): string {
  if (!u) return fallback;
  const name = u.name ?? u.displayName;
  if (u.status === 'deleted') return u.name !== undefined && !u.displayName.startsWith(u.name) ? t.cancelledUser : t.deletedUserName(name);
  if (u.status === 'suspended') return t.suspendedUserName(name);
  return name;
}

/** A person's own name, without D2's or D7's suffix: for titles ("Deletion of Asuka Aoki"), whatever their status now. */
export const plainName = (u: NamedUser | undefined, fallback: string): string => u?.name ?? u?.displayName ?? fallback;

export function labels(t: Dictionary, names: Names, orgNames: Record<string, string>, subject?: string): Labels {
  const org = (id: unknown) => names.organizations?.[String(id)]?.name ?? orgNames[String(id)] ?? String(id);
  const user = (id: unknown) => personName(t, names.users?.[String(id)], String(id));
  const other = (id: unknown) => {
    const o = names.users?.[String(id)]?.organizationId;
    return o ? `${user(id)} (${org(o)})` : user(id);
  };
  return {
    user,
    org,
    other,
    chat(id) {
      const c = names.chats?.[String(id)];
      if (c?.name) return c.name;
      if (c?.type === 'my') return t.chatMy;
      if (c?.type === 'direct') {
        const others = (c.members ?? []).filter((m) => m !== subject);
        return others.length ? t.chatDirectWith(others.map(other).join(t.and)) : t.chatDirectUnnamed;
      }
      // a chat the operation deleted has no record left to name it by
      return t.chatGone;
    },
    file: (id) => names.files?.[String(id)]?.name ?? String(id),
    uploader(fileId) {
      const u = names.files?.[String(fileId)]?.uploaderId;
      return u === undefined ? undefined : u === subject ? user(u) : other(u);
    },
    task: (id) => names.tasks?.[String(id)]?.title ?? String(id),
  };
}

/** One effect in plain words (CONTRACT.md "Impact": each kind and its fields). */
export function describeEffect(t: Dictionary, l: Labels, e: Effect, subject: string): string {
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
      const ids = e.userIds;
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
      return t.effectAdminGranted(e.userIds.map((u) => l.other(u)).join(t.and), l.chat(e.chatId));
    case 'task-deleted':
      return t.effectTaskDeleted(l.task(e.taskId));
    case 'file-deleted': {
      const by = l.uploader(e.fileId);
      return by ? t.effectFileDeletedBy(l.file(e.fileId), by) : t.effectFileDeleted(l.file(e.fileId));
    }
    case 'file-handed-over': {
      const by = l.uploader(e.fileId);
      return by
        ? t.effectFileHandedOverBy(l.file(e.fileId), by, l.org(e.organizationId))
        : t.effectFileHandedOver(l.file(e.fileId), l.org(e.organizationId));
    }
    case 'chat-joined':
      return t.effectChatJoined(l.user(e.userId), l.chat(e.chatId));
    case 'task-reassigned':
      return t.effectTaskReassigned(l.task(e.taskId), l.user(e.userId));
    default: {
      // every kind has its words (the compiler says which is missing); an API newer than the console shows it raw
      const unknown: never = e;
      return `${(unknown as { kind: string }).kind}: ${JSON.stringify(unknown)}`;
    }
  }
}

/** The label of an effect kind, e.g. "Chats left" (every kind has one in each dictionary); an unknown kind is shown as it is. */
export const kindLabel = (t: Dictionary, kind: string): string => (isEffectKind(kind) ? t[`kind_${kind}`] : kind);

export const statusLabel = (t: Dictionary, status: string): string => {
  const v = t[`status_${status}` as keyof Dictionary];
  return typeof v === 'string' ? v : status;
};

/** A phase's name in words (every phase of domain/phases.ts has one in each dictionary); an unknown one as it is. */
/** A phase's words: the planned phases' (PHASES), and X4's Export phase that comes before them. */
export const phaseLabel = (t: Dictionary, name: string): string =>
  Object.hasOwn(PHASES, name) || name === 'Export' ? t[`phase_${name as Phase | 'Export'}`] : name;

/** An audit event in words; an event the console has no words for reads as a recorded step, never as its raw name. */
export const auditEventLabel = (t: Dictionary, event: string): string => {
  const v = t[`audit_${event}` as keyof Dictionary];
  return typeof v === 'string' ? v : t.audit_unknown;
};

/** An error or refusal code (CONTRACT.md's codes, a run's error, a reason's condition) in words. */
export const codeWords = (t: Dictionary, code: string | undefined): string | undefined => {
  const v = t[`code_${code}` as keyof Dictionary];
  return typeof v === 'string' ? v : undefined;
};

/** A plan's name in the reader's language (`business` → "Business"). */
export const planLabel = (t: Dictionary, plan: string): string => {
  const v = t[`plan_${plan}` as keyof Dictionary];
  return typeof v === 'string' ? v : plan;
};

/**
 * Why one change happens, in words that fit it: the kind's explanation under that rule (`why_chat-left_T8`), else the
 * kind's (`why_chat-frozen`), else the rule's meaning.
 */
export const whyText = (t: Dictionary, kind: string, rule: string, ruleMeaning: (id: string) => string): string => {
  for (const key of [`why_${kind}_${rule}`, `why_${kind}`]) {
    const v = t[key as keyof Dictionary];
    if (typeof v === 'string') return v;
  }
  return ruleMeaning(rule);
};

/**
 * The order of the groups of a preview: the move or the deletion itself first, then what breaks, then what is handed
 * on. Every effect kind has its place: a kind left out is a type error.
 */
const KIND_RANK: Record<EffectKind, number> = {
  'membership-changed': 0,
  'user-deleted': 1,
  'api-token-revoked': 2,
  'security-changed': 3,
  'contact-removed': 4,
  'chat-left': 5,
  'chat-deleted': 6,
  'chat-frozen': 7,
  'admin-granted': 8,
  'chat-joined': 9,
  'file-deleted': 10,
  'file-handed-over': 11,
  'task-deleted': 12,
  'task-reassigned': 13,
};
export const KIND_ORDER = (Object.keys(KIND_RANK) as EffectKind[]).sort((a, b) => KIND_RANK[a] - KIND_RANK[b]);
export const isEffectKind = (kind: string): kind is EffectKind => Object.hasOwn(KIND_RANK, kind);
export const kindRank = (kind: string): number => (isEffectKind(kind) ? KIND_RANK[kind] : KIND_ORDER.length);
