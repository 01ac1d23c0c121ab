import { requireEnvAtColdStart } from '../../shared/config.js';
import * as z from 'zod/mini';
import { planningFailed } from '../../services/background-planning.js';
import { PlanningInput } from './plan.js';
import { NonEmpty, step, StepError } from './step.js';

// at cold start, every variable this function is given and reads (test/infra/cold-start.test.ts)
requireEnvAtColdStart('TABLE_NAME', 'DELETION_STATE_MACHINE_ARN', 'TRANSFER_STATE_MACHINE_ARN', 'OPERATION_EVENT_BUS_NAME');

const Input = z.union([z.object({ previewId: NonEmpty, error: StepError }), z.object({ operationId: NonEmpty, error: StepError })]);

/** PlanFailed (the planning workflow's Catch): the operation fails with the error (O1), or the preview keeps the refusal. */
export const handler = step('PlanFailed', Input, async (input) => {
  const { error, ...what } = input;
  await planningFailed(PlanningInput.parse(what), error);
  return what;
});
