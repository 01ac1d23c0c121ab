import { requireEnvAtColdStart } from '../../shared/config.js';
import { readSettings, updateSettings } from '../../services/grace.js';
import { NotFound } from '../../shared/errors.js';
import { callerId, json, parseBody, pathId, route, SettingsBody } from './http.js';

// at cold start, every variable this function is given and reads (test/infra/cold-start.test.ts)
requireEnvAtColdStart('TABLE_NAME');

/** `/organizations/{id}/settings` (D7 beyond: the organization's deletion grace period), for its administrators. */
export const handler = route(async (event) => {
  const caller = callerId(event);
  switch (event.routeKey) {
    case 'GET /organizations/{id}/settings':
      return json(200, await readSettings(caller, pathId(event)));
    case 'PUT /organizations/{id}/settings': {
      const id = pathId(event);
      const body = parseBody(event, SettingsBody);
      return json(200, await updateSettings(caller, id, body.deletionGraceDays));
    }
    default:
      throw new NotFound(`no route ${event.routeKey}`);
  }
});
