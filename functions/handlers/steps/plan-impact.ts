import * as z from 'zod/mini';
import { planRun } from '../../services/lifecycle.js';
import { OperationInput, step } from './step.js';

const Input = z.extend(OperationInput, { export: z.optional(z.boolean()) });

/** PlanImpact: X1, the plan this run applies, from the current data. X4: an export requested goes on in the state. */
export const handler = step('PlanImpact', Input, async ({ operationId, export: exporting }) => {
  await planRun(operationId);
  return { operationId, ...(exporting ? { export: true } : {}) };
});
