import { previewDeletion } from '../../services/deletions.js';
import { previewTransfer } from '../../services/transfers.js';
import { callerId, json, parseBody, PreviewBody, route } from './http.js';

/** POST /previews (X1): the Impact of a transfer or a deletion; changes nothing. */
export const handler = route(async (event) => {
  const caller = callerId(event);
  const body = parseBody(event, PreviewBody);
  const impact =
    body.operation === 'transfer'
      ? await previewTransfer(caller, body.userId, body.destinationOrganizationId)
      : await previewDeletion(caller, body.userId);
  return json(200, impact);
});
