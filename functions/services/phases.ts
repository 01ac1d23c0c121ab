import type { EffectKind } from '../domain/impact.js';
import { APPLIERS, type ApplyContext } from '../store/apply.js';
import { effectTime } from '../shared/clock.js';
import { audit, getOperation } from '../store/operations.js';
import { firstEffectLanded } from '../domain/lifecycle/operation.js';
import { assertPremises, successionOf } from './transitions.js';
import { pagesWith, readPlanHeader, readPlanPages, type PlanEntry } from '../store/plans.js';
import { worldChanged } from '../store/world-version.js';

/**
 * The phase table: which effect kinds each step applies, in order. The transfer and deletion state machines run
 * these phases one step each; a bulk batch (B1) runs the deletion phases in one invocation. Same table, same appliers.
 */
export const PHASES = {
  ApplyMembership: ['membership-changed', 'security-changed', 'api-token-revoked'],
  DeleteUser: ['user-deleted', 'api-token-revoked'],
  HandleFiles: ['file-deleted', 'file-handed-over'],
  PruneContacts: ['contact-removed'],
  // X3: the successor's join is applied with the user's leave of the same chat, in one transaction
  LeaveChats: ['chat-joined', 'chat-left', 'admin-granted', 'chat-frozen'],
  DeleteChats: ['chat-deleted', 'task-deleted', 'task-reassigned'],
} as const satisfies Record<string, readonly EffectKind[]>;
export type Phase = keyof typeof PHASES;

export const DELETION_PHASES: readonly Phase[] = ['DeleteUser', 'HandleFiles', 'PruneContacts', 'LeaveChats', 'DeleteChats'];
/** The transfer state machine's phases, in its order (infra/constructs/operation-workflow.ts). */
export const TRANSFER_PHASES: readonly Phase[] = ['ApplyMembership', 'HandleFiles', 'PruneContacts', 'LeaveChats', 'DeleteChats'];

export interface Cursor {
  /** The plan page to go on from, and how many of its entries of this phase's kinds were applied already. */
  page: number;
  index?: number;
}

/**
 * Work per invocation, in item writes (an effect is one, a broken contact two, an administrator grant one per
 * member): an invocation's time stays the same for a user of any size, and file deletes come in whole DeleteObjects
 * requests of 1,000 (file-deleted effects are contiguous in impact order, so every invocation but the last of them
 * deletes a multiple of 1,000). The number of invocations grows with the work.
 */
export const WORK_PER_INVOCATION = 4000;
/** Plan pages read at once while planning's pass readers or settlement walk a whole plan. */
export const PAGES_PER_INVOCATION = 4;

/** The start of a range of a phase's effects, as the audit trail names it (`page.index`). */
export const rangeOf = (cursor: Cursor | undefined): string => `${cursor?.page ?? 0}.${cursor?.index ?? 0}`;

const workOf = (e: PlanEntry): number => (e.effect.kind === 'admin-granted' ? e.effect.userIds.length : e.effect.kind === 'contact-removed' ? 2 : 1);

/** Counts by "kind (rule)", as the audit trail shows them (X2). */
export function countByKindAndRule(entries: readonly PlanEntry[]): Record<string, number> {
  const applied: Record<string, number> = {};
  for (const { effect } of entries) applied[`${effect.kind} (${effect.rule})`] = (applied[`${effect.kind} (${effect.rule})`] ?? 0) + 1;
  return applied;
}

/**
 * Applies gathered entries phase by phase (each applier batches across all of them). The kinds of one phase touch
 * different items (members and roles, files and owners, chats and tasks), so they go at once; phases go in order.
 */
export async function applyEntries(entries: readonly PlanEntry[], phases: readonly Phase[], options: Omit<Partial<ApplyContext>, 'at'> = {}): Promise<PlanEntry[]> {
  const applied = new Set<PlanEntry>();
  try {
    for (const phase of phases) {
      const kinds: readonly EffectKind[] = PHASES[phase];
      // each applier picks its own kind; membership-changed also reads security-changed (one transaction, T6)
      const inPhase = entries.filter((e) => kinds.includes(e.effect.kind));
      const context: ApplyContext = { at: effectTime(), bulk: options.bulk ?? false, ...(options.leave ? { leave: options.leave } : {}), ...(options.operation ? { operation: options.operation } : {}), ...(options.organizationId ? { organizationId: options.organizationId } : {}) };
      for (const e of inPhase) applied.add(e); // counted as started: a failure part way still moves the version
      await Promise.all(kinds.filter((kind) => inPhase.some((e) => e.effect.kind === kind)).map((kind) => APPLIERS[kind](inPhase, context)));
    }
  } finally {
    if (applied.size > 0) await worldChanged(); // after the writes, even partial ones: see store/world-version.ts
  }
  return [...applied];
}

/**
 * Applies an operation's planned effects of one phase, from its stored plan, up to WORK_PER_INVOCATION item writes
 * (at least one effect). Returns a cursor when effects remain; the state machine calls again with it. Applying the
 * same range twice is harmless.
 */
export async function applyPhase(operationId: string, phase: Phase, cursor?: Cursor): Promise<Cursor | undefined> {
  const op = await getOperation(operationId);
  if (!op?.planId) throw new Error(`operation ${operationId} has no stored plan`);
  const header = await readPlanHeader(op.planId);
  if (!header) throw new Error(`plan ${op.planId} of operation ${operationId} is missing`);
  // O1: until the plan's first effect (the membership change, the user's deletion) has landed, every step checks the
  // premises again before it writes; that effect's own transaction records the plan as begun (a resume keeps it).
  // After it, the user's lock keeps every other operation away, and a resumption checks again (O2).
  if (!firstEffectLanded(op)) await assertPremises(op);
  const operation = { id: op.id, planId: op.planId, ...(op.operation === 'deletion' ? { organizationId: op.organizationId! } : {}), ...successionOf(op) };
  const kinds: readonly EffectKind[] = PHASES[phase];
  const pages = pagesWith(header, kinds, cursor?.page ?? 0);
  const take: PlanEntry[] = [];
  let work = 0;
  let next: Cursor | undefined;
  let read: PlanEntry[][] = [];
  scan: for (let k = 0; k < pages.length; k++) {
    if (k % PAGES_PER_INVOCATION === 0) read = await readPlanPages(op.planId, pages.slice(k, k + PAGES_PER_INVOCATION)); // a few pages at a time
    const page = pages[k]!;
    const entries = read[k % PAGES_PER_INVOCATION]!.filter((e) => kinds.includes(e.effect.kind));
    for (let index = page === cursor?.page ? (cursor.index ?? 0) : 0; index < entries.length; index++) {
      const cost = workOf(entries[index]!);
      if (take.length > 0 && work + cost > WORK_PER_INVOCATION) {
        next = { page, index };
        break scan;
      }
      take.push(entries[index]!);
      work += cost;
    }
    if (work >= WORK_PER_INVOCATION && k + 1 < pages.length) {
      next = { page: pages[k + 1]!, index: 0 };
      break;
    }
  }
  const applied = await applyEntries(take, [phase], { operation });
  // X2; `from` names the range, so a range applied twice (a retry) is counted once when a resume sums what is left
  if (applied.length > 0) await audit(operationId, { event: 'applied', step: phase, from: rangeOf(cursor), applied: countByKindAndRule(applied) });
  return next;
}
