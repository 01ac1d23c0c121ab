import { applyPhase } from '../../services/phases.js';
import { OperationInput, step } from './step.js';

/**
 * ApplyMembership: T6, T9 and T4 in one transaction: the user's organization, both organizations' seat counts,
 * the inherited exemptions and the API token. Throws NoFreeSeat when the destination is full.
 */
export const handler = step('ApplyMembership', OperationInput, async ({ operationId }) => {
  await applyPhase(operationId, 'ApplyMembership');
  return { operationId };
});
