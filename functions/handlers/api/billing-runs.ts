import { getRun } from '../../store/runs.js';
import { resumeRun, runView } from '../../services/bulk-run.js';
import { callerUser, requireAdminOf } from '../../services/access.js';
import { billingRuns } from '../../services/organizations.js';
import { NotFound } from '../../shared/errors.js';
import { callerId, hasOperatorScope, json, nextCursor, pageParams, pathId, route, textParam, type HttpEvent } from './http.js';

/**
 * GET /billing-runs/{id}: a bulk run's progress (members done, failed, remaining) and outcome (B1).
 * GET /billing-runs?organizationId=&cursor=&limit=: the runs, newest first (the console's operator view).
 * POST /billing-runs/{id}/resumption: a failed run resumed for its failed and unfinished members.
 */
export const handler = route(async (event) => {
  switch (event.routeKey) {
    case 'GET /billing-runs/{id}':
      return json(200, runView(await readableRun(event, pathId(event))));
    case 'GET /billing-runs': {
      const { runs, next } = await billingRuns({ id: callerId(event), operator: hasOperatorScope(event) }, textParam(event, 'organizationId'), pageParams(event));
      return json(200, { runs, ...nextCursor(next) });
    }
    case 'POST /billing-runs/{id}/resumption': {
      const run = await readableRun(event, pathId(event));
      return json(202, await resumeRun(run, hasOperatorScope(event) ? `operator:${callerId(event)}` : callerId(event)));
    }
    default:
      throw new NotFound(`no route ${event.routeKey}`);
  }
});

/** A run the caller may read: an operator (scope `offboard/operator`), or an administrator of its organization. */
export async function readableRun(event: HttpEvent, id: string) {
  const run = await getRun(id);
  if (!hasOperatorScope(event)) {
    const caller = await callerUser(callerId(event));
    if (!run) throw new NotFound(`billing run ${id} does not exist`);
    requireAdminOf(caller, run.organizationId, 'only an administrator of the organization, or an operator, may read its billing runs');
  }
  if (!run) throw new NotFound(`billing run ${id} does not exist`);
  return run;
}
