import { finalize } from '../../services/lifecycle.js';
import * as z from 'zod/mini';
import { NonEmpty, OperationInput, step } from './step.js';

/** Finalize: the operation succeeded; its lock is released. */
const FinalizeInput = z.extend(OperationInput, { planId: z.optional(NonEmpty) });

export const handler = step('Finalize', FinalizeInput, async ({ operationId, planId }) => {
  await finalize(operationId, { ...(planId ? { planId } : {}) });
  return { operationId, status: 'succeeded' };
});
