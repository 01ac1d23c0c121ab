import { requireEnvAtColdStart } from '../../shared/config.js';
import { exportView } from '../../services/exports.js';
import { NotFound } from '../../shared/errors.js';
import { callerId, json, pathId, route } from './http.js';

// at cold start, every variable this function is given and reads (test/infra/cold-start.test.ts)
requireEnvAtColdStart('TABLE_NAME', 'EXPORT_BUCKET_NAME');

/** X4: `GET /transfers/{id}/export`, `GET /deletions/{id}/export`: the export's state and, while ready, its download link. */
export const handler = route(async (event) => {
  const caller = callerId(event);
  switch (event.routeKey) {
    case 'GET /transfers/{id}/export':
      return json(200, await exportView(caller, pathId(event), 'transfer'));
    case 'GET /deletions/{id}/export':
      return json(200, await exportView(caller, pathId(event), 'deletion'));
    default:
      throw new NotFound(`no route ${event.routeKey}`);
  }
});
