import type { EffectKind } from '../domain/impact.js';
import { APPLIERS, type ApplyContext } from '../store/apply.js';
import { WriteBuffer } from '../store/batch.js';
import { effectTime } from '../shared/clock.js';
import { logger } from '../shared/logger.js';
import { auditAll, getOperationWithPlan, type OperationRecord } from '../store/operations.js';
import { firstEffectLanded } from '../domain/lifecycle/operation.js';
import { assertPremises, successionOf } from './transitions.js';
import { factKeys, type FactsWanted } from '../store/table.js';
import { pagesWith, readPlanPages, readPlanWithFirstPage, type PlanEntry, type PlanHeader } from '../store/plans.js';
import { PHASES, phasesOf, type Phase } from '../domain/phases.js';

// the phase table is the domain's (domain/phases.ts); re-exported for the steps and the progress view
export { DELETION_PHASES, PHASES, TRANSFER_PHASES, phasesOf, type Phase } from '../domain/phases.js';

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
/** The same, lowered by APPLY_WORK_PER_INVOCATION (a test's run of a few effects in several invocations, so Finalize runs). */
const workPerInvocation = (): number => {
  const set = Number(process.env.APPLY_WORK_PER_INVOCATION);
  return Number.isInteger(set) && set > 0 ? Math.min(set, WORK_PER_INVOCATION) : WORK_PER_INVOCATION;
};
/** Plan pages read at once while planning's pass readers or settlement walk a whole plan. */
export const PAGES_PER_INVOCATION = 4;

/** The start of a range of a phase's effects, as the audit trail names it (`page.index`). */
export const rangeOf = (cursor: Cursor | undefined): string => `${cursor?.page ?? 0}.${cursor?.index ?? 0}`;

const workOf = (e: PlanEntry): number =>
  e.effect.kind === 'admin-granted' ? e.effect.userIds.length : e.effect.kind === 'contact-removed' ? 2 : 1;

/** Counts by "kind (rule)", as the audit trail shows them (X2). */
export function countByKindAndRule(entries: readonly PlanEntry[]): Record<string, number> {
  const applied: Record<string, number> = {};
  for (const { effect } of entries) applied[`${effect.kind} (${effect.rule})`] = (applied[`${effect.kind} (${effect.rule})`] ?? 0) + 1;
  return applied;
}

/**
 * Applies gathered entries phase by phase (each applier batches across all of them). The kinds of one phase touch
 * different items (members and roles, files and owners, chats and tasks), so they go at once; phases go in order.
 * The phases' batched item writes are gathered (issue 18: one small operation's deletes in one BatchWriteItem, not
 * one per kind and phase) and sent before this returns, or by the caller that passes its own `writes` buffer; what
 * must land first (a transaction, an object's bytes) goes as the applier runs. On a failure what was gathered is sent
 * all the same (as if sent in order), then the failure is thrown.
 */
export async function applyEntries(
  entries: readonly PlanEntry[],
  phases: readonly Phase[],
  options: Omit<Partial<ApplyContext>, 'at' | 'writes'> & { writes?: WriteBuffer } = {},
): Promise<PlanEntry[]> {
  const writes = options.writes ?? new WriteBuffer();
  const applied: PlanEntry[] = [];
  const send = () => (options.writes ? Promise.resolve() : writes.flush());
  try {
    for (const phase of phases) {
      const kinds: readonly EffectKind[] = PHASES[phase];
      // each applier picks its own kind; membership-changed also reads security-changed (one transaction, T6)
      const inPhase = entries.filter((e) => kinds.includes(e.effect.kind));
      const context: ApplyContext = {
        at: effectTime(),
        bulk: options.bulk ?? false,
        writes,
        ...(options.leave ? { leave: options.leave } : {}),
        ...(options.operation ? { operation: options.operation } : {}),
        ...(options.organizationId ? { organizationId: options.organizationId } : {}),
      };
      const found = await Promise.all(
        kinds.filter((kind) => inPhase.some((e) => e.effect.kind === kind)).map((kind) => APPLIERS[kind](inPhase, context)),
      );
      applied.push(...inPhase);
      // B1: what a batch's chat deletions found beyond its plan (its members' My Chats, which it does not read; a file
      // posted after planning) is what the batch applied too (X2: its audit names every file it deleted)
      if (context.bulk) applied.push(...found.flatMap((f) => f ?? []));
    }
  } catch (error) {
    await send().catch((e) => logger.error('gathered writes not sent', { error: (e as Error).message }));
    throw error;
  }
  await send();
  return applied;
}

/** Where a run goes on from: the phase, the plan page, and how many of its entries of the phase's kinds were applied. */
export interface RunCursor extends Cursor {
  phase: Phase;
}

/**
 * What ends a run that one invocation applied whole (services/lifecycle.ts finalizeApplied): given the operation and
 * plan header it read and its audit entries, which it then writes.
 */
export type FinishWhole = (
  op: OperationRecord,
  header: PlanHeader | undefined,
  applied: readonly Record<string, unknown>[],
) => Promise<void>;

/**
 * Apply: an operation's planned effects, phase by phase in order, from its stored plan, up to WORK_PER_INVOCATION
 * item writes per invocation (at least one effect). Returns a cursor while effects remain; the state machine calls
 * again with it. A small operation is applied in one invocation: its operation, plan header and page are read once,
 * and its audit entries written in one request, or, with `finish`, handed to it (`finished`: no Finalize step
 * follows). Applying the same range twice is harmless; a run that already succeeded is not applied again (a retry
 * of the invocation that finished it: the user's lock is released by then, another operation may hold the user).
 */
export async function applyRun(
  operationId: string,
  cursor?: RunCursor,
  planId?: string,
  premises?: FactsWanted,
  finish?: FinishWhole,
): Promise<{ next?: RunCursor; finished?: true }> {
  // `planId`, `premises`: the state's hints, read with the operation in one request
  const { op, ahead } = await getOperationWithPlan(operationId, planId, premises ? factKeys(premises) : []);
  if (op?.status === 'succeeded') {
    // a retry of the invocation that finished the run: what that invocation left undelivered goes out now
    await finish?.(op, undefined, []);
    return { finished: true };
  }
  if (op && op.status !== 'running') throw new Error(`operation ${operationId} is ${op.status}, not running: nothing is applied`);
  if (!op?.planId) throw new Error(`operation ${operationId} has no stored plan`);
  const plan = await readPlanWithFirstPage(op.planId);
  if (!plan) throw new Error(`plan ${op.planId} of operation ${operationId} is missing`);
  const { header } = plan;
  // O1: until the plan's first effect (the membership change, the user's deletion) has landed, the premises are
  // checked again before anything is written; that effect's own transaction records the plan as begun and is itself
  // conditional on the user still being where the plan found it. After it, the user's lock keeps every other
  // operation away, and a resumption checks again (O2).
  const subject = firstEffectLanded(op) ? undefined : await assertPremises(op, ahead);
  const operation = {
    id: op.id,
    planId: op.planId,
    userId: op.userId,
    ...(subject ? { subject } : {}),
    ...(op.operation === 'deletion' ? { organizationId: op.organizationId! } : {}),
    ...successionOf(op),
  };
  const pages = new PageReader(op.planId, plan.first);
  const phases = phasesOf(op.operation);
  const whole = workPerInvocation();
  let budget = whole;
  let next: RunCursor | undefined;
  // Issue 18: every phase's batched item writes of this invocation go out together (one BatchWriteItem for a small
  // operation, not one per kind and phase). X2: a phase's audit entry is written once its writes landed: at once for
  // a phase that left nothing in the buffer (its transaction went as it ran), else after the flush that sent them.
  const writes = new WriteBuffer();
  const pending: Record<string, unknown>[] = []; // entries of phases whose writes wait in the buffer
  const landed: Record<string, unknown>[] = [];
  let flushFailed = false;
  const send = async () => {
    try {
      await writes.flush();
    } catch (error) {
      flushFailed = true; // what it held may be partly written: its phases count as left (applied again on resumption)
      throw error;
    }
    landed.push(...pending.splice(0));
  };
  try {
    for (let i = cursor ? phases.indexOf(cursor.phase) : 0; i < phases.length; i++) {
      const phase = phases[i]!;
      const from = phase === cursor?.phase ? cursor : undefined;
      if (budget <= 0) {
        next = { phase, page: from?.page ?? 0, ...(from?.index ? { index: from.index } : {}) };
        break;
      }
      const taken = await gather(header, pages, phase, from, budget, budget === whole);
      const applied = await applyEntries(taken.entries, [phase], { operation, writes });
      // X2; `from` names the range, so a range applied twice (a retry) is counted once when a resume sums what is left
      if (applied.length > 0) pending.push({ event: 'applied', step: phase, from: rangeOf(from), applied: countByKindAndRule(applied) });
      if (writes.isEmpty()) landed.push(...pending.splice(0));
      budget -= taken.work;
      if (taken.next) {
        next = { phase, ...taken.next };
        break;
      }
    }
    await send();
  } catch (error) {
    // what landed before the failure is recorded all the same (the phases before a failed applier: their gathered
    // writes are sent first, as they would have been in order); the failure itself is what the run reports
    if (!flushFailed) await send().catch((e) => logger.error('gathered writes not sent', { operationId, error: (e as Error).message }));
    await auditAll(operationId, landed).catch((e) =>
      logger.error('audit entries not written', { operationId, error: (e as Error).message }),
    );
    throw error;
  }
  if (finish && !cursor && !next) {
    // the whole run in this invocation: it is finalized here, its audit entries with its `succeed` transition
    await finish({ ...op, appliedPlan: op.planId }, header, landed);
    return { finished: true };
  }
  await auditAll(operationId, landed);
  return next ? { next } : {};
}

/** Plan pages read once per invocation, a few at a time; the first page comes with the header. */
class PageReader {
  private readonly cache = new Map<number, PlanEntry[]>();
  constructor(
    private readonly planId: string,
    first: PlanEntry[],
  ) {
    this.cache.set(0, first);
  }

  async page(n: number, ahead: readonly number[]): Promise<PlanEntry[]> {
    if (!this.cache.has(n)) {
      if (this.cache.size > 2 * PAGES_PER_INVOCATION) this.cache.clear(); // bounded memory for a plan of any size
      const want = [n, ...ahead.filter((p) => p !== n && !this.cache.has(p))].slice(0, PAGES_PER_INVOCATION);
      (await readPlanPages(this.planId, want)).forEach((entries, i) => this.cache.set(want[i]!, entries));
    }
    return this.cache.get(n)!;
  }
}

/** A phase's entries from `cursor` on, up to `budget` item writes; the cursor to go on from when some remain. */
async function gather(
  header: PlanHeader,
  pages: PageReader,
  phase: Phase,
  cursor: Cursor | undefined,
  budget: number,
  atLeastOne: boolean,
): Promise<{ entries: PlanEntry[]; work: number; next?: Cursor }> {
  const kinds: readonly EffectKind[] = PHASES[phase];
  const numbers = pagesWith(header, kinds, cursor?.page ?? 0);
  const entries: PlanEntry[] = [];
  let work = 0;
  for (let k = 0; k < numbers.length; k++) {
    const page = numbers[k]!;
    const inPhase = (await pages.page(page, numbers.slice(k + 1))).filter((e) => kinds.includes(e.effect.kind));
    for (let index = page === cursor?.page ? (cursor.index ?? 0) : 0; index < inPhase.length; index++) {
      const cost = workOf(inPhase[index]!);
      if ((entries.length > 0 || !atLeastOne) && work + cost > budget)
        return { entries, work, next: { page, ...(index ? { index } : {}) } };
      entries.push(inPhase[index]!);
      work += cost;
    }
    if (work >= budget && k + 1 < numbers.length) return { entries, work, next: { page: numbers[k + 1]! } };
  }
  return { entries, work };
}
