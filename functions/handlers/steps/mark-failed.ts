import { requireEnvAtColdStart } from '../../shared/config.js';
import * as z from 'zod/mini';
import { markFailed } from '../../services/lifecycle.js';
import { OperationInput, step, StepError } from './step.js';

// at cold start, every variable this function is given and reads (test/infra/cold-start.test.ts)
requireEnvAtColdStart('TABLE_NAME', 'BUCKET_NAME', 'TRANSFER_STATE_MACHINE_ARN', 'OPERATION_EVENT_BUS_NAME');

const Input = z.extend(OperationInput, { error: StepError });

/** MarkFailed (every Catch): the operation ends failed with its error; its lock is released. */
export const handler = step('MarkFailed', Input, async ({ operationId, error }) => {
  await markFailed(operationId, error);
  return { operationId, status: 'failed' };
});
