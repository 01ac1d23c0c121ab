import { audit, createOperation, newOperationId, now, writeImpact, type OperationRecord } from '../store/operations.js';
import { assertDeletionEligible, callerUser, mustGetUser, readableOperation, requireAdminOf } from './access.js';
import { startRun } from './executions.js';
import { computeDeletionImpact } from './planning.js';
import { operationView } from './views.js';

/** X1: what deleting this user would do, changing nothing. */
export async function previewDeletion(callerId: string, userId: string) {
  const caller = await callerUser(callerId);
  const user = await mustGetUser(userId);
  requireAdminOf(caller, user.organizationId, 'only an administrator of the user\'s organization may preview its deletion (D1)');
  await assertDeletionEligible(user);
  return (await computeDeletionImpact(user)).impact;
}

/**
 * D1: an administrator of the user's organization deletes the user. The run starts at once; `requestedBy` is the
 * administrator, or `system` for a bulk run (B1) with its `runId`.
 */
export async function requestDeletion(callerId: string, userId: string) {
  const caller = await callerUser(callerId);
  const user = await mustGetUser(userId);
  requireAdminOf(caller, user.organizationId, 'only an administrator of the user\'s organization may delete the user (D1)');
  await assertDeletionEligible(user);
  const { op, impact } = await createDeletion(userId, user.organizationId!, caller.id);
  const running = await startRun(op, ['awaiting-approval']);
  return operationView(running, impact);
}

/** Creates the operation (lock taken) with its planned impact, not yet running. */
export async function createDeletion(userId: string, organizationId: string, requestedBy: string, runId?: string) {
  const user = await mustGetUser(userId);
  const { impact, locators } = await computeDeletionImpact(user);
  const at = now();
  const op: OperationRecord = {
    id: newOperationId('del'),
    operation: 'deletion',
    userId,
    organizationId,
    // a deletion needs no approval; it is created not-yet-running and started at once
    status: 'awaiting-approval',
    requestedBy,
    createdAt: at,
    updatedAt: at,
    runCount: 0,
    ...(runId ? { runId } : {}),
  };
  await createOperation(op);
  await writeImpact(op.id, impact, locators);
  await audit(op.id, { event: 'requested', by: requestedBy, rule: 'D1' });
  return { op, impact };
}

export async function getDeletion(callerId: string, id: string) {
  return operationView(await readableOperation(callerId, id, 'deletion'));
}
