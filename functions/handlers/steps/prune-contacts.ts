import { applyPhase } from '../../services/phases.js';
import { PagedInput, step } from './step.js';

/** PruneContacts: T7, D4: contacts broken on both sides. Returns a cursor while effects remain. */
export const handler = step('PruneContacts', PagedInput, async ({ operationId, cursor }) => {
  const next = await applyPhase(operationId, 'PruneContacts', ['contact-removed'], cursor);
  return next ? { operationId, cursor: next } : { operationId };
});
