import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import * as z from 'zod/mini';
import { Conflict, Forbidden, ImpactChanged, Ineligible, InvalidRequest, NotFound, Unauthenticated } from '../../shared/errors.js';
import { logger } from '../../shared/logger.js';
import { MAX_GRACE_DAYS } from '../../domain/grace-period.js';

export type HttpEvent = APIGatewayProxyEventV2WithJWTAuthorizer;
export type HttpResult = APIGatewayProxyStructuredResultV2;

export const json = (statusCode: number, body: unknown): HttpResult => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

function errorBody(code: string, message: string, extra: Record<string, unknown> = {}) {
  return { error: { code, message, ...extra } };
}

/** CONTRACT.md's error answers, from the named errors. */
export function errorResult(error: unknown): HttpResult {
  if (error instanceof InvalidRequest) return json(400, errorBody('invalid-request', error.message, { path: error.path }));
  if (error instanceof Unauthenticated) return json(401, errorBody('unauthenticated', error.message));
  if (error instanceof Forbidden) return json(403, errorBody('forbidden', error.message));
  if (error instanceof NotFound) return json(404, errorBody('not-found', error.message));
  if (error instanceof Conflict) return json(409, errorBody('conflict', error.message));
  if (error instanceof ImpactChanged) return json(409, errorBody(error.code, error.message, { rule: error.rule }));
  if (error instanceof Ineligible) {
    return json(422, errorBody('ineligible', error.message, { rule: error.rule, reasons: error.reasons }));
  }
  logger.error('unexpected error', error as Error);
  return json(500, errorBody('internal', 'internal error'));
}

/** The caller: the JWT authorizer's verified claim naming the user (USER_ID_CLAIM, default `sub`). */
export function callerId(event: HttpEvent): string {
  const claim = process.env.USER_ID_CLAIM || 'sub';
  const id = event.requestContext?.authorizer?.jwt?.claims?.[claim];
  if (typeof id !== 'string' || id === '') throw new Unauthenticated(`the token carries no ${claim} claim`);
  return id;
}

/** The scope that lets the platform team read every run (the organization's own administrators are deleted by it). */
export const OPERATOR_SCOPE = 'offboard/operator';

export function hasOperatorScope(event: HttpEvent): boolean {
  const claims = event.requestContext?.authorizer?.jwt?.claims ?? {};
  const scopes = String(claims.scope ?? claims.scp ?? '').split(/\s+/);
  return scopes.includes(OPERATOR_SCOPE);
}

/** The largest body a route reads: every body of the API is a few ids of at most 256 characters. */
export const MAX_BODY_BYTES = 64 * 1024;
/** Deeper nesting than any body of the API needs is refused before a schema walks it. */
const MAX_JSON_DEPTH = 32;

/**
 * What JSON.parse accepts but a request must not carry: a key given twice in one object (JSON.parse keeps the last
 * silently, so two readers could disagree on what was asked), or nesting past MAX_JSON_DEPTH. `text` is valid JSON.
 */
function jsonShapeProblem(text: string): { message: string; path: string } | undefined {
  const objects: (Set<string> | null)[] = []; // per open bracket: the keys seen in that object, null for an array
  const path: string[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const keys = objects[objects.length - 1];
      if (keys && expectKey) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (keys.has(key)) {
          const where = [...path.slice(0, objects.length - 1).filter((p) => p !== undefined), key].join('.'); // the keys of the objects around it
          return { message: `${where}: appears twice in one object`, path: where };
        }
        keys.add(key);
        path[objects.length - 1] = key;
        expectKey = false;
      }
      i = end;
    } else if (c === '{' || c === '[') {
      objects.push(c === '{' ? new Set() : null);
      expectKey = c === '{';
      if (objects.length > MAX_JSON_DEPTH) return { message: `the body is nested deeper than ${MAX_JSON_DEPTH} levels`, path: '' };
    } else if (c === '}' || c === ']') {
      objects.pop();
      path.length = objects.length;
    } else if (c === ',') expectKey = objects[objects.length - 1] instanceof Set;
  }
  return undefined;
}

/** `application/json` or a `+json` type, parameters aside. An absent content type is read as JSON (curl -d aside, clients send one). */
function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return true;
  const type = value.split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

/** The request's body as text ('' when it has none), decoded from base64 when the gateway encoded it. */
export const bodyText = (event: HttpEvent): string =>
  event.body === undefined || event.body === null
    ? ''
    : event.isBase64Encoded
      ? Buffer.from(event.body, 'base64').toString('utf8')
      : event.body;

/**
 * Parses a JSON body with a schema; the first problem is answered 400 naming its field: a body declared as another
 * media type, larger than MAX_BODY_BYTES, not JSON, with a duplicate key or nested too deep, or not the schema's.
 */
export function parseBody<S extends z.ZodMiniType>(event: HttpEvent, schema: S): z.infer<S> {
  const contentType = event.headers?.['content-type'];
  if (!isJsonContentType(contentType))
    throw new InvalidRequest(`content-type ${JSON.stringify(contentType)}: the body must be application/json`, '');
  const text = bodyText(event);
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) throw new InvalidRequest(`the body is larger than ${MAX_BODY_BYTES} bytes`, '');
  let raw: unknown;
  try {
    raw = text.trim() === '' ? undefined : JSON.parse(text);
  } catch {
    throw new InvalidRequest('the body is not valid JSON', '');
  }
  if (raw === undefined) throw new InvalidRequest('a JSON body is required', '');
  const shape = jsonShapeProblem(text);
  if (shape) throw new InvalidRequest(shape.message, shape.path);
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
  const path = [...issue.path, ...keys.slice(0, 1)].join('.');
  return (() => {
    throw new InvalidRequest(`${path || 'body'}: ${issue.message}`, path);
  })();
}

/** Ids are 1 to 256 characters (CONTRACT.md), in paths as in bodies: a longer one never reaches the store. */
export const MAX_ID_LENGTH = 256;
/** An id's length in characters (code points, as the contract and the World JSON schema count): 256 emoji are 256, not 512. */
export const characters = (s: string): number => [...s].length;

export function pathId(event: HttpEvent): string {
  const id = event.pathParameters?.id;
  if (!id) throw new InvalidRequest('the path names no id', 'id');
  if (characters(id) > MAX_ID_LENGTH) throw new InvalidRequest(`id: must be at most ${MAX_ID_LENGTH} characters`, 'id');
  return id;
}

/** `?cursor=` of the /effects routes. */
export function cursorParam(event: HttpEvent): string | undefined {
  const cursor = event.queryStringParameters?.cursor;
  if (cursor !== undefined && cursor.length > MAX_ID_LENGTH) throw new InvalidRequest('cursor: names no page of this impact', 'cursor');
  return cursor;
}

/** Lists (the console's): `limit` 1 to 200, 50 when absent. */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;
/** A list's position (an id, or `createdAt#id`) is at most this long; its cursor is that position, base64url. */
const MAX_POSITION_LENGTH = MAX_ID_LENGTH + 64;

/** `?limit=&cursor=` of a list: the page size and the position the page starts after (from a `nextCursor`). */
export function pageParams(event: HttpEvent): { limit: number; after?: string } {
  const query = event.queryStringParameters ?? {};
  const limit = query.limit === undefined ? DEFAULT_PAGE_SIZE : /^\d{1,3}$/.test(query.limit) ? Number(query.limit) : Number.NaN;
  if (!(limit >= 1 && limit <= MAX_PAGE_SIZE))
    throw new InvalidRequest(`limit: must be a whole number from 1 to ${MAX_PAGE_SIZE}`, 'limit');
  if (query.cursor === undefined) return { limit };
  const after = /^[A-Za-z0-9_-]{1,2048}$/.test(query.cursor) ? Buffer.from(query.cursor, 'base64url').toString('utf8') : '';
  if (after === '' || characters(after) > MAX_POSITION_LENGTH || nextCursor(after).nextCursor !== query.cursor) {
    throw new InvalidRequest('cursor: is not a nextCursor of this list', 'cursor');
  }
  return { limit, after };
}

/** A list's `nextCursor`, when another page follows. */
export const nextCursor = (next: string | undefined) =>
  next === undefined ? {} : { nextCursor: Buffer.from(next, 'utf8').toString('base64url') };

/** An optional text parameter (`?q=`, `?organizationId=`): at most 256 characters, empty counts as absent. */
export function textParam(event: HttpEvent, name: string): string | undefined {
  const value = event.queryStringParameters?.[name];
  if (value !== undefined && characters(value) > MAX_ID_LENGTH)
    throw new InvalidRequest(`${name}: must be at most ${MAX_ID_LENGTH} characters`, name);
  return value === '' ? undefined : value;
}

/** A parameter that takes one of `values` (several, comma-separated, when `many`); absent is undefined unless `required`. */
export function choiceParam<T extends string>(
  event: HttpEvent,
  name: string,
  values: readonly T[],
  options: { required?: boolean; many?: boolean } = {},
): T[] | undefined {
  const value = event.queryStringParameters?.[name];
  const what = `${name}: must be ${options.many ? 'one or more (comma-separated) of' : 'one of'} ${values.join(', ')}`;
  if (value === undefined || value === '') {
    if (options.required) throw new InvalidRequest(what, name);
    return undefined;
  }
  const chosen = value.split(',');
  if ((!options.many && chosen.length > 1) || chosen.some((v) => !values.includes(v as T))) throw new InvalidRequest(what, name);
  return chosen as T[];
}

const Id = z.string({ error: 'must be a non-empty string' }).check(
  z.minLength(1, { error: 'must be a non-empty string' }),
  z.refine((s) => characters(s) <= MAX_ID_LENGTH, { error: `must be at most ${MAX_ID_LENGTH} characters` }),
);
/** X4: `export` is a boolean. */
const Export = z.boolean({ error: 'must be true or false' });
export const TransferBody = z.strictObject({
  userId: Id,
  destinationOrganizationId: Id,
  previewId: z.optional(Id),
  successorId: z.optional(Id),
  export: z.optional(Export),
});
export const DeletionBody = z.strictObject({
  userId: Id,
  previewId: z.optional(Id),
  successorId: z.optional(Id),
  export: z.optional(Export),
});
/** What the stack gives the /transfers and /deletions functions: each starts, resumes and plans operations of both kinds. */
export const OPERATION_ROUTES_ENV = [
  'TABLE_NAME',
  'TRANSFER_STATE_MACHINE_ARN',
  'DELETION_STATE_MACHINE_ARN',
  'PLANNING_STATE_MACHINE_ARN',
  'OPERATION_EVENT_BUS_NAME',
] as const;

/** A transfer's or deletion's request options: the successor named (X3) and the export asked for (X4). */
export const requestOptions = (body: { successorId?: string; export?: unknown }): { successorId?: string; export?: boolean } => ({
  ...(body.successorId ? { successorId: body.successorId } : {}),
  ...(body.export ? { export: true } : {}),
});
/** D7 beyond: an organization's settings; the grace period is a whole number of days, 0 to 30. */
const GRACE_DAYS = `must be a whole number of days from 0 to ${MAX_GRACE_DAYS}`;
export const SettingsBody = z.strictObject({
  deletionGraceDays: z
    .int({ error: GRACE_DAYS })
    .check(z.minimum(0, { error: GRACE_DAYS }), z.maximum(MAX_GRACE_DAYS, { error: GRACE_DAYS })),
});
export const PreviewBody = z.discriminatedUnion(
  'operation',
  [
    z.strictObject({ operation: z.literal('transfer'), userId: Id, destinationOrganizationId: Id, successorId: z.optional(Id) }),
    z.strictObject({ operation: z.literal('deletion'), userId: Id, successorId: z.optional(Id) }),
  ],
  { error: 'must be "transfer" or "deletion"' },
);

/** A route handler: errors become CONTRACT.md answers; every answer is logged with its status. */
export function route(run: (event: HttpEvent) => Promise<HttpResult>) {
  return async (event: HttpEvent): Promise<HttpResult> => {
    logger.resetKeys(); // a warm function must not carry the last request's keys
    logger.appendKeys({ route: event.routeKey });
    try {
      const result = await run(event);
      logger.info('answered', { statusCode: result.statusCode });
      return result;
    } catch (error) {
      const result = errorResult(error);
      logger.info('refused', { statusCode: result.statusCode, error: (error as Error).message });
      return result;
    }
  };
}
