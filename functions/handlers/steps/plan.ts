import * as z from 'zod/mini';
import { planInBackground } from '../../services/background-planning.js';
import { NonEmpty, step, StepError } from './step.js';

/** The planning state machine's input: what to plan, and (from its Catch) why planning failed. */
const Input = z.union([
  z.object({ previewId: NonEmpty, error: z.optional(StepError) }),
  z.object({ operationId: NonEmpty, error: z.optional(StepError) }),
]);

/**
 * Plan (CONTRACT.md `planning`): X1, a plan too large for its API request, computed from the current data and
 * stored; then the preview is ready, or the operation moves on (awaiting approval; a deletion started or scheduled).
 * With `error` (the Catch): the operation fails (O1), or the preview keeps the refusal.
 */
export const handler = step('Plan', Input, async (input) => {
  await planInBackground(input);
  return 'previewId' in input ? { previewId: input.previewId } : { operationId: input.operationId };
});
