import { batchWrite, del, inParallel, put, queryAll } from './batch.js';
import { keys } from './keys.js';
import { getOperation, type OperationRecord } from './operations.js';
import { tableName } from './table.js';

/**
 * Where transfers not yet run are found from their organizations: incoming at the destination and outgoing at the
 * source (awaiting approval or a seat: B1, B3), waiting for a seat at the destination (oldest first, B2) and at the source.
 */
type Marked = Pick<OperationRecord, 'id' | 'createdAt' | 'sourceOrganizationId' | 'destinationOrganizationId' | 'userId' | 'waitingSince'>;

const incomingItems = (op: Marked) => [
  { ...keys.incoming(op.destinationOrganizationId!, op.createdAt, op.id), type: 'incoming', operationId: op.id },
  { ...keys.outgoing(op.sourceOrganizationId!, op.createdAt, op.id), type: 'outgoing', operationId: op.id },
];

export async function markIncoming(op: Marked): Promise<void> {
  await batchWrite(tableName(), incomingItems(op).map(put));
}

/** The same marks, for the transaction that creates the transfer (B1, B3 find it from its first write on). */
export const incomingMarkerPuts = (op: Marked) => incomingItems(op).map((Item) => ({ Put: { TableName: tableName(), Item } }));

/** B2 reading: waiting markers sort by when the transfer began to wait for a seat (its approval found none). */
const waitingKeys = (op: Marked) => {
  const since = op.waitingSince ?? op.createdAt;
  return [keys.waiting(op.destinationOrganizationId!, since, op.id), keys.waitingOut(op.sourceOrganizationId!, since, op.id)] as const;
};

/** The writes that mark a transfer waiting for a seat at both organizations, for a transaction. */
export const putWaitingMarkers = (op: Marked) =>
  waitingKeys(op).map((key) => ({
    Put: { TableName: tableName(), Item: { ...key, type: 'waiting', operationId: op.id, userId: op.userId } },
  }));

/** The writes that clear those marks, for a transaction. */
export const deleteWaitingMarkers = (op: Marked) => waitingKeys(op).map((Key) => ({ Delete: { TableName: tableName(), Key } }));

const markerKeys = (op: Marked) => [
  ...waitingKeys(op),
  keys.incoming(op.destinationOrganizationId!, op.createdAt, op.id),
  keys.outgoing(op.sourceOrganizationId!, op.createdAt, op.id),
];

/** A transfer that ended (succeeded, failed, cancelled) is no longer waiting or incoming anywhere. */
export async function clearMarkers(op: Marked): Promise<void> {
  await batchWrite(tableName(), markerKeys(op).map(del));
}

/** The same, for a transaction. */
export const markerDeletes = (op: Marked) => markerKeys(op).map((Key) => ({ Delete: { TableName: tableName(), Key } }));

export type MarkerKind = 'incoming' | 'outgoing' | 'waiting' | 'waiting-out';
const PREFIX: Record<MarkerKind, string> = { incoming: 'INCOMING#', outgoing: 'OUTGOING#', waiting: 'WAITING#', 'waiting-out': 'WAITOUT#' };

/** The transfers marked at an organization, oldest first, that are still in one of `statuses`. */
export async function markedTransfers(
  organizationId: string,
  kind: MarkerKind,
  statuses: readonly OperationRecord['status'][],
  except?: string,
): Promise<OperationRecord[]> {
  const markers = await queryAll({
    TableName: tableName(),
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :p)',
    ExpressionAttributeValues: { ':pk': keys.org(organizationId).PK, ':p': PREFIX[kind] },
    ConsistentRead: true,
  });
  // `except`: the caller's own transfer, whose status it knows (not one of `statuses`)
  const ops = await inParallel(
    markers.filter((m) => m.operationId !== except),
    8,
    (m) => getOperation(m.operationId),
  );
  return ops.filter((op): op is OperationRecord => op !== undefined && statuses.includes(op.status));
}
