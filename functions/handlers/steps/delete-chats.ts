import { applyPhase } from '../../services/phases.js';
import { PagedInput, step } from './step.js';

/** DeleteChats: D3, D4, D5, G2, T7, F2, D6: chats deleted with their contents, tasks deleted. Returns a cursor while effects remain. */
export const handler = step('DeleteChats', PagedInput, async ({ operationId, cursor }) => {
  const next = await applyPhase(operationId, 'DeleteChats', ['chat-deleted', 'task-deleted'], cursor);
  return next ? { operationId, cursor: next } : { operationId };
});
