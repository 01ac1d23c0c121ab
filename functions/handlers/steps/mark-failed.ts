import { z } from 'zod';
import { markFailed } from '../../services/lifecycle.js';
import { OperationInput, step } from './step.js';

const Input = OperationInput.extend({ error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }) });

/** MarkFailed (every Catch): the operation ends failed with its error; its lock is released. */
export const handler = step('MarkFailed', Input, async ({ operationId, error }) => {
  await markFailed(operationId, error);
  return { operationId, status: 'failed' };
});
