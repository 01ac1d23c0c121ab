import type { EffectKind, Operation } from './impact.js';

/**
 * The phase table: which effect kinds each phase applies, in order. The transfer and deletion state machines' Apply
 * step runs them in order (services/phases.ts), as many as fit in an invocation; a bulk batch (B1) runs the deletion
 * phases in one invocation; the console shows a run's progress by them. Same table, same appliers.
 */
export const PHASES = {
  // T4, T6, T9: the move and its security settings in one transaction; D2 the user deleted
  ApplyMembership: ['membership-changed', 'security-changed', 'api-token-revoked'],
  DeleteUser: ['user-deleted', 'api-token-revoked'],
  // F1, F2, F4
  HandleFiles: ['file-deleted', 'file-handed-over'],
  // T7, D4
  PruneContacts: ['contact-removed'],
  // X3: the successor's join is applied with the user's leave of the same chat, in one transaction; T8, D4, D5, G1, G2
  LeaveChats: ['chat-joined', 'chat-left', 'admin-granted', 'chat-frozen'],
  // D3–D6
  DeleteChats: ['chat-deleted', 'task-deleted', 'task-reassigned'],
} as const satisfies Record<string, readonly EffectKind[]>;
export type Phase = keyof typeof PHASES;

/**
 * Every effect kind is applied by some phase: a kind left out of PHASES (planned and previewed, never applied) is a
 * type error here that names it.
 */
type Unphased = Exclude<EffectKind, (typeof PHASES)[Phase][number]>;
export const EVERY_KIND_PHASED: [Unphased] extends [never] ? true : { unphased: Unphased } = true;

/** The deletion state machine's phases, in its order (D2 first: the user is gone before anything around it). */
export const DELETION_PHASES = [
  'DeleteUser',
  'HandleFiles',
  'PruneContacts',
  'LeaveChats',
  'DeleteChats',
] as const satisfies readonly Phase[];
/** The transfer state machine's phases, in its order (T4: the seat is taken first). */
export const TRANSFER_PHASES = [
  'ApplyMembership',
  'HandleFiles',
  'PruneContacts',
  'LeaveChats',
  'DeleteChats',
] as const satisfies readonly Phase[];

/** A run's phases, in the order its state machine applies them. */
export const phasesOf = (operation: Operation): readonly Phase[] => (operation === 'transfer' ? TRANSFER_PHASES : DELETION_PHASES);
