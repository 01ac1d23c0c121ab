import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ddb } from './clients.js';
import { getItem, tableName } from './table.js';

/**
 * One number that changes whenever the world does: every applied step, settlement and bulk batch adds one after
 * its writes, and a world load sets a new one. A plan records the number it read *before* its reads; a later
 * decision point that reads the same number knows no write landed since, and keeps that plan instead of reading
 * everything again (X1: "if the data changed, computed again"). Bumping after writing keeps this safe: a write the
 * plan may have missed always moves the number past the one the plan recorded.
 */
const KEY = { PK: 'WORLD', SK: 'VERSION' } as const;

export async function worldVersion(): Promise<number> {
  return Number((await getItem(KEY))?.v ?? 0);
}

export async function worldChanged(): Promise<void> {
  await ddb.send(new UpdateCommand({ TableName: tableName(), Key: KEY, UpdateExpression: 'ADD v :one', ExpressionAttributeValues: { ':one': 1 } }));
}

/** Written by a world load: a number no earlier plan can have recorded. */
export const worldVersionItem = () => ({ ...KEY, type: 'world-version', v: Date.now() * 1000 });
