import { getRun } from '../../store/runs.js';
import { runView } from '../../services/bulk-run.js';
import { callerUser, requireAdminOf } from '../../services/access.js';
import { NotFound } from '../../shared/errors.js';
import { callerId, json, pathId, route } from './http.js';

/** The scope that lets the platform team read every run (the organization's own administrators are deleted by it). */
export const OPERATOR_SCOPE = 'offboard/operator';

function hasOperatorScope(event: Parameters<Parameters<typeof route>[0]>[0]): boolean {
  const claims = event.requestContext?.authorizer?.jwt?.claims ?? {};
  const scopes = String(claims.scope ?? claims.scp ?? '').split(/\s+/);
  return scopes.includes(OPERATOR_SCOPE);
}

/** GET /billing-runs/{id}: a bulk run's progress (members done, failed, remaining) and outcome (B1). */
export const handler = route(async (event) => {
  const run = await getRun(pathId(event));
  if (!hasOperatorScope(event)) {
    const caller = await callerUser(callerId(event));
    if (!run) throw new NotFound(`billing run ${pathId(event)} does not exist`);
    requireAdminOf(caller, run.organizationId, 'only an administrator of the organization, or an operator, may read its billing runs');
  }
  if (!run) throw new NotFound(`billing run ${pathId(event)} does not exist`);
  return json(200, runView(run));
});
