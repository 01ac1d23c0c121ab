import { requireEnvAtColdStart } from '../../shared/config.js';
import * as z from 'zod/mini';
import { planRun } from '../../services/lifecycle.js';
import { OperationInput, step } from './step.js';

// at cold start, every variable this function is given and reads (test/infra/cold-start.test.ts)
requireEnvAtColdStart('TABLE_NAME', 'BUCKET_NAME');

const Input = z.extend(OperationInput, { export: z.optional(z.boolean()) });

/** PlanImpact: X1, the plan this run applies, from the current data. X4: an export requested goes on in the state. */
export const handler = step('PlanImpact', Input, async ({ operationId, export: exporting }) => {
  await planRun(operationId);
  return { operationId, ...(exporting ? { export: true } : {}) };
});
