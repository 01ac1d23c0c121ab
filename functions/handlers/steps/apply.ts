import { requireEnvAtColdStart } from '../../shared/config.js';
import * as z from 'zod/mini';
import { applyRun, PHASES, type Phase } from '../../services/phases.js';
import { finalizeApplied } from '../../services/lifecycle.js';
import { Cursor, NonEmpty, OperationInput, step } from './step.js';

// at cold start, every variable this function is given and reads (test/infra/cold-start.test.ts)
requireEnvAtColdStart('TABLE_NAME', 'BUCKET_NAME', 'TRANSFER_STATE_MACHINE_ARN', 'OPERATION_EVENT_BUS_NAME');

const PhaseName = z.enum(Object.keys(PHASES) as [Phase, ...Phase[]]);
const ApplyInput = z.extend(OperationInput, {
  cursor: z.optional(z.extend(Cursor, { phase: PhaseName })),
  /** The plan stored for the run (services/executions.ts runInput), a hint: read with the operation. */
  planId: z.optional(NonEmpty),
  /** O1's premises (services/transitions.ts premisesOf), a hint: read with the operation by the run's first Apply. */
  premises: z.optional(
    z.object({
      users: z.optional(z.array(NonEmpty)),
      organizations: z.optional(z.array(NonEmpty)),
      allowances: z.optional(z.array(z.tuple([NonEmpty, NonEmpty]))),
    }),
  ),
});

/**
 * Apply: the run's planned effects, phase by phase in order (T4, T6, T9 membership or D2 the user's deletion first;
 * then F1, F2, F4 files; T7, D4 contacts; T8, D4, D5, G1, G2 chats left; D3–D6, F2 chats and tasks deleted), as many
 * as fit in one invocation. Returns a cursor while effects remain (a Choice calls again with it). Throws NoFreeSeat
 * when a transfer's destination is full (T4).
 */
export const handler = step('Apply', ApplyInput, async ({ operationId, cursor, planId, premises }) => {
  // a run applied whole in this invocation is finalized here too (issue 18): `finalized`, no Finalize step follows
  const { next, finished } = await applyRun(operationId, cursor, planId, premises, finalizeApplied);
  if (finished) return { operationId, status: 'succeeded', finalized: true };
  const hint = planId ? { planId } : {}; // carried to the next Apply and to Finalize
  return next ? { operationId, ...hint, cursor: next } : { operationId, ...hint };
});
