import { requireEnvAtColdStart } from '../../shared/config.js';
import * as z from 'zod/mini';
import { mergeInBackground } from '../../services/background-planning.js';
import { PlanningInput } from './plan.js';
import { step } from './step.js';

// at cold start, every variable this function is given and reads (test/infra/cold-start.test.ts)
requireEnvAtColdStart('TABLE_NAME', 'DELETION_STATE_MACHINE_ARN', 'TRANSFER_STATE_MACHINE_ARN', 'OPERATION_EVENT_BUS_NAME');

const Input = z.intersection(PlanningInput, z.object({ slices: z.array(z.int().check(z.minimum(0))).check(z.minLength(1)) }));

/**
 * Merge (after the planning workflow's Map): the rest of the plan computed and every slice's entries merged into the
 * plan; then the preview is ready, or the operation moves on, as after Plan.
 */
export const handler = step('Merge', Input, async (input) => {
  const what = 'previewId' in input ? { previewId: input.previewId } : { operationId: input.operationId };
  await mergeInBackground(what, input.slices.length);
  return what;
});
