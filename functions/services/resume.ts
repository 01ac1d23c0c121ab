import type { Operation } from '../domain/impact.js';
import { firstEffectLanded } from '../domain/lifecycle/operation.js';
import { Conflict, NotFound } from '../shared/errors.js';
import { markIncoming } from '../store/markers.js';
import { getLocks } from '../store/locks.js';
import { audit, getOperation, now, readAudit, type OperationRecord } from '../store/operations.js';
import { readPlanHeader, type PlanHeader } from '../store/plans.js';
import { callerUser } from './access.js';
import { executionEnded, planningEnded, startRun } from './executions.js';
import { assertPremises, move, requireActor, requireStatus, requireWithinResumeWindow } from './transitions.js';
import { operationView } from './views.js';

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
    for (const [k, n] of Object.entries((entry.applied ?? {}) as Record<string, number>))
      if (k in left) left[k] = Math.max(0, left[k]! - n);
  }
  return Object.fromEntries(Object.entries(left).filter(([, n]) => n > 0));
}

/** What is left of the operation's stored plan (undefined without one): a resumption's and a cancellation's trail (X2). */
export async function leftUndone(op: OperationRecord): Promise<Record<string, number> | undefined> {
  const header = op.planId ? await readPlanHeader(op.planId) : undefined;
  return header ? leftOf(op, header) : undefined;
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
  requireActor('resume', op, caller); // O2, T3: who could request it (a transfer's source, once both consented)
  if ((op.status === 'running' && (await executionEnded(op))) || (op.status === 'planning' && (await planningEnded(op)))) {
    // its execution ended without recording the outcome (MarkFailed or PlanFailed itself failed): it failed
    op = await move(op, 'fail', {
      set: { error: { code: 'ExecutionEnded', message: 'the execution ended without recording its outcome' } },
    });
    await audit(op.id, { event: 'failed', code: 'ExecutionEnded', message: 'found ended when resumed' });
  }
  requireStatus('resume', op);
  requireWithinResumeWindow(op); // O2: 7 days after its failure, only cancellation is left
  const applying = firstEffectLanded(op);
  const user = await assertPremises(op); // O1: 422 with the rule that no longer holds
  const holder = (await getLocks([op.userId]))[0];
  if (holder && holder.operationId !== op.id)
    throw new Conflict(`another operation on user ${op.userId} is running or waiting (${holder.operationId})`);
  const left = (await leftUndone(op)) ?? {};
  // a transfer not yet moved is on its way in again: its seat is reserved at the destination (T4)
  if (op.operation === 'transfer' && user.organizationId === op.sourceOrganizationId) await markIncoming(op);
  // X2: who resumed and what was left, recorded before the run can write its own entries
  await audit(op.id, { event: 'resumed', by: caller.id, run: op.runCount + 1, planId: op.planId, keptPlan: applying, left });
  try {
    return operationView(await startRun(op, 'resume', {}, [{ lock: 'take', since: now() }], applying));
  } catch (error) {
    await audit(op.id, { event: 'resume-refused', by: caller.id, message: (error as Error).message });
    throw error;
  }
}
