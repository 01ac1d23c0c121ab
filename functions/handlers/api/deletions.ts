import { requireEnvAtColdStart } from '../../shared/config.js';
import { readOperationEffects } from '../../services/access.js';
import { cancelDeletion, getDeletion, requestDeletion } from '../../services/deletions.js';
import { undoDeletion } from '../../services/grace.js';
import { resumeOperation } from '../../services/resume.js';
import { NotFound } from '../../shared/errors.js';
import { callerId, cursorParam, DeletionBody, json, OPERATION_ROUTES_ENV, parseBody, pathId, requestOptions, route } from './http.js';

// at cold start, every variable this function is given and reads (test/infra/cold-start.test.ts)
requireEnvAtColdStart(...OPERATION_ROUTES_ENV);

/** The /deletions routes of CONTRACT.md (D1, X1; the undo of D7's grace period; O2's cancellation and resumption). */
export const handler = route(async (event) => {
  const caller = callerId(event);
  switch (event.routeKey) {
    case 'POST /deletions': {
      const body = parseBody(event, DeletionBody);
      return json(202, await requestDeletion(caller, body.userId, body.previewId, requestOptions(body)));
    }
    case 'POST /deletions/{id}/cancellation':
      return json(200, await cancelDeletion(caller, pathId(event)));
    case 'POST /deletions/{id}/resumption':
      return json(202, await resumeOperation(caller, pathId(event), 'deletion'));
    case 'GET /deletions/{id}':
      return json(200, await getDeletion(caller, pathId(event)));
    case 'POST /deletions/{id}/undo':
      return json(200, await undoDeletion(caller, pathId(event)));
    case 'GET /deletions/{id}/effects':
      return json(200, await readOperationEffects(caller, pathId(event), 'deletion', cursorParam(event)));
    default:
      throw new NotFound(`no route ${event.routeKey}`);
  }
});
