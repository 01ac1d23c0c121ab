import { finalize } from '../../services/lifecycle.js';
import { OperationInput, step } from './step.js';

/** Finalize: the operation succeeded; its lock is released. */
export const handler = step('Finalize', OperationInput, async ({ operationId }) => {
  await finalize(operationId);
  return { operationId, status: 'succeeded' };
});
