import { requireEnvAtColdStart } from '../../shared/config.js';
import * as z from 'zod/mini';
import { planInBackground } from '../../services/background-planning.js';
import { NonEmpty, step } from './step.js';

// at cold start, every variable this function is given and reads (test/infra/cold-start.test.ts)
requireEnvAtColdStart('TABLE_NAME', 'DELETION_STATE_MACHINE_ARN', 'TRANSFER_STATE_MACHINE_ARN', 'OPERATION_EVENT_BUS_NAME');

/** The planning state machine's input: what to plan. */
export const PlanningInput = z.union([z.object({ previewId: NonEmpty }), z.object({ operationId: NonEmpty })]);

/**
 * Plan (CONTRACT.md `planning`): X1, a plan too large for its API request, computed from the current data and
 * stored; then the preview is ready, or the operation moves on (awaiting approval; a deletion started or scheduled).
 * A user too large for one invocation is sliced instead: `slices` names the slices the Map plans, then Merge
 * (services/sliced-planning.ts).
 */
export const handler = step('Plan', PlanningInput, async (input) => {
  const sliced = await planInBackground(input);
  const what = 'previewId' in input ? { previewId: input.previewId } : { operationId: input.operationId };
  return sliced ? { ...what, planId: sliced.planId, slices: Array.from({ length: sliced.slices }, (_, n) => n) } : what;
});
