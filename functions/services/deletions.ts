import { requestOperation } from './requests.js';
import { audit, releaseLock, runCounterKeys, type OperationError, type OperationRecord } from '../store/operations.js';
import { create, move, requireActor, requireStatus } from './transitions.js';
import { leftUndone } from './resume.js';
import { PAGES_IN_TRANSACTION, planRecord } from '../store/plans.js';
import { assertDeletionEligible, callerUser, readableOperation, requestParties, requireAdminOf } from './access.js';
import { createRunning, startRun } from './executions.js';
import { computeDeletionPlan, PlanTooLarge, requestBudget } from './planning.js';
import { deferPreview } from './background-planning.js';
import { firstPageView, operationView, operationViewWithProgress, savePreview, storePlan } from './views.js';
import { graceNote, scheduleDeletion } from './grace.js';
import { purgeDate } from '../domain/grace-period.js';
import { nowMs } from '../shared/clock.js';
import { factKeys, readAhead, readFacts } from '../store/table.js';
import { requireSuccessor } from './successor.js';

/** X1: what deleting this user would do, saved as a preview (kept 24 h); changes nothing in the world. */
export async function previewDeletion(callerId: string, userId: string, successorId?: string) {
  const { caller, user } = await requestParties(callerId, userId); // one BatchGetItem
  requireAdminOf(caller, user.organizationId, "only an administrator of the user's organization may preview its deletion (D1)");
  await assertDeletionEligible(user);
  const successor = await requireSuccessor(user, successorId); // X3
  const header = {
    operation: 'deletion' as const,
    userId,
    requestedBy: caller.id,
    organizationId: user.organizationId!,
    ...(successor ? { successorId: successor.id } : {}),
  };
  let plan: Awaited<ReturnType<typeof computeDeletionPlan>>;
  try {
    plan = await computeDeletionPlan(user, successor, requestBudget());
  } catch (error) {
    if (error instanceof PlanTooLarge) return deferPreview(header); // CONTRACT.md: 202 `planning`
    throw error;
  }
  const { entries, organizations, readAt, organization } = plan;
  const preview = await savePreview({ ...header, organizations, readAt }, entries);
  // D7 beyond (an extension of the Impact): requested now, when it would purge; nothing is removed before
  const graceDays = user.status === 'active' ? (organization?.deletionGraceDays ?? 0) : 0;
  return graceDays > 0 ? { ...preview, ...graceNote(graceDays, purgeDate(graceDays, nowMs())) } : preview;
}

/**
 * D1: an administrator of the user's organization deletes the user. The plan is computed once, here, stored, and
 * the run that starts at once applies it (X1); with `previewId` it must equal that saved preview (409 otherwise).
 */
export async function requestDeletion(
  callerId: string,
  userId: string,
  previewId?: string,
  options: { successorId?: string; export?: boolean } = {},
) {
  const { caller, user, preview: named } = await requestParties(callerId, userId, undefined, previewId); // one BatchGetItem
  requireAdminOf(caller, user.organizationId, "only an administrator of the user's organization may delete the user (D1)");
  await assertDeletionEligible(user);
  const successor = await requireSuccessor(user, options.successorId); // X3
  // naming a saved preview: the run counters of the organizations it read (planning.ts previewQuiet) with the user's
  // organization, for its grace period (D7) if the preview's plan is taken, in one read
  const orgsRead = named?.head?.header.organizations;
  const ahead = orgsRead
    ? await readAhead([...runCounterKeys(orgsRead), ...factKeys({ organizations: user.organizationId ? [user.organizationId] : [] })])
    : undefined;
  // a deletion needs no approval; it is created not-yet-running and started at once
  const { op, requested, planned } = await requestOperation({
    prefix: 'del',
    rule: 'D1',
    fields: { operation: 'deletion', userId, organizationId: user.organizationId!, requestedBy: caller.id },
    successor,
    export: options.export,
    preview: {
      id: previewId,
      what: { operation: 'deletion', userId, by: caller.id },
      ...(named ? { read: named } : {}),
      ...(ahead ? { ahead } : {}),
    },
    compute: (budget) => computeDeletionPlan(user, successor, budget),
    // a saved preview's plan still current: the organization's grace period (D7) as it is now
    reuse: async (plan) => ({
      ...plan,
      organization: (await readFacts({ organizations: [user.organizationId!] }, ahead)).organizations.get(user.organizationId!),
    }),
  });
  // CONTRACT.md `planning`: planned in the background, then started or scheduled (D7) there
  if ('deferred' in planned) return planned.deferred;
  const {
    plan: { entries, organizations, readAt, organization },
    preview,
  } = planned;
  // D7 beyond: under a grace period the user is suspended and the purge waits (a user loaded suspended is purged now)
  const graceDays = organization?.deletionGraceDays ?? 0;
  if (graceDays > 0 && user.status === 'active') return scheduleDeletion(op, user, graceDays, { organizations, readAt, entries });
  const planHeader = { id: op.planId!, operation: 'deletion' as const, userId, organizations, readAt };
  const { plan, items } = planRecord(planHeader, entries);
  if (plan.pages.length <= PAGES_IN_TRANSACTION) {
    // the operation, its lock, its plan, its audit entry and its start in one transaction (409 while another holds the user)
    const running = await createRunning(op, 'start', [{ plan: items }, { audit: [requested(preview)] }], entries);
    return operationView(running, firstPageView(plan, entries));
  }
  await create(op, 'request-deletion', { entries }); // one operation per user at a time: 409 otherwise
  const { view } = await storePlan(planHeader, entries);
  await audit(op.id, requested(preview));
  return operationView(await startRun(op, 'start', {}, [], true), view);
}

/** O2: `POST /deletions/{id}/cancellation`: a failed deletion is cancelled by an administrator of its organization. */
export async function cancelDeletion(callerId: string, id: string) {
  const caller = await callerUser(callerId);
  const op = await readableOperation(callerId, id, 'deletion');
  requireActor('cancel-failed', op, caller);
  requireStatus('cancel-failed', op);
  return operationView(await cancelFailed(op, caller.id));
}

/** O2: a failed deletion cancelled, its lock released (if it still held one), recorded with what it had left (X2). */
async function cancelFailed(op: OperationRecord, by: string, error?: OperationError, cause: Record<string, unknown> = {}) {
  const cancelled = await move(op, 'cancel-failed', { set: error ? { error } : { cancelledBy: by } });
  await releaseLock(op.userId, op.id);
  // X2: what the failed run had left undone stays undone (unless `cause` names who applies it); the trail says what
  const left = await leftUndone(op);
  await audit(op.id, { event: 'cancelled', by, ...(error ?? { rule: 'O2' }), ...cause, ...(left ? { left } : {}) });
  return cancelled;
}

/** B1: a member's failed deletion, cancelled by the billing run that deletes the member whole (`cause` names it). */
export const cancelFailedDeletionBySystem = (op: OperationRecord, error: OperationError, cause: Record<string, unknown>) =>
  cancelFailed(op, 'system', error, cause);

export async function getDeletion(callerId: string, id: string) {
  return operationViewWithProgress(await readableOperation(callerId, id, 'deletion'));
}
