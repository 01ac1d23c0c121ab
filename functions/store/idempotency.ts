import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { dynamodb } from './clients.js';
import { tableName } from './table.js';

/** How long a billing event's outcome is remembered: long past EventBridge's 24-hour retry window. */
export const BILLING_EVENT_MEMORY_SECONDS = 30 * 24 * 3600;

/**
 * Where Powertools keeps the idempotency records of the billing targets (B2, B3): on the table, under one partition
 * (`IDEMPOTENCY#billing`, sort key `<target>#<hash of the event id>`), expiring by the table's TTL attribute. Billing
 * events are few, so one partition is no hot spot. Uses the store's own client (its retries, and in tests the hook's middleware: clients.ts).
 */
export function billingIdempotencyStore(): DynamoDBPersistenceLayer {
  return new DynamoDBPersistenceLayer({
    tableName: tableName(),
    keyAttr: 'PK',
    sortKeyAttr: 'SK',
    staticPkValue: 'IDEMPOTENCY#billing',
    expiryAttr: 'expiresAt',
    awsSdkV3Client: dynamodb,
  });
}
