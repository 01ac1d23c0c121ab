import { getRun } from '../../store/runs.js';
import { runView } from '../../services/bulk-run.js';
import { callerUser, requireAdminOf } from '../../services/access.js';
import { NotFound } from '../../shared/errors.js';
import { callerId, hasOperatorScope, json, pathId, route, type HttpEvent } from './http.js';

/** GET /billing-runs/{id}: a bulk run's progress (members done, failed, remaining) and outcome (B1). */
export const handler = route(async (event) => json(200, runView(await readableRun(event, pathId(event)))));

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
