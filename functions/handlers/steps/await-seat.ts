import { awaitSeat } from '../../services/lifecycle.js';
import { OperationInput, step } from './step.js';

/** AwaitSeat (Catch of NoFreeSeat): T4, the transfer waits for a seat. */
export const handler = step('AwaitSeat', OperationInput, async ({ operationId }) => {
  await awaitSeat(operationId);
  return { operationId, status: 'awaiting-seat' };
});
