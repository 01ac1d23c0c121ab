import { applyPhase } from '../../services/phases.js';
import { PagedInput, step } from './step.js';

/** DeleteUser: D2: the user is deleted, the API token revoked, the seat released. Returns a cursor while effects remain. */
export const handler = step('DeleteUser', PagedInput, async ({ operationId, cursor }) => {
  const next = await applyPhase(operationId, 'DeleteUser', ['user-deleted', 'api-token-revoked'], cursor);
  return next ? { operationId, cursor: next } : { operationId };
});
