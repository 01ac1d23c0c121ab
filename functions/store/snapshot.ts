import { listAllKeys, scanParallel } from './batch.js';
import type { Item } from './records.js';
import { bucketName, tableName } from './table.js';

/**
 * The attributes a whole-world check reads: keys, links between items and the flags the rules decide on. Message
 * bodies and plan pages' compressed effects are left in the table, so the scan moves a fraction of the bytes.
 */
const CHECKED_ATTRIBUTES = [
  'PK',
  'SK',
  'type',
  'id',
  'userId',
  'otherId',
  'organizationId',
  'chatId',
  'role',
  'chatType',
  'frozen',
  'status',
  'orgAdmin',
  'allowOutsideCommunication',
  'restrictOutsideCommunication',
  'seats',
  'members',
  'admins',
  'operationId',
  'uploaderId',
  'ownerOrganizationId',
  'assigneeId',
  'requesterId',
  'senderId',
  'apiToken',
  'expiresAt',
  'header',
  'planId',
  'cancellationRun',
] as const;

export interface Snapshot {
  items: Item[];
  /** Every key in the files bucket. */
  objectKeys: string[];
}

export interface SnapshotSource {
  /** Defaults: the TABLE_NAME and BUCKET_NAME the functions run with. */
  tableName?: string;
  bucketName?: string;
  /** Parallel Scan segments (8 by default). */
  segments?: number;
}

/** Every item of the table (checked attributes only, consistent reads) and every object key, read side by side. */
export async function readSnapshot(source: SnapshotSource = {}): Promise<Snapshot> {
  const names = Object.fromEntries(CHECKED_ATTRIBUTES.map((a, i) => [`#a${i}`, a]));
  const bucket = source.bucketName ?? bucketName();
  const [items, objectKeys] = await Promise.all([
    scanParallel(
      {
        TableName: source.tableName ?? tableName(),
        ConsistentRead: true,
        ProjectionExpression: Object.keys(names).join(', '),
        ExpressionAttributeNames: names,
      },
      source.segments ?? 8,
    ),
    listAllKeys(bucket),
  ]);
  return { items, objectKeys };
}
