import { readableOperation } from '../../services/access.js';
import { readAudit } from '../../store/operations.js';
import { callerId, json, pathId, route } from './http.js';

/**
 * GET /operations/{id}/audit (X2): who asked, who approved, what changed (effects applied per step, by kind and
 * rule), what had to be settled, when. Readable by whoever may read the operation.
 */
export const handler = route(async (event) => {
  const op = await readableOperation(callerId(event), pathId(event));
  const entries = (await readAudit(op.id)).sort((a, b) => String(a.at).localeCompare(String(b.at)));
  return json(200, { operationId: op.id, operation: op.operation, userId: op.userId, entries });
});
