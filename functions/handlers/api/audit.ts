import { requireEnvAtColdStart } from '../../shared/config.js';
import { readableOperation, readablePreview, readableRun } from '../../services/access.js';
import { readNames } from '../../store/directory.js';
import { readAuditOf } from '../../store/operations.js';
import { callerId, hasOperatorScope, json, pathId, route } from './http.js';

// at cold start, every variable this function is given and reads (test/infra/cold-start.test.ts)
requireEnvAtColdStart('TABLE_NAME');

const byTime = (entries: Record<string, unknown>[]) => entries.sort((a, b) => String(a.at).localeCompare(String(b.at)));

/**
 * GET /operations/{id}/audit (X2): who asked, who approved, what changed (effects applied per step, by kind and
 * rule), what had to be settled, when. Readable by whoever may read the operation. The same route reads a saved
 * preview's trail (`pv-…`: requests refused because the data changed, X1) and a bulk run's (`b1-…`: each batch's
 * members and the files and chats it deleted, by id, F3), with the access of the preview or the run.
 */
export const handler = route(async (event) => {
  const id = pathId(event);
  if (id.startsWith('pv-')) {
    const preview = await readablePreview(callerId(event), id);
    return json(200, {
      operationId: id,
      operation: preview.operation,
      userId: preview.userId,
      entries: byTime(await readAuditOf({ previewId: id })),
    });
  }
  if (id.startsWith('b1-')) {
    const run = await readableRun(callerId(event), hasOperatorScope(event), id);
    return json(200, {
      operationId: id,
      operation: 'contract-cancellation',
      organizationId: run.organizationId,
      entries: byTime(await readAuditOf({ runId: id })),
    });
  }
  const op = await readableOperation(callerId(event), id);
  const entries = byTime(await readAuditOf({ operationId: op.id }));
  // who acted, named as people see them (the console shows "by Ayumi Admin", not the id)
  const people = new Set(entries.flatMap((e) => (typeof e.by === 'string' && e.by !== 'system' ? [e.by] : [])));
  const names = await readNames({ users: people, chats: new Set(), organizations: new Set(), files: new Map(), tasks: new Map() });
  return json(200, { operationId: op.id, operation: op.operation, userId: op.userId, entries, names: { users: names.users } });
});
