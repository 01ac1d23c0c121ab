import { NotFound } from '../shared/errors.js';
import { logger } from '../shared/logger.js';
import {
  audit,
  auditAll,
  getOperationWithPlan,
  journalEnd,
  othersRanBeside,
  planIdFor,
  releaseLock,
  runOrganizations,
  setPlan,
  type OperationRecord,
  type WithTransition,
} from '../store/operations.js';
import { fingerprint, readPlanWithFirstPage, writePlan, type PlanHeader } from '../store/plans.js';
import { mustGetOrganization } from './access.js';
import { assertPremises, move } from './transitions.js';
import { flushPending } from './events.js';
import { computeDeletionPlan, computeTransferPlan, stillCurrent } from './planning.js';
import { settleAfter } from './settle.js';
import { failScheduled, reactivateAfterFailedPurge } from './grace.js';
import { clearTransferMarkers, resumeWaitingTransfers, waitForSeat } from './transfers.js';
import { assertSamePlan } from './views.js';
import { successorOf } from './successor.js';

async function mustGetOperation(id: string, planId?: string): Promise<OperationRecord> {
  // docs/EVENTS.md: the retry path of the outbox; `planId`: the plan's header read with it (a hint from the state)
  const op = await flushPending((await getOperationWithPlan(id, planId)).op);
  if (!op) throw new NotFound(`operation ${id} does not exist`);
  return op;
}

/**
 * X1: the plan is computed again from the current data when a run starts, before anything is applied, and stored
 * as the operation's impact. Once stored for this run it is not recomputed, so a retry applies the same plan.
 */
export async function planRun(operationId: string): Promise<{ effects: number; replanned: boolean }> {
  const op = await mustGetOperation(operationId);
  if (op.plannedRun === op.runCount) return { effects: -1, replanned: false }; // planned at the request or approval
  if (await stillCurrent(op.planId, op.id)) {
    await setPlan(op.id, op.planId!, op.runCount, op.plans ?? 1); // no run changed what it read since: it holds
    return { effects: -1, replanned: false };
  }
  const user = await assertPremises(op); // O1 before reading anything more: a plan is made only while its premises hold
  const { entries, organizations, readAt } =
    op.operation === 'transfer'
      ? await computeTransferPlan(user, await mustGetOrganization(op.destinationOrganizationId!), await successorOf(op))
      : await computeDeletionPlan(user, await successorOf(op));
  // X1 beyond: requested with a saved preview, the run applies that plan or nothing (ends failed, impact-changed)
  if (op.previewFingerprint)
    assertSamePlan(op.previewFingerprint, fingerprint(entries.map((e) => e.effect)), op.previewId ?? 'the saved preview');
  const plans = (op.plans ?? 0) + 1;
  const plan = await writePlan({ id: planIdFor(op.id, plans), operation: op.operation, userId: op.userId, organizations, readAt }, entries);
  await setPlan(op.id, plan.id, op.runCount, plans);
  return { effects: entries.length, replanned: true };
}

/** `settle: false` when the caller settles the touched chats itself (a bulk run sweeps them all at its end). */
export async function finalize(operationId: string, options: { settle?: boolean; planId?: string } = {}): Promise<void> {
  const op = await mustGetOperation(operationId, options.planId);
  // with its first page in the same request: the `succeed` events' Affected entries read it (kept for the invocation)
  const header = async () => (op.planId ? (await readPlanWithFirstPage(op.planId))?.header : undefined);
  await succeed(op, header, { settle: options.settle !== false });
}

/**
 * Finalize inside the Apply invocation that applied a whole run (issue 18: a small operation's operation, plan and
 * page are read once, its Apply audit entries go in the `succeed` transaction, and no Finalize step runs). `op` is
 * the record Apply read, `applied` its audit entries: written on their own if the transition does not commit.
 */
export async function finalizeApplied(
  read: OperationRecord,
  header: PlanHeader | undefined,
  applied: readonly Record<string, unknown>[],
): Promise<void> {
  const op = (await flushPending(read)) ?? read; // docs/EVENTS.md: what an earlier invocation left undelivered
  const recorded = { audit: false };
  try {
    await succeed(op, async () => header, { settle: true, applied, recorded });
  } catch (error) {
    if (!recorded.audit) await auditAll(op.id, applied);
    throw error;
  }
}

async function succeed(
  op: OperationRecord,
  header: () => Promise<PlanHeader | undefined>,
  options: { settle: boolean; applied?: readonly Record<string, unknown>[]; recorded?: { audit: boolean } },
): Promise<void> {
  if (op.status !== 'succeeded') {
    // G2, D4, D5 against operations that ran beside this one; alone, the plan saw every chat as it is now
    // measured from when the plan's reads began: a run that ended between those reads and this run's start counts too
    const plan = await header();
    if (options.settle && (await othersRanBeside(op, plan))) await settleAfter(op);
    // the outcome and its bookkeeping (lock, journal, markers, audit) in one transaction
    await move(op, 'succeed', { with: endOfRun(op, { event: 'succeeded' }, options.applied) });
    if (options.recorded) options.recorded.audit = true;
  }
  // (succeeded already: a retry; its lock, journal, markers and audit went with that transition)
  // T4 "resumes when seats free": the seat this operation freed goes to the transfer waiting longest there (B2)
  const freed = op.operation === 'deletion' ? op.organizationId : op.sourceOrganizationId;
  if (freed) await resumeBestEffort(freed);
}

/** What ends with a run, in the transition's own transaction: the lock, the journal entries, a transfer's markers, the audit entry. */
const endOfRun = (
  op: OperationRecord,
  entry: Record<string, unknown>,
  before: readonly Record<string, unknown>[] = [],
): WithTransition[] => [
  { lock: 'release' },
  ...(op.startedAt ? [{ journal: 'end' as const, startedAt: op.startedAt }] : []),
  { markers: 'clear' },
  { audit: [...before, entry] },
];

/** Catch: the operation ends failed with its error, and its lock is released. */
export async function markFailed(operationId: string, error: { Error?: string; Cause?: string }): Promise<void> {
  const op = await mustGetOperation(operationId);
  const { code, message, rule } = describeError(error);
  // the failing step had recorded the outcome already, then stopped (a timeout): that outcome stands
  if (op.status === 'succeeded') {
    // Finalize stopped after `succeeded` (its bookkeeping went with it): not a failure; the freed seat still goes on
    await audit(op.id, { event: 'finalize-interrupted', code, message });
    return finalize(operationId);
  }
  if (op.status === 'awaiting-seat') {
    // AwaitSeat stopped after the wait was recorded: the transfer waits (B2 resumes it) with its markers and lock
    await audit(op.id, { event: 'await-seat-interrupted', code, message });
    return;
  }
  // D7 beyond: a purge that failed before DeleteUser leaves the user suspended with nothing to undo: active again
  if (op.status === 'running' && op.purgeAt) await reactivateAfterFailedPurge(op);
  if (op.status === 'scheduled') await failScheduled(op, { code, message, ...(rule ? { rule } : {}) });
  // CONTRACT.md `planning`: a plan computed in the background that refused (O1, X1, X3) fails the operation too
  if (op.status === 'running' || op.status === 'planning')
    await move(op, 'fail', { set: { error: { code, message, ...(rule ? { rule } : {}) } } });
  await clearTransferMarkers(op);
  await releaseLock(op.userId, op.id);
  await journalEnd(op.id, runOrganizations(op), op.startedAt);
  await audit(op.id, { event: 'failed', code, message, rule });
  // a transfer that failed before taking its seat leaves it to the next one waiting; a deletion that failed after
  // DeleteUser freed one (B2)
  if (op.status === 'running') await resumeBestEffort(op.operation === 'transfer' ? op.destinationOrganizationId! : op.organizationId!);
}

/**
 * B2 after the operation's own outcome is recorded: a failure here must not turn a succeeded operation into a
 * failed one; the transfers left waiting resume with the next freed seat or seat event.
 */
async function resumeBestEffort(organizationId: string): Promise<void> {
  try {
    await resumeWaitingTransfers(organizationId);
  } catch (error) {
    logger.warn('waiting transfers not resumed', { organizationId, error: (error as Error).message });
  }
}

/** T4: no free seat when the membership changed; the transfer waits for one (B2 resumes it). */
export async function awaitSeat(operationId: string): Promise<void> {
  const op = await mustGetOperation(operationId);
  if (op.status === 'running') await waitForSeat(op);
  await audit(op.id, { event: 'awaiting-seat', rule: 'T4' });
}

const RULE_BY_ERROR: Record<string, string> = { NoFreeSeat: 'T4', ImpactChanged: 'X1' };
/** Error names whose CONTRACT.md code differs. */
const CODE_BY_ERROR: Record<string, string> = { ImpactChanged: 'impact-changed' };

export function describeError(error: { Error?: string; Cause?: string }): { code: string; message: string; rule?: string } {
  const name = error.Error ?? 'Unknown';
  const code = CODE_BY_ERROR[name] ?? name;
  let message = error.Cause ?? code;
  try {
    const cause = JSON.parse(message);
    if (cause && typeof cause.errorMessage === 'string') message = cause.errorMessage;
  } catch {
    // Cause is plain text
  }
  const ruleMatch = /^([TDFGBCXO]\d+):/.exec(message);
  const rule = ruleMatch?.[1] ?? RULE_BY_ERROR[name];
  return { code, message, ...(rule ? { rule } : {}) };
}
