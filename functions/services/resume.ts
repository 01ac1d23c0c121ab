import type { Operation } from '../domain/impact.js';
import type { User } from '../domain/model.js';
import { Conflict, Forbidden, Ineligible, NotFound } from '../shared/errors.js';
import { markIncoming } from '../store/markers.js';
import { getLocks } from '../store/locks.js';
import { audit, getOperation, lockFor, now, readAudit, transition, type OperationRecord } from '../store/operations.js';
import { readPlanHeader, type PlanHeader } from '../store/plans.js';
import { assertDeletionEligible, assertTransferEligible, callerUser, isAdminOf, mustGetOrganization, mustGetUser } from './access.js';
import { executionEnded, startRun } from './executions.js';
import { operationView } from './views.js';

/**
 * Who may resume: for a deletion an administrator of its organization; for a transfer an administrator of the source
 * organization, or of the destination once it approved (both agreed to the move; after ApplyMembership the user is
 * the destination's member and only its administrators remain responsible for it).
 */
function requireResumer(caller: User, op: OperationRecord): void {
  const allowed =
    op.operation === 'deletion'
      ? isAdminOf(caller, op.organizationId)
      : isAdminOf(caller, op.sourceOrganizationId) || (Boolean(op.approvedBy) && isAdminOf(caller, op.destinationOrganizationId));
  if (!allowed) {
    const who = op.operation === 'deletion' ? `an administrator of ${op.organizationId}` : `an administrator of ${op.sourceOrganizationId}${op.approvedBy ? ` or ${op.destinationOrganizationId}` : ''}`;
    throw new Forbidden(`user ${caller.id} may not resume ${op.operation} ${op.id}: only ${who} may`);
  }
}

/**
 * Eligibility again (T1, T2, T5 for a transfer; D1 for a deletion), unless the stored plan's own effect already moved
 * or deleted the user (then it was checked before that effect landed, and what is left is the rest of that plan).
 */
async function recheck(op: OperationRecord, applying: boolean): Promise<User> {
  const user = await mustGetUser(op.userId);
  if (op.operation === 'transfer') {
    if (applying && user.organizationId === op.destinationOrganizationId) return user;
    if (user.status !== 'active' || user.organizationId !== op.sourceOrganizationId) {
      throw new Ineligible([{ rule: 'T5', message: `user ${user.id} is no longer an active member of ${op.sourceOrganizationId}` }]);
    }
    await assertTransferEligible(user, await mustGetOrganization(op.destinationOrganizationId!));
  } else {
    if (applying && user.status === 'deleted') return user;
    await assertDeletionEligible(user);
  }
  return user;
}

/**
 * What is left of a plan, by "kind (rule)": its effects minus those the audit trail records applied under it. A
 * range applied twice (a retried step) counts once; effects written by an invocation that stopped before recording
 * them count as left (they are applied again, harmlessly: every applier is idempotent).
 */
export async function leftOf(op: OperationRecord, header: PlanHeader): Promise<Record<string, number>> {
  const left: Record<string, number> = {};
  for (const row of header.summary) left[`${row.kind} (${row.rule})`] = row.count;
  const seen = new Set<string>();
  for (const entry of await readAudit(op.id)) {
    if (entry.event !== 'applied' || String(entry.at) < header.createdAt) continue;
    const range = `${entry.step}@${entry.from ?? entry.at}`;
    if (seen.has(range)) continue;
    seen.add(range);
    for (const [k, n] of Object.entries((entry.applied ?? {}) as Record<string, number>)) if (k in left) left[k] = Math.max(0, left[k]! - n);
  }
  return Object.fromEntries(Object.entries(left).filter(([, n]) => n > 0));
}

/**
 * POST /transfers/{id}/resumption, POST /deletions/{id}/resumption: a failed operation runs again, as a new
 * execution of its state machine, from its stored plan: the appliers skip what already landed. A plan whose
 * application had begun is kept as it is (X1: the operation applies exactly its plan); one that never began is
 * checked by PlanImpact like any run start (kept while the world is unchanged, computed again otherwise).
 */
export async function resumeOperation(callerId: string, id: string, kind: Operation) {
  const caller = await callerUser(callerId);
  let op = await getOperation(id);
  if (!op || op.operation !== kind) throw new NotFound(`${kind} ${id} does not exist`);
  requireResumer(caller, op);
  if (op.status === 'running' && (await executionEnded(op))) {
    // its execution ended without recording the outcome (MarkFailed itself failed): it failed
    op = await transition(op.id, ['running'], 'failed', { error: { code: 'ExecutionEnded', message: 'the execution ended without recording its outcome' } });
    await audit(op.id, { event: 'failed', code: 'ExecutionEnded', message: 'found ended when resumed' });
  }
  if (op.status !== 'failed') throw new Conflict(`${kind} ${id} is ${op.status}; only a failed ${kind} can be resumed`);
  const applying = op.appliedPlan !== undefined && op.appliedPlan === op.planId;
  const user = await recheck(op, applying);
  const holder = (await getLocks([op.userId]))[0];
  if (holder && holder.operationId !== op.id) throw new Conflict(`another operation on user ${op.userId} is running or waiting (${holder.operationId})`);
  const header = op.planId ? await readPlanHeader(op.planId) : undefined;
  const left = header ? await leftOf(op, header) : {};
  // a transfer not yet moved is on its way in again: its seat is reserved at the destination (T4)
  if (op.operation === 'transfer' && user.organizationId === op.sourceOrganizationId) await markIncoming(op);
  // X2: who resumed and what was left, recorded before the run can write its own entries
  await audit(op.id, { event: 'resumed', by: caller.id, run: op.runCount + 1, planId: op.planId, keptPlan: applying, left });
  try {
    return operationView(await startRun(op, ['failed'], {}, [lockFor(op.userId, op.id, now())], applying));
  } catch (error) {
    await audit(op.id, { event: 'resume-refused', by: caller.id, message: (error as Error).message });
    throw error;
  }
}
