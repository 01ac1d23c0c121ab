import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { Conflict, NotFound } from '../shared/errors.js';
import { ddb } from '../store/clients.js';
import { keys } from '../store/keys.js';
import {
  audit,
  createOperation,
  getOperation,
  newOperationId,
  now,
  releaseLock,
  transition,
  writeImpact,
  type OperationError,
  type OperationRecord,
} from '../store/operations.js';
import { queryAll } from '../store/batch.js';
import { getOrganization, tableName } from '../store/table.js';
import { assertTransferEligible, callerUser, mustGetOrganization, mustGetUser, readableOperation, requireAdminOf } from './access.js';
import { startRun } from './executions.js';
import { computeTransferImpact } from './planning.js';
import { operationView } from './views.js';

async function loadTransfer(id: string): Promise<OperationRecord> {
  const op = await getOperation(id);
  if (!op || op.operation !== 'transfer') throw new NotFound(`transfer ${id} does not exist`);
  return op;
}

/** X1: what a transfer would do, changing nothing. */
export async function previewTransfer(callerId: string, userId: string, destinationOrganizationId: string) {
  const caller = await callerUser(callerId);
  const user = await mustGetUser(userId);
  const destination = await mustGetOrganization(destinationOrganizationId);
  requireAdminOf(caller, user.organizationId, 'only an administrator of the user\'s organization may preview its transfer');
  await assertTransferEligible(user, destination);
  return (await computeTransferImpact(user, destination)).impact;
}

/** T3: an administrator of the source organization requests the transfer. Nothing changes before approval. */
export async function requestTransfer(callerId: string, userId: string, destinationOrganizationId: string) {
  const caller = await callerUser(callerId);
  const user = await mustGetUser(userId);
  const destination = await mustGetOrganization(destinationOrganizationId);
  requireAdminOf(caller, user.organizationId, 'only an administrator of the source organization may request a transfer (T3)');
  const source = await assertTransferEligible(user, destination); // T1, T2, T5
  const { impact, locators } = await computeTransferImpact(user, destination);
  const at = now();
  const op: OperationRecord = {
    id: newOperationId('tr'),
    operation: 'transfer',
    userId,
    sourceOrganizationId: source.id,
    destinationOrganizationId: destination.id,
    status: 'awaiting-approval',
    requestedBy: caller.id,
    approvedBy: null,
    createdAt: at,
    updatedAt: at,
    runCount: 0,
  };
  await createOperation(op); // one operation per user at a time: 409 otherwise
  await ddb.send(new PutCommand({ TableName: tableName(), Item: { ...keys.incoming(destination.id, op.createdAt, op.id), type: 'incoming', operationId: op.id } }));
  await writeImpact(op.id, impact, locators);
  await audit(op.id, { event: 'requested', by: caller.id, rule: 'T3' });
  return operationView(op, impact);
}

/** T3, T4: an administrator of the destination approves; the transfer runs now, or waits for a seat. */
export async function approveTransfer(callerId: string, id: string) {
  const caller = await callerUser(callerId);
  const op = await loadTransfer(id);
  requireAdminOf(caller, op.destinationOrganizationId, 'only an administrator of the destination organization may approve (T3)');
  if (op.status !== 'awaiting-approval') throw new Conflict(`transfer ${id} is ${op.status}, not awaiting-approval`);
  const user = await mustGetUser(op.userId);
  const destination = await mustGetOrganization(op.destinationOrganizationId!);
  if (user.organizationId !== op.sourceOrganizationId) {
    throw new Conflict(`user ${user.id} is no longer a member of ${op.sourceOrganizationId}`);
  }
  await assertTransferEligible(user, destination);
  // X1: the data may have changed since the request; the impact is computed again and shows what will run.
  const { impact, locators } = await computeTransferImpact(user, destination);
  await writeImpact(op.id, impact, locators);
  await audit(op.id, { event: 'approved', by: caller.id, rule: 'T3' });
  // T4, B2: oldest first: a seat goes to a transfer already waiting before this one
  const waiting = destination.seats === undefined ? 0 : (await waitingTransfers(destination.id, 'destination')).length;
  const hasSeat = destination.seats === undefined || destination.members + waiting < destination.seats;
  if (hasSeat) {
    const running = await startRun(op, ['awaiting-approval'], { approvedBy: caller.id });
    return operationView(running, impact);
  }
  return operationView(await waitForSeat(op, ['awaiting-approval'], { approvedBy: caller.id }), impact);
}

/** T4: the transfer waits, oldest first, for a seat at the destination. */
export async function waitForSeat(op: OperationRecord, from: OperationRecord['status'][], set: Partial<OperationRecord> = {}) {
  const [atDestination, atSource] = waitingMarkers(op);
  const item = { type: 'waiting', operationId: op.id, userId: op.userId };
  return transition(op.id, from, 'awaiting-seat', set, [], [
    { Put: { TableName: tableName(), Item: { ...atDestination, ...item } } },
    { Put: { TableName: tableName(), Item: { ...atSource, ...item } } }, // B3 finds it from the source side too
  ]);
}

/** A waiting transfer is marked at both organizations: oldest first at the destination (B2), and at the source (B3). */
function waitingMarkers(op: Pick<OperationRecord, 'id' | 'createdAt' | 'sourceOrganizationId' | 'destinationOrganizationId'>) {
  return [keys.waiting(op.destinationOrganizationId!, op.createdAt, op.id), keys.waitingOut(op.sourceOrganizationId!, op.createdAt, op.id)] as const;
}

const deleteMarkers = (op: OperationRecord) => waitingMarkers(op).map((Key) => ({ Delete: { TableName: tableName(), Key } }));

/** A transfer that ended (succeeded, failed, cancelled) is no longer waiting or incoming anywhere. */
export async function clearTransferMarkers(op: OperationRecord): Promise<void> {
  if (op.operation !== 'transfer') return;
  const markers = [...waitingMarkers(op), keys.incoming(op.destinationOrganizationId!, op.createdAt, op.id)];
  await Promise.all(markers.map((Key) => ddb.send(new DeleteCommand({ TableName: tableName(), Key }))));
}

/** The transfers marked at an organization under a prefix, oldest first, that are still in one of `statuses`. */
async function markedTransfers(organizationId: string, prefix: string, statuses: readonly OperationRecord['status'][]): Promise<OperationRecord[]> {
  const markers = await queryAll({
    TableName: tableName(),
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :p)',
    ExpressionAttributeValues: { ':pk': keys.org(organizationId).PK, ':p': prefix },
    ConsistentRead: true,
  });
  const ops = await Promise.all(markers.map((m) => getOperation(m.operationId)));
  return ops.filter((op): op is OperationRecord => op !== undefined && statuses.includes(op.status));
}

/** Transfers not yet run into this organization: awaiting approval or a seat (B1 cancels them). */
export const incomingTransfers = (organizationId: string) => markedTransfers(organizationId, 'INCOMING#', ['awaiting-approval', 'awaiting-seat']);

/** Transfers waiting for a seat that involve this organization, as destination or as source. */
export const waitingTransfers = (organizationId: string, side: 'destination' | 'source') =>
  markedTransfers(organizationId, side === 'destination' ? 'WAITING#' : 'WAITOUT#', ['awaiting-seat']);

/** T3: either side cancels before the transfer runs. */
export async function cancelTransfer(callerId: string, id: string) {
  const op = await readableOperation(callerId, id, 'transfer'); // an administrator of either organization (T3)
  return operationView(await cancel(op, callerId));
}

/** Cancels a transfer that has not run: markers cleared, lock released, recorded (X2). */
async function cancel(op: OperationRecord, by: string, error?: OperationError) {
  const cancelled = await transition(op.id, ['awaiting-approval', 'awaiting-seat'], 'cancelled', error ? { error } : {});
  await clearTransferMarkers(op);
  await releaseLock(op.userId, op.id);
  await audit(op.id, { event: 'cancelled', by, ...(error ?? { rule: 'T3' }) });
  return cancelled;
}

/** B1, B3 and other system cancellations: cancelled with the reason, lock released. */
export const cancelBySystem = (op: OperationRecord, error: OperationError) => cancel(op, 'system', error);

export async function getTransfer(callerId: string, id: string) {
  return operationView(await readableOperation(callerId, id, 'transfer'));
}

/** B2: transfers waiting for a seat at this organization resume, oldest first, while seats last. */
export async function resumeWaitingTransfers(organizationId: string): Promise<string[]> {
  const org = await getOrganization(organizationId);
  if (!org) return [];
  let free = org.seats === undefined ? Number.POSITIVE_INFINITY : org.seats - org.members;
  const resumed: string[] = [];
  for (const op of await waitingTransfers(organizationId, 'destination')) {
    if (free <= 0) break;
    try {
      await startRun(op, ['awaiting-seat'], {}, deleteMarkers(op));
      resumed.push(op.id);
      free--;
    } catch (error) {
      if (!(error instanceof Conflict)) throw error; // resumed by a concurrent event: skip it
    }
  }
  return resumed;
}
