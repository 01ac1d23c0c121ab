import { applyPhase } from '../../services/phases.js';
import { PagedInput, step } from './step.js';

/** LeaveChats: T8, D4, D5, G1, G2: chats left, administrators granted, direct chats frozen. Returns a cursor while effects remain. */
export const handler = step('LeaveChats', PagedInput, async ({ operationId, cursor }) => {
  const next = await applyPhase(operationId, 'LeaveChats', ['chat-left', 'admin-granted', 'chat-frozen'], cursor);
  return next ? { operationId, cursor: next } : { operationId };
});
