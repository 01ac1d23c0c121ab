/** The entities of RULES.md ("Entities"), as the rules see them. No AWS types here. */

export const PLANS = ['free', 'business', 'enterprise', 'kddi-chatwork'] as const;
export type Plan = (typeof PLANS)[number];
export type Role = 'admin' | 'member' | 'readonly';
export type ChatType = 'my' | 'direct' | 'group';

export interface Organization {
  id: string;
  name: string;
  plan: Plan;
  restrictOutsideCommunication: boolean;
  disallowFileSharing: boolean;
  /** D7 beyond: days a deletion waits, suspended and undoable, before anything is purged (0 or absent: at once). */
  deletionGraceDays?: number;
  /** Licences bought; undefined means unlimited. */
  seats?: number;
}

export interface User {
  id: string;
  name: string;
  organizationId: string | null;
  orgAdmin: boolean;
  allowOutsideCommunication: boolean;
  allowFileSharing: boolean;
  apiToken: string | null;
  /** `suspended`: deleted under a grace period (D7), not yet purged: cannot sign in, still holds its seat. */
  status: 'active' | 'suspended' | 'deleted';
  deletedAt?: string;
}

/**
 * D7 beyond: a suspended user may come back (undo) with everything as it was, so every plan but its own purge sees
 * it as still there: its chats are not deleted under it, nor its administrator role handed over.
 */
export const isPresent = (user: Pick<User, 'status'> | undefined): boolean => user !== undefined && user.status !== 'deleted';

export interface ChatMember {
  userId: string;
  role: Role;
}

export interface Chat {
  id: string;
  type: ChatType;
  name?: string;
  members: ChatMember[];
  frozen: boolean;
}

export interface Message {
  id: string;
  chatId: string;
  senderId: string;
  postedAt: string;
  body?: string;
}

export interface FileRecord {
  id: string;
  chatId: string;
  uploaderId: string;
  name: string;
  size: number;
  ownerOrganizationId: string | null;
}

export interface Task {
  id: string;
  chatId: string;
  assigneeId: string;
  requesterId: string;
  body?: string;
}

/** Unordered pair key, used for contacts and outside allowances. */
export function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

export function sortedPair(a: string, b: string): [string, string] {
  return a < b ? [a, b] : [b, a];
}
