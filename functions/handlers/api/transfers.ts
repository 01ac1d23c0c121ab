import { requireEnvAtColdStart } from '../../shared/config.js';
import { readOperationEffects } from '../../services/access.js';
import { approveTransfer, cancelTransfer, getTransfer, requestTransfer } from '../../services/transfers.js';
import { resumeOperation } from '../../services/resume.js';
import { NotFound } from '../../shared/errors.js';
import { callerId, cursorParam, json, OPERATION_ROUTES_ENV, parseBody, pathId, requestOptions, route, TransferBody } from './http.js';

// at cold start, every variable this function is given and reads (test/infra/cold-start.test.ts)
requireEnvAtColdStart(...OPERATION_ROUTES_ENV);

/** The /transfers routes of CONTRACT.md (T3, T4, X1). */
export const handler = route(async (event) => {
  const caller = callerId(event);
  switch (event.routeKey) {
    case 'POST /transfers': {
      const body = parseBody(event, TransferBody);
      return json(201, await requestTransfer(caller, body.userId, body.destinationOrganizationId, body.previewId, requestOptions(body)));
    }
    case 'POST /transfers/{id}/approval':
      return json(202, await approveTransfer(caller, pathId(event)));
    case 'POST /transfers/{id}/cancellation':
      return json(200, await cancelTransfer(caller, pathId(event)));
    case 'POST /transfers/{id}/resumption':
      return json(202, await resumeOperation(caller, pathId(event), 'transfer'));
    case 'GET /transfers/{id}':
      return json(200, await getTransfer(caller, pathId(event)));
    case 'GET /transfers/{id}/effects':
      return json(200, await readOperationEffects(caller, pathId(event), 'transfer', cursorParam(event)));
    default:
      throw new NotFound(`no route ${event.routeKey}`);
  }
});
