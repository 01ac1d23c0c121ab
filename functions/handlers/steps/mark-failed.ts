import * as z from 'zod/mini';
import { markFailed } from '../../services/lifecycle.js';
import { OperationInput, step, StepError } from './step.js';

const Input = z.extend(OperationInput, { error: StepError });

/** MarkFailed (every Catch): the operation ends failed with its error; its lock is released. */
export const handler = step('MarkFailed', Input, async ({ operationId, error }) => {
  await markFailed(operationId, error);
  return { operationId, status: 'failed' };
});
