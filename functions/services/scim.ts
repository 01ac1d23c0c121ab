import SCIMMY from 'scimmy';
import type { User } from '../domain/model.js';
import { displayName } from '../domain/display-names.js';
import { Conflict, Forbidden, Ineligible, NotFound } from '../shared/errors.js';
import { logger } from '../shared/logger.js';
import { listMembers } from '../store/directory.js';
import { audit, getOperation } from '../store/operations.js';
import {
  auditScimCall,
  createScimToken,
  findScimToken,
  listScimTokens,
  lockedBy,
  readScimAudit,
  revokeScimToken,
  SCIM_SCOPE,
  type ScimToken,
} from '../store/scim-tokens.js';
import { getOrganization, getUser } from '../store/table.js';
import { callerUser, mustGetOrganization, requireAdminOf } from './access.js';
import { requestDeletion } from './deletions.js';
import { undoDeletion } from './grace.js';

/**
 * SCIM 2.0 (RFC 7643, RFC 7644) for an organization's identity provider, at `/scim/v2`: Users read (list, one,
 * `filter=userName eq "…"`), deprovisioning (`PATCH` `active: false`, `DELETE`) as a deletion an administrator of the
 * organization requests (D1, under its grace period D7), re-activation (`active: true`) undoing a deletion still
 * `scheduled`, and the discovery resources. The messages, the User schema and the discovery documents are SCIMMY's
 * (npm `scimmy`); the store and the rules are this project's. Only `active` can be changed: the chat service owns the
 * rest of a user.
 */
export const SCIM_BASE = '/scim/v2';
export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
/** RFC 7644 §3.4.2.4: the most resources one list answer holds (ServiceProviderConfig `filter.maxResults`). */
export const MAX_RESULTS = 200;

SCIMMY.Resources.declare(SCIMMY.Resources.User);
SCIMMY.Config.set({
  documentationUri: 'https://github.com/offboard/offboard#scim',
  patch: true,
  filter: { supported: true, maxResults: MAX_RESULTS },
  authenticationSchemes: [
    {
      type: 'oauthbearertoken',
      name: 'SCIM bearer token',
      description: 'A per-organization token an administrator creates (POST /organizations/{id}/scim-tokens) and revokes',
      primary: true,
    },
  ],
});

/** An answer in SCIM's terms: a status and a body (absent for 204). */
export interface ScimAnswer {
  status: number;
  body?: unknown;
}

/** RFC 7644 §3.12: an error answer (`scimType` where the RFC names one). */
export class ScimError extends Error {
  /** The token presented, when it is known (a revoked one): the refusal is filed in its organization's trail. */
  token?: ScimToken;
  constructor(
    readonly status: number,
    message: string,
    readonly scimType?: string,
  ) {
    super(message);
    this.name = 'ScimError';
  }
}

export const errorBody = (status: number, detail: string, scimType?: string) =>
  new SCIMMY.Messages.Error({ status: status as any, detail, ...(scimType ? { scimType: scimType as any } : {}) });

/** The error answer for anything thrown while serving a SCIM call (the project's errors and SCIMMY's). */
export function scimErrorAnswer(error: unknown): ScimAnswer {
  if (error instanceof ScimError) return { status: error.status, body: errorBody(error.status, error.message, error.scimType) };
  if (error instanceof SCIMMY.Types.Error)
    return { status: Number(error.status), body: errorBody(Number(error.status), error.message, error.scimType) };
  if (error instanceof NotFound) return { status: 404, body: errorBody(404, error.message) };
  if (error instanceof Forbidden) return { status: 403, body: errorBody(403, error.message) };
  if (error instanceof Conflict) return { status: 409, body: errorBody(409, error.message) };
  if (error instanceof Ineligible) return { status: 409, body: errorBody(409, error.message) };
  logger.error('SCIM call failed', error as Error);
  return { status: 500, body: errorBody(500, 'internal error') };
}

/**
 * The token a request presents (`Authorization: Bearer scim_…`): known, not revoked, of scope `scim`, and its
 * administrator still an active administrator of its organization (a token acts with that authority, no more).
 */
export async function authenticate(authorization: string | undefined): Promise<ScimToken> {
  const secret = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
  if (!secret) throw new ScimError(401, 'a SCIM bearer token is required (Authorization: Bearer …)');
  const token = await findScimToken(secret);
  if (!token || token.scope !== SCIM_SCOPE) throw new ScimError(401, 'the bearer token is not a SCIM token of this service');
  const refuse = (message: string) => Object.assign(new ScimError(401, message), { token });
  if (token.revokedAt) throw refuse(`the SCIM token ${token.id} was revoked at ${token.revokedAt}`);
  const admin = await getUser(token.createdBy);
  if (!admin || admin.status !== 'active' || !admin.orgAdmin || admin.organizationId !== token.organizationId) {
    throw refuse(`the SCIM token ${token.id} was created by ${token.createdBy}, no longer an administrator of ${token.organizationId}`);
  }
  return token;
}

/** RFC 7643 §4.1: a user of the organization as a SCIM User (the chat service's id is both `id` and `userName`). */
function toScim(user: User) {
  return new SCIMMY.Schemas.User(
    { id: user.id, userName: user.id, displayName: displayName(user), name: { formatted: user.name }, active: user.status === 'active' },
    'out',
    `${SCIM_BASE}/Users`,
  );
}

/** The organization's user `id`, as SCIM sees it: 404 for another organization's or a deleted user (a purged resource). */
async function userOf(token: ScimToken, id: string): Promise<User> {
  const user = await getUser(id);
  if (!user || user.organizationId !== token.organizationId || user.status === 'deleted')
    throw new ScimError(404, `Resource ${id} not found`);
  return user;
}

/** RFC 7644 §3.4.2.2: only `userName eq "…"` (attribute and operator in any case). Anything else is 400 invalidFilter. */
export function parseFilter(filter: string): { userName: string } {
  let parsed: any;
  try {
    parsed = new SCIMMY.Types.Filter(filter);
  } catch (error) {
    throw new ScimError(400, `filter ${JSON.stringify(filter)}: ${(error as Error).message}`, 'invalidFilter');
  }
  const only = parsed.length === 1 ? Object.entries(parsed[0] as Record<string, unknown>) : [];
  const [attribute, expression] = only.length === 1 ? only[0]! : [];
  // the whole filter is that one expression: SCIMMY's parser lets a dangling `and` or `or` through
  const whole = /^\s*userName\s+eq\s+"(?:[^"\\]|\\.)*"\s*$/i.test(filter);
  const ok =
    whole &&
    typeof attribute === 'string' &&
    attribute.toLowerCase() === 'username' &&
    Array.isArray(expression) &&
    expression.length === 2 &&
    String(expression[0]).toLowerCase() === 'eq' &&
    typeof expression[1] === 'string';
  if (!ok) throw new ScimError(400, `filter ${JSON.stringify(filter)}: only userName eq "…" is supported`, 'invalidFilter');
  return { userName: expression[1] as string };
}

const positive = (name: string, value: string | undefined, fallback: number) => {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new ScimError(400, `${name} must be an integer, not ${JSON.stringify(value)}`, 'invalidValue');
  return n;
};

/** GET /Users: the organization's users (not deleted), `startIndex` 1-based, `count` at most MAX_RESULTS (RFC 7644 §3.4.2.4). */
export async function listUsers(token: ScimToken, query: { filter?: string; startIndex?: string; count?: string }) {
  const startIndex = Math.max(1, positive('startIndex', query.startIndex, 1));
  const count = Math.min(MAX_RESULTS, Math.max(0, positive('count', query.count, MAX_RESULTS)));
  if (query.filter !== undefined) {
    const { userName } = parseFilter(query.filter);
    const user = await getUser(userName);
    const found = user && user.organizationId === token.organizationId && user.status !== 'deleted' ? [toScim(user)] : [];
    return listResponse(startIndex === 1 ? found.slice(0, count) : [], found.length, startIndex);
  }
  const org = await getOrganization(token.organizationId);
  const wanted = startIndex - 1 + count;
  const rows: { userId: string }[] = [];
  let after: string | undefined;
  while (rows.length < wanted) {
    const page = await listMembers(token.organizationId, { limit: 100, ...(after ? { after } : {}) });
    rows.push(...page.members.filter((m) => m.status !== 'deleted'));
    if (!page.next) break;
    after = page.next;
  }
  const ids = rows.slice(startIndex - 1, wanted).map((r) => r.userId);
  const users = await Promise.all(ids.map((id) => getUser(id)));
  const page = users.filter((u): u is User => Boolean(u)).map((u) => toScim(u));
  return listResponse(page, org?.members ?? rows.length, startIndex);
}

/** RFC 7644 §3.4.2.4: one page, `itemsPerPage` the number of resources it holds (the shape is SCIMMY's ListResponse). */
function listResponse(page: readonly unknown[], totalResults: number, startIndex: number) {
  const message = new SCIMMY.Messages.ListResponse<any>([], { startIndex, itemsPerPage: 0, totalResults } as any);
  message.Resources = [...page] as any[];
  message.itemsPerPage = page.length;
  return message;
}

export async function readUser(token: ScimToken, id: string) {
  return toScim(await userOf(token, id));
}

/** `active` from a PATCH value: a boolean, or Entra ID's "True"/"False". */
function booleanOf(value: unknown, where: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  throw new ScimError(400, `${where}: active must be true or false, not ${JSON.stringify(value)}`, 'invalidValue');
}

/**
 * PATCH /Users/{id} (RFC 7644 §3.5.2): the operations applied to the user as SCIMMY's PatchOp applies them to the
 * User schema (unknown attributes: 400 invalidPath); a change of anything but `active` is 400 mutability. Then
 * `active: false` deprovisions, `active: true` undoes a deletion still scheduled.
 */
export async function patchUser(token: ScimToken, id: string, body: unknown) {
  const user = await userOf(token, id);
  const request = normaliseActive(body);
  const patch = new SCIMMY.Messages.PatchOp(request as any);
  const before = toScim(user);
  const after = ((await patch.apply(before)) ?? before) as Record<string, any>;
  const changed = Object.keys({ ...before, ...after }).filter(
    (k) => k !== 'meta' && k !== 'active' && JSON.stringify((before as any)[k]) !== JSON.stringify(after[k]),
  );
  if (changed.length)
    throw new ScimError(400, `only active can be changed here; ${changed.join(', ')} belong to the chat service`, 'mutability');
  const active = after.active as boolean;
  const operationId = active ? await reactivate(token, user) : await deprovision(token, user);
  return { user: toScim((await getUser(id))!), active, ...(operationId ? { operationId } : {}) };
}

/** Entra ID sends `"value": "False"` (and `{"active": "False"}`): read as the boolean it means, before the schema sees it. */
function normaliseActive(body: unknown): unknown {
  if (!body || typeof body !== 'object' || !Array.isArray((body as any).Operations)) return body;
  const b = body as { schemas?: unknown; Operations: any[] };
  if (!Array.isArray(b.schemas) || !b.schemas.includes(PATCH_SCHEMA))
    throw new ScimError(400, `a PATCH body names the schema ${PATCH_SCHEMA}`, 'invalidSyntax');
  return {
    ...b,
    Operations: b.Operations.map((op, i) => {
      if (!op || typeof op !== 'object') return op;
      // RFC 7644 §3.5.2: a value filter selects values of a multi-valued attribute (SCIMMY would ignore it on `active`)
      if (typeof op.path === 'string' && /^active\s*\[/i.test(op.path)) {
        throw new ScimError(
          400,
          `operation ${i + 1}: active is single-valued; the value filter of path ${JSON.stringify(op.path)} does not apply to it`,
          'invalidPath',
        );
      }
      if (typeof op.path === 'string' && op.path.toLowerCase() === 'active')
        return { ...op, value: booleanOf(op.value, `operation ${i + 1}`) };
      if (op.path === undefined && op.value && typeof op.value === 'object' && 'active' in op.value)
        return { ...op, value: { ...op.value, active: booleanOf(op.value.active, `operation ${i + 1}`) } };
      return op;
    }),
  };
}

/** DELETE /Users/{id}: the same deprovisioning as `active: false` (RFC 7644 §3.6); 204. */
export async function deleteUser(token: ScimToken, id: string): Promise<{ operationId?: string }> {
  const user = await userOf(token, id);
  const operationId = await deprovision(token, user);
  return operationId ? { operationId } : {};
}

/**
 * D1 as the token's administrator requests it, under the organization's grace period (D7): scheduled, the user
 * suspended, undoable until the purge. A user already being deleted (suspended, or its deletion running) is left as
 * it is; a user in a transfer is 409.
 */
async function deprovision(token: ScimToken, user: User): Promise<string | undefined> {
  const holder = await lockedBy(user.id);
  if (holder) {
    const op = await getOperation(holder);
    if (op?.operation === 'deletion') return op.id;
    throw new ScimError(409, `user ${user.id} is in ${op?.operation ?? 'an operation'} ${holder}; it is deprovisioned once that ends`);
  }
  if (user.status !== 'active') return undefined;
  const view = (await requestDeletion(token.createdBy, user.id)) as { id: string };
  await audit(view.id, { event: 'scim-deprovisioned', by: token.createdBy, tokenId: token.id, rule: 'D1' });
  return view.id;
}

/** `active: true`: a deletion still `scheduled` is undone (D7); an active user stays; anything further along is 409. */
async function reactivate(token: ScimToken, user: User): Promise<string | undefined> {
  const holder = await lockedBy(user.id);
  const op = holder ? await getOperation(holder) : undefined;
  if (op?.operation === 'deletion' && op.status === 'scheduled') {
    await undoDeletion(token.createdBy, op.id);
    await audit(op.id, { event: 'scim-reactivated', by: token.createdBy, tokenId: token.id, rule: 'D7' });
    return op.id;
  }
  if (user.status === 'active' && op?.operation !== 'deletion') return undefined;
  const why = op ? `its deletion ${op.id} is ${op.status}` : `it is ${user.status}`;
  throw new ScimError(409, `user ${user.id} cannot be re-activated: ${why} (D7: only a scheduled deletion can be undone)`);
}

/** The discovery resources (RFC 7644 §4), from SCIMMY's definitions of what is declared and configured. */
export async function discovery(kind: 'ServiceProviderConfig' | 'ResourceTypes' | 'Schemas', id?: string) {
  const base = SCIM_BASE;
  try {
    if (kind === 'ServiceProviderConfig') return await new SCIMMY.Resources.ServiceProviderConfig().read();
    if (kind === 'ResourceTypes') return await (id ? new SCIMMY.Resources.ResourceType(id) : new SCIMMY.Resources.ResourceType()).read();
    return await (id ? new SCIMMY.Resources.Schema(id) : new SCIMMY.Resources.Schema()).read();
  } catch (error) {
    if (error instanceof SCIMMY.Types.Error && Number(error.status) === 404)
      throw new ScimError(404, `${base}/${kind}/${id}: no such resource`);
    throw error;
  }
}

/** X2: each SCIM call, by the organization's token, with its answer's status. */
export async function recordCall(
  token: ScimToken | undefined,
  call: { method: string; path: string; status: number; userId?: string; operationId?: string; error?: string },
): Promise<void> {
  if (!token) {
    logger.warn('SCIM call refused', call); // no organization to file it under: the function's log
    return;
  }
  await auditScimCall(token.organizationId, { tokenId: token.id, ...call });
}

/** POST /organizations/{id}/scim-tokens: an administrator creates a token; its secret is in this answer only. */
export async function createToken(callerId: string, organizationId: string) {
  const caller = await callerUser(callerId);
  const org = await mustGetOrganization(organizationId);
  requireAdminOf(caller, org.id, "only its administrators may create an organization's SCIM tokens");
  const { token, secret } = await createScimToken(org.id, caller.id);
  await auditScimCall(org.id, { event: 'token-created', tokenId: token.id, by: caller.id });
  return { ...token, token: secret, scimBaseUrl: SCIM_BASE };
}

/** GET /organizations/{id}/scim-tokens: the tokens (no secrets) and the last 100 SCIM calls (X2). */
export async function listTokens(callerId: string, organizationId: string) {
  const caller = await callerUser(callerId);
  const org = await mustGetOrganization(organizationId);
  requireAdminOf(caller, org.id, "only its administrators may read an organization's SCIM tokens");
  const [tokens, calls] = await Promise.all([listScimTokens(org.id), readScimAudit(org.id)]);
  return { organizationId: org.id, tokens, calls };
}

/** DELETE /organizations/{id}/scim-tokens/{tokenId}: revoked at once; a second revocation answers the same. */
export async function revokeToken(callerId: string, organizationId: string, tokenId: string) {
  const caller = await callerUser(callerId);
  const org = await mustGetOrganization(organizationId);
  requireAdminOf(caller, org.id, "only its administrators may revoke an organization's SCIM tokens");
  const token = await revokeScimToken(org.id, tokenId, caller.id);
  if (!token) throw new NotFound(`organization ${org.id} has no SCIM token ${tokenId}`);
  await auditScimCall(org.id, { event: 'token-revoked', tokenId, by: caller.id });
  return token;
}
