import { checkEligibility } from '../../services/lifecycle.js';
import { OperationInput, step } from './step.js';

/** CheckEligibility: T1, T2, T5 or D1 against the current data; throws Ineligible. */
export const handler = step('CheckEligibility', OperationInput, async ({ operationId }) => {
  await checkEligibility(operationId);
  return { operationId };
});
