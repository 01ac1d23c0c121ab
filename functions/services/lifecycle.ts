import { Ineligible, NotFound } from '../shared/errors.js';
import { audit, getOperation, releaseLock, setPlannedRun, transition, writeImpact, type OperationRecord } from '../store/operations.js';
import { assertDeletionEligible, assertTransferEligible, mustGetOrganization, mustGetUser } from './access.js';
import { computeDeletionImpact, computeTransferImpact } from './planning.js';
import { settleAfter } from './settle.js';
import { clearTransferMarkers, waitForSeat } from './transfers.js';

async function mustGetOperation(id: string): Promise<OperationRecord> {
  const op = await getOperation(id);
  if (!op) throw new NotFound(`operation ${id} does not exist`);
  return op;
}

/** T1, T2, T5 (transfer) or D1 (deletion), checked again when the run starts. */
export async function checkEligibility(operationId: string): Promise<void> {
  const op = await mustGetOperation(operationId);
  const user = await mustGetUser(op.userId);
  if (op.operation === 'transfer') {
    if (user.organizationId !== op.sourceOrganizationId) {
      throw new Ineligible([{ rule: 'T5', message: `user ${user.id} is no longer a member of ${op.sourceOrganizationId}` }]);
    }
    await assertTransferEligible(user, await mustGetOrganization(op.destinationOrganizationId!));
  } else {
    await assertDeletionEligible(user);
  }
}

/**
 * X1: the plan is computed again from the current data when a run starts, before anything is applied, and stored
 * as the operation's impact. Once stored for this run it is not recomputed, so a retry applies the same plan.
 */
export async function planRun(operationId: string): Promise<{ effects: number; replanned: boolean }> {
  const op = await mustGetOperation(operationId);
  if (op.plannedRun === op.runCount) return { effects: -1, replanned: false };
  const user = await mustGetUser(op.userId);
  const { impact, locators } =
    op.operation === 'transfer'
      ? await computeTransferImpact(user, await mustGetOrganization(op.destinationOrganizationId!))
      : await computeDeletionImpact(user);
  await writeImpact(op.id, impact, locators);
  await setPlannedRun(op.id, op.runCount);
  return { effects: impact.effects.length, replanned: true };
}

/** `settle: false` when the caller settles the touched chats itself (a bulk run sweeps them all at its end). */
export async function finalize(operationId: string, options: { settle?: boolean } = {}): Promise<void> {
  const op = await mustGetOperation(operationId);
  if (op.status !== 'succeeded') {
    if (options.settle !== false) await settleAfter(op.id); // G2, D4, D5 against operations that ran beside this one
    await transition(op.id, ['running'], 'succeeded');
  }
  await clearTransferMarkers(op);
  await releaseLock(op.userId, op.id);
  await audit(op.id, { event: 'succeeded' });
}

/** Catch: the operation ends failed with its error, and its lock is released. */
export async function markFailed(operationId: string, error: { Error?: string; Cause?: string }): Promise<void> {
  const op = await mustGetOperation(operationId);
  const { code, message, rule } = describeError(error);
  if (op.status === 'running') await transition(op.id, ['running'], 'failed', { error: { code, message, ...(rule ? { rule } : {}) } });
  await clearTransferMarkers(op);
  await releaseLock(op.userId, op.id);
  await audit(op.id, { event: 'failed', code, message, rule });
}

/** T4: no free seat when the membership changed; the transfer waits for one (B2 resumes it). */
export async function awaitSeat(operationId: string): Promise<void> {
  const op = await mustGetOperation(operationId);
  if (op.status === 'running') await waitForSeat(op, ['running']);
  await audit(op.id, { event: 'awaiting-seat', rule: 'T4' });
}

const RULE_BY_ERROR: Record<string, string> = { NoFreeSeat: 'T4' };

function describeError(error: { Error?: string; Cause?: string }): { code: string; message: string; rule?: string } {
  const code = error.Error ?? 'Unknown';
  let message = error.Cause ?? code;
  try {
    const cause = JSON.parse(message);
    if (cause && typeof cause.errorMessage === 'string') message = cause.errorMessage;
  } catch {
    // Cause is plain text
  }
  const ruleMatch = /^([TDFGBCX]\d+):/.exec(message);
  const rule = ruleMatch?.[1] ?? RULE_BY_ERROR[code];
  return { code, message, ...(rule ? { rule } : {}) };
}
