import { applyPhase } from '../../services/phases.js';
import { PagedInput, step } from './step.js';

/** HandleFiles: F1, F2, F4: files deleted (bytes first) or handed over to the organization. Returns a cursor while effects remain. */
export const handler = step('HandleFiles', PagedInput, async ({ operationId, cursor }) => {
  const next = await applyPhase(operationId, 'HandleFiles', ['file-deleted', 'file-handed-over'], cursor);
  return next ? { operationId, cursor: next } : { operationId };
});
