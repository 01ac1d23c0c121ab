import { requireEnvAtColdStart } from '../../shared/config.js';
import {
  authenticate,
  createToken,
  deleteUser,
  discovery,
  listTokens,
  listUsers,
  patchUser,
  readUser,
  recordCall,
  revokeToken,
  scimErrorAnswer,
  ScimError,
  type ScimAnswer,
} from '../../services/scim.js';
import type { ScimToken } from '../../store/scim-tokens.js';
import { NotFound } from '../../shared/errors.js';
import { logger } from '../../shared/logger.js';
import { bodyText, callerId, json, MAX_BODY_BYTES, pathId, route, type HttpEvent, type HttpResult } from './http.js';

// at cold start, every variable this function is given and reads (test/infra/cold-start.test.ts)
requireEnvAtColdStart('TABLE_NAME', 'DELETION_STATE_MACHINE_ARN', 'PLANNING_STATE_MACHINE_ARN', 'OPERATION_EVENT_BUS_NAME');

/**
 * `/scim/v2/…` (RFC 7644; the gateway lets them through unauthorized, the SCIM token is checked here: it is no JWT)
 * and `/organizations/{id}/scim-tokens` (an administrator's JWT, as every other route).
 */
const SCIM_CONTENT = { 'content-type': 'application/scim+json' };
const scim = (a: ScimAnswer): HttpResult => ({
  statusCode: a.status,
  headers: SCIM_CONTENT,
  body: a.body === undefined ? '' : JSON.stringify(a.body),
});

function scimBody(event: HttpEvent): unknown {
  const text = bodyText(event);
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) throw new ScimError(413, `the body is larger than ${MAX_BODY_BYTES} bytes`);
  try {
    return JSON.parse(text);
  } catch {
    throw new ScimError(400, 'the body is not valid JSON', 'invalidSyntax');
  }
}

const param = (event: HttpEvent, name: string) => {
  const value = event.pathParameters?.[name];
  if (!value) throw new ScimError(400, `the path names no ${name}`, 'invalidPath');
  return value;
};

async function serveScim(event: HttpEvent): Promise<HttpResult> {
  let token: ScimToken | undefined;
  const call: { method: string; path: string; userId?: string; operationId?: string } = {
    method: event.requestContext.http.method,
    path: event.rawPath,
  };
  let answer: ScimAnswer;
  try {
    token = await authenticate(event.headers?.authorization);
    answer = await answerScim(event, token, call);
  } catch (error) {
    token ??= error instanceof ScimError ? error.token : undefined;
    answer = scimErrorAnswer(error);
  }
  try {
    await recordCall(token, {
      ...call,
      status: answer.status,
      ...(answer.status >= 400 ? { error: String((answer.body as any)?.detail ?? '') } : {}),
    });
  } catch (error) {
    logger.error('SCIM call not audited', error as Error);
    if (answer.status < 400) answer = scimErrorAnswer(error); // X2: nothing answered that is not in the trail
  }
  return scim(answer);
}

async function answerScim(event: HttpEvent, token: ScimToken, call: { userId?: string; operationId?: string }): Promise<ScimAnswer> {
  const q = event.queryStringParameters ?? {};
  switch (event.routeKey) {
    case 'GET /scim/v2/ServiceProviderConfig':
      return { status: 200, body: await discovery('ServiceProviderConfig') };
    case 'GET /scim/v2/ResourceTypes':
      return { status: 200, body: await discovery('ResourceTypes') };
    case 'GET /scim/v2/ResourceTypes/{id}':
      return { status: 200, body: await discovery('ResourceTypes', param(event, 'id')) };
    case 'GET /scim/v2/Schemas':
      return { status: 200, body: await discovery('Schemas') };
    case 'GET /scim/v2/Schemas/{id}':
      return { status: 200, body: await discovery('Schemas', param(event, 'id')) };
    case 'GET /scim/v2/Users':
      return { status: 200, body: await listUsers(token, { filter: q.filter, startIndex: q.startIndex, count: q.count }) };
    case 'GET /scim/v2/Users/{id}':
      call.userId = param(event, 'id');
      return { status: 200, body: await readUser(token, call.userId) };
    case 'PATCH /scim/v2/Users/{id}': {
      call.userId = param(event, 'id');
      const patched = await patchUser(token, call.userId, scimBody(event));
      if (patched.operationId) call.operationId = patched.operationId;
      return { status: 200, body: patched.user };
    }
    case 'DELETE /scim/v2/Users/{id}': {
      call.userId = param(event, 'id');
      const deleted = await deleteUser(token, call.userId);
      if (deleted.operationId) call.operationId = deleted.operationId;
      return { status: 204 };
    }
    default:
      throw new ScimError(404, `no SCIM route ${event.routeKey}`);
  }
}

const tokens = route(async (event) => {
  const caller = callerId(event);
  switch (event.routeKey) {
    case 'POST /organizations/{id}/scim-tokens':
      return json(201, await createToken(caller, pathId(event)));
    case 'GET /organizations/{id}/scim-tokens':
      return json(200, await listTokens(caller, pathId(event)));
    case 'DELETE /organizations/{id}/scim-tokens/{tokenId}': {
      const id = pathId(event);
      const tokenId = event.pathParameters?.tokenId ?? '';
      if (!/^scim-[0-9a-f-]{36}$/.test(tokenId)) throw new NotFound(`organization ${id} has no SCIM token ${tokenId}`);
      return json(200, await revokeToken(caller, id, tokenId));
    }
    default:
      throw new NotFound(`no route ${event.routeKey}`);
  }
});

export const handler = async (event: HttpEvent): Promise<HttpResult> => {
  if (event.routeKey?.includes(' /scim/v2/')) {
    logger.resetKeys();
    logger.appendKeys({ route: event.routeKey });
    return serveScim(event);
  }
  return tokens(event);
};
