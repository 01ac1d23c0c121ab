import { requireEnvAtColdStart } from '../../shared/config.js';
import { awaitSeat } from '../../services/lifecycle.js';
import { OperationInput, step } from './step.js';

// at cold start, every variable this function is given and reads (test/infra/cold-start.test.ts)
requireEnvAtColdStart('TABLE_NAME', 'BUCKET_NAME', 'OPERATION_EVENT_BUS_NAME');

/** AwaitSeat (Catch of NoFreeSeat): T4, the transfer waits for a seat. */
export const handler = step('AwaitSeat', OperationInput, async ({ operationId }) => {
  await awaitSeat(operationId);
  return { operationId, status: 'awaiting-seat' };
});
