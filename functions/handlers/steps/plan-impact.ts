import { planRun } from '../../services/lifecycle.js';
import { OperationInput, step } from './step.js';

/** PlanImpact: X1, the plan this run applies, from the current data. */
export const handler = step('PlanImpact', OperationInput, async ({ operationId }) => {
  await planRun(operationId);
  return { operationId };
});
