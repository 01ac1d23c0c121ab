import { requireEnvAtColdStart } from '../../shared/config.js';
import { cancelRun, confirmRun, resumeRun, runView, type RunCaller } from '../../services/bulk-run.js';
import { callerUser, readableRun } from '../../services/access.js';
import { billingRuns } from '../../services/organizations.js';
import { NotFound } from '../../shared/errors.js';
import { callerId, hasOperatorScope, json, nextCursor, pageParams, pathId, route, textParam, type HttpEvent } from './http.js';

// at cold start, every variable this function is given and reads (test/infra/cold-start.test.ts)
requireEnvAtColdStart('TABLE_NAME', 'CANCELLATION_STATE_MACHINE_ARN', 'OPERATION_EVENT_BUS_NAME');

/**
 * GET /billing-runs/{id}: a bulk run's progress (members done, failed, skipped, remaining) and outcome (B1, O3).
 * GET /billing-runs?organizationId=&cursor=&limit=: the runs, newest first (the console's operator view).
 * POST /billing-runs/{id}/confirmation, /cancellation, /resumption: an operator's transitions (B4, O2), made through
 * the run's lifecycle (functions/domain/lifecycle/bulk-run.ts).
 */
export const handler = route(async (event) => {
  switch (event.routeKey) {
    case 'GET /billing-runs/{id}':
      return json(200, runView(await readableRun(callerId(event), hasOperatorScope(event), pathId(event))));
    case 'GET /billing-runs': {
      const { runs, next } = await billingRuns(
        { id: callerId(event), operator: hasOperatorScope(event) },
        textParam(event, 'organizationId'),
        pageParams(event),
      );
      return json(200, { runs, ...nextCursor(next) });
    }
    case 'POST /billing-runs/{id}/confirmation':
      return json(
        202,
        await confirmRun(await readableRun(callerId(event), hasOperatorScope(event), pathId(event)), await runCaller(event)),
      );
    case 'POST /billing-runs/{id}/cancellation':
      return json(200, await cancelRun(await readableRun(callerId(event), hasOperatorScope(event), pathId(event)), await runCaller(event)));
    case 'POST /billing-runs/{id}/resumption':
      return json(202, await resumeRun(await readableRun(callerId(event), hasOperatorScope(event), pathId(event)), await runCaller(event)));
    default:
      throw new NotFound(`no route ${event.routeKey}`);
  }
});

/** CONTRACT.md: the caller is an active user (401 otherwise, operators included); an operator when its token has the scope. */
async function runCaller(event: HttpEvent): Promise<RunCaller> {
  const user = await callerUser(callerId(event));
  return { id: user.id, operator: hasOperatorScope(event) };
}
