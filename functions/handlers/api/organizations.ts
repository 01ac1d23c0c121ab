import { requireEnvAtColdStart } from '../../shared/config.js';
import { me, members, operations, organizations, type Caller } from '../../services/organizations.js';
import { NotFound } from '../../shared/errors.js';
import { callerId, choiceParam, hasOperatorScope, json, nextCursor, pageParams, pathId, route, textParam, type HttpEvent } from './http.js';

// at cold start, every variable this function is given and reads (test/infra/cold-start.test.ts)
requireEnvAtColdStart('TABLE_NAME');

const STATUSES = ['awaiting-approval', 'awaiting-seat', 'running', 'succeeded', 'failed', 'cancelled', 'scheduled'] as const;
const statusParam = (event: HttpEvent) => choiceParam(event, 'status', STATUSES, { many: true });

/**
 * The admin console's reads (README, HTTP API): who the caller is, the organizations, an organization's members and
 * its transfers and deletions. Lists are paged: `limit` (1–200, default 50), `cursor` from
 * the previous answer's `nextCursor`.
 */
export const handler = route(async (event) => {
  const caller: Caller = { id: callerId(event), operator: hasOperatorScope(event) };
  switch (event.routeKey) {
    case 'GET /me':
      return json(200, await me(caller));
    case 'GET /organizations': {
      const { organizations: list, next } = await organizations(caller, pageParams(event));
      return json(200, { organizations: list, ...nextCursor(next) });
    }
    case 'GET /organizations/{id}/members': {
      const { members: list, next } = await members(caller, pathId(event), textParam(event, 'q'), pageParams(event));
      return json(200, { members: list, ...nextCursor(next) });
    }
    case 'GET /organizations/{id}/transfers': {
      const [direction] = choiceParam(event, 'direction', ['incoming', 'outgoing'] as const, { required: true })!;
      const { operations: list, next, names } = await operations(caller, pathId(event), direction!, statusParam(event), pageParams(event));
      return json(200, { transfers: list, ...nextCursor(next), names });
    }
    case 'GET /organizations/{id}/deletions': {
      const { operations: list, next, names } = await operations(caller, pathId(event), 'deletion', statusParam(event), pageParams(event));
      return json(200, { deletions: list, ...nextCursor(next), names });
    }
    default:
      throw new NotFound(`no route ${event.routeKey}`);
  }
});
