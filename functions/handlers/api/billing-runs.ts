import { getRun } from '../../store/runs.js';
import { resumeRun, runView } from '../../services/bulk-run.js';
import { callerUser, requireAdminOf } from '../../services/access.js';
import { NotFound } from '../../shared/errors.js';
import { callerId, hasOperatorScope, json, pathId, route, type HttpEvent } from './http.js';

/**
 * GET /billing-runs/{id}: a bulk run's progress (members done, failed, remaining) and outcome (B1).
 * POST /billing-runs/{id}/resumption: a failed run resumed for its failed and unfinished members.
 */
export const handler = route(async (event) => {
  const run = await readableRun(event, pathId(event));
  if (event.routeKey === 'POST /billing-runs/{id}/resumption') return json(202, await resumeRun(run, hasOperatorScope(event) ? `operator:${callerId(event)}` : callerId(event)));
  return json(200, runView(run));
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
