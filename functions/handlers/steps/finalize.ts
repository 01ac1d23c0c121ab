import { requireEnvAtColdStart } from '../../shared/config.js';
import { finalize } from '../../services/lifecycle.js';
import * as z from 'zod/mini';
import { NonEmpty, OperationInput, step } from './step.js';

// at cold start, every variable this function is given and reads (test/infra/cold-start.test.ts)
requireEnvAtColdStart('TABLE_NAME', 'BUCKET_NAME', 'TRANSFER_STATE_MACHINE_ARN', 'OPERATION_EVENT_BUS_NAME');

/** Finalize: the operation succeeded; its lock is released. */
const FinalizeInput = z.extend(OperationInput, { planId: z.optional(NonEmpty) });

export const handler = step('Finalize', FinalizeInput, async ({ operationId, planId }) => {
  await finalize(operationId, { ...(planId ? { planId } : {}) });
  return { operationId, status: 'succeeded' };
});
