import { requireEnvAtColdStart } from '../../shared/config.js';
import { readPreview, readPreviewEffects } from '../../services/access.js';
import { previewDeletion } from '../../services/deletions.js';
import { previewTransfer } from '../../services/transfers.js';
import { NotFound } from '../../shared/errors.js';
import { callerId, cursorParam, json, parseBody, pathId, PreviewBody, route } from './http.js';

// at cold start, every variable this function is given and reads (test/infra/cold-start.test.ts)
requireEnvAtColdStart('TABLE_NAME', 'PLANNING_STATE_MACHINE_ARN');

/** The /previews routes (X1): a saved preview of a transfer or a deletion; nothing in the world changes. */
export const handler = route(async (event) => {
  const caller = callerId(event);
  switch (event.routeKey) {
    case 'POST /previews': {
      const body = parseBody(event, PreviewBody);
      const impact =
        body.operation === 'transfer'
          ? await previewTransfer(caller, body.userId, body.destinationOrganizationId, body.successorId)
          : await previewDeletion(caller, body.userId, body.successorId);
      return json('status' in impact && impact.status === 'planning' ? 202 : 200, impact);
    }
    case 'GET /previews/{id}': {
      const preview = await readPreview(caller, pathId(event));
      return json('status' in preview && preview.status === 'planning' ? 202 : 200, preview);
    }
    case 'GET /previews/{id}/effects':
      return json(200, await readPreviewEffects(caller, pathId(event), cursorParam(event)));
    default:
      throw new NotFound(`no route ${event.routeKey}`);
  }
});
