import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, SignJWT } from 'jose';
import { byId, demoWorld, openTarget, settle, type Target } from './harness.js';
import { synthesize } from '../infra/template.js';

/**
 * Every route of the synthesized API × every kind of caller, with the status each must get (CONTRACT.md "who may
 * call"). Routes come from the template: a route added without a row here fails the test.
 *
 * Callers, in the order of each row's `expect`: no token; a bad token (signed by another key); a member (a2 of A,
 * not an administrator); an administrator of an organization the resource has nothing to do with (adminB); the
 * administrator the contract names (`right`); an operator (scope offboard/operator: the platform operator, an active
 * user of the world with no organization, who administers none).
 */
const CALLERS = ['no token', 'bad token', 'member', 'other administrator', 'right administrator', 'operator'] as const;
type Expect = [none: number, bad: number, member: number, otherAdmin: number, right: number, operator: number];

/** What a route acts on, set up fresh on the demo world before its cases (ids become `{id}`). */
type Fixture =
  | 'nothing'
  | 'organization'
  | 'scim-token'
  | 'preview'
  | 'transfer'
  | 'deletion'
  | 'scheduled-deletion'
  | 'run'
  | 'failed-transfer'
  | 'failed-deletion'
  | 'failed-run'
  | 'waiting-run';

interface Row {
  on: Fixture;
  /** The administrator the contract allows. */
  right: string;
  body?: unknown;
  /** A query string the route needs (without `?`). */
  query?: string;
  expect: Expect;
}

// One line per route. 403 for the operator where the route is for administrators: an operator is an active user, no administrator.
// Operator routes (B4, O2) need the scope at the gateway (route authorization scopes): 403 for any token without it.
const MATRIX: Record<string, Row> = {
  'GET /health': { on: 'nothing', right: 'adminA', expect: [200, 200, 200, 200, 200, 200] },
  'POST /previews': {
    on: 'nothing',
    right: 'adminA',
    body: { operation: 'deletion', userId: 'a3' },
    expect: [401, 401, 403, 403, 200, 403],
  },
  'GET /previews/{id}': { on: 'preview', right: 'adminA', expect: [401, 401, 403, 403, 200, 403] },
  'GET /previews/{id}/effects': { on: 'preview', right: 'adminA', expect: [401, 401, 403, 403, 200, 403] },
  'POST /transfers': {
    on: 'nothing',
    right: 'adminA',
    body: { userId: 'a3', destinationOrganizationId: 'C' },
    expect: [401, 401, 403, 403, 201, 403],
  },
  'POST /transfers/{id}/approval': { on: 'transfer', right: 'adminC', expect: [401, 401, 403, 403, 202, 403] },
  'POST /transfers/{id}/cancellation': { on: 'transfer', right: 'adminC', expect: [401, 401, 403, 403, 200, 403] },
  'GET /transfers/{id}': { on: 'transfer', right: 'adminC', expect: [401, 401, 403, 403, 200, 403] },
  'GET /transfers/{id}/effects': { on: 'transfer', right: 'adminA', expect: [401, 401, 403, 403, 200, 403] },
  'POST /deletions': { on: 'nothing', right: 'adminA', body: { userId: 'a3' }, expect: [401, 401, 403, 403, 202, 403] },
  'GET /deletions/{id}': { on: 'deletion', right: 'adminA', expect: [401, 401, 403, 403, 200, 403] },
  'GET /deletions/{id}/effects': { on: 'deletion', right: 'adminA', expect: [401, 401, 403, 403, 200, 403] },
  // X4: an administrator of the organization reads the export's state; this one was requested without an export (404)
  'GET /transfers/{id}/export': { on: 'transfer', right: 'adminA', expect: [401, 401, 403, 403, 404, 403] },
  'GET /deletions/{id}/export': { on: 'deletion', right: 'adminA', expect: [401, 401, 403, 403, 404, 403] },
  'GET /operations/{id}/audit': { on: 'transfer', right: 'adminA', expect: [401, 401, 403, 403, 200, 403] },
  'GET /billing-runs/{id}': { on: 'run', right: 'adminA', expect: [401, 401, 403, 403, 200, 200] },
  'GET /me': { on: 'nothing', right: 'adminA', expect: [401, 401, 200, 200, 200, 200] },
  'GET /organizations': { on: 'nothing', right: 'adminA', expect: [401, 401, 200, 200, 200, 200] },
  'GET /organizations/{id}/members': { on: 'organization', right: 'adminA', expect: [401, 401, 403, 403, 200, 200] },
  'GET /organizations/{id}/transfers': {
    on: 'organization',
    right: 'adminA',
    query: 'direction=outgoing',
    expect: [401, 401, 403, 403, 200, 403],
  },
  'GET /organizations/{id}/deletions': { on: 'organization', right: 'adminA', expect: [401, 401, 403, 403, 200, 403] },
  'GET /billing-runs': { on: 'run', right: 'adminA', query: 'organizationId=A', expect: [401, 401, 403, 403, 200, 200] },
  'POST /deletions/{id}/undo': { on: 'scheduled-deletion', right: 'adminA', expect: [401, 401, 403, 403, 200, 403] },
  'GET /organizations/{id}/settings': { on: 'organization', right: 'adminA', expect: [401, 401, 403, 403, 200, 403] },
  'PUT /organizations/{id}/settings': {
    on: 'organization',
    right: 'adminA',
    body: { deletionGraceDays: 7 },
    expect: [401, 401, 403, 403, 200, 403],
  },
  'POST /transfers/{id}/resumption': { on: 'failed-transfer', right: 'adminA', expect: [401, 401, 403, 403, 202, 403] },
  'POST /deletions/{id}/resumption': { on: 'failed-deletion', right: 'adminA', expect: [401, 401, 403, 403, 202, 403] },
  'POST /deletions/{id}/cancellation': { on: 'failed-deletion', right: 'adminA', expect: [401, 401, 403, 403, 200, 403] },
  // O2: only an operator resumes a run; an administrator's token lacks the scope the gateway requires (403)
  'POST /billing-runs/{id}/resumption': { on: 'failed-run', right: 'adminA', expect: [401, 401, 403, 403, 403, 202] },
  'POST /billing-runs/{id}/confirmation': { on: 'waiting-run', right: 'adminA', expect: [401, 401, 403, 403, 403, 202] },
  'POST /billing-runs/{id}/cancellation': { on: 'run', right: 'adminA', expect: [401, 401, 403, 403, 403, 200] },
  // SCIM tokens (issue 22): an administrator of the organization creates, lists and revokes them
  'POST /organizations/{id}/scim-tokens': { on: 'organization', right: 'adminA', expect: [401, 401, 403, 403, 201, 403] },
  'GET /organizations/{id}/scim-tokens': { on: 'organization', right: 'adminA', expect: [401, 401, 403, 403, 200, 403] },
  'DELETE /organizations/{id}/scim-tokens/{tokenId}': { on: 'scim-token', right: 'adminA', expect: [401, 401, 403, 403, 200, 403] },
  // SCIM 2.0: the gateway lets them through, the function takes only the organization's SCIM token (test/integration/scim.test.ts): every JWT is 401
  'GET /scim/v2/ServiceProviderConfig': { on: 'nothing', right: 'adminA', expect: [401, 401, 401, 401, 401, 401] },
  'GET /scim/v2/ResourceTypes': { on: 'nothing', right: 'adminA', expect: [401, 401, 401, 401, 401, 401] },
  'GET /scim/v2/ResourceTypes/{id}': { on: 'organization', right: 'adminA', expect: [401, 401, 401, 401, 401, 401] },
  'GET /scim/v2/Schemas': { on: 'nothing', right: 'adminA', expect: [401, 401, 401, 401, 401, 401] },
  'GET /scim/v2/Schemas/{id}': { on: 'organization', right: 'adminA', expect: [401, 401, 401, 401, 401, 401] },
  'GET /scim/v2/Users': { on: 'nothing', right: 'adminA', expect: [401, 401, 401, 401, 401, 401] },
  'GET /scim/v2/Users/{id}': { on: 'organization', right: 'adminA', expect: [401, 401, 401, 401, 401, 401] },
  'PATCH /scim/v2/Users/{id}': {
    on: 'organization',
    right: 'adminA',
    body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'active', value: false }] },
    expect: [401, 401, 401, 401, 401, 401],
  },
  'DELETE /scim/v2/Users/{id}': { on: 'organization', right: 'adminA', expect: [401, 401, 401, 401, 401, 401] },
};

let target: Target;
let routeKeys: string[];
let forged: string;
let store: typeof import('../../functions/store/runs.js');
let scimTokenId = 'scim-00000000-0000-0000-0000-000000000000';

beforeAll(async () => {
  target = await openTarget();
  store = await import('../../functions/store/runs.js');
  routeKeys = Object.values(synthesize().findResources('AWS::ApiGatewayV2::Route'))
    .map((r: any) => r.Properties.RouteKey as string)
    .sort();
  const other = await generateKeyPair('RS256');
  forged = await new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setSubject('adminA').setExpirationTime('1h').sign(other.privateKey);
});
afterAll(async () => target?.close());

/** Sets up what the route acts on; returns its id. */
/** A contract cancellation run of A's of 6 members, stored as it stands at `status` (`failed` of them failed). */
async function aRun(id: string, eventId: string, status: 'failed' | 'awaiting-confirmation' | 'running', failed = 0): Promise<string> {
  const at = new Date().toISOString();
  await store.createRun({
    id,
    kind: 'contract-cancellation',
    organizationId: 'A',
    eventId,
    status,
    total: 6,
    done: 0,
    failed,
    createdAt: at,
    updatedAt: at,
  });
  return id;
}

async function prepare(fixture: Fixture): Promise<string> {
  await target.load(demoWorld());
  switch (fixture) {
    case 'nothing':
      return '';
    case 'organization':
      return 'A';
    case 'scim-token':
      // the path's {id} is A; its {tokenId}, a token of A's
      scimTokenId = (await target.call('POST', '/organizations/A/scim-tokens', { as: 'adminA' })).body.id;
      return 'A';
    case 'preview':
      return (
        await target.call('POST', '/previews', {
          as: 'adminA',
          body: { operation: 'transfer', userId: 'a1', destinationOrganizationId: 'C' },
        })
      ).body.id;
    case 'transfer':
      return (await target.call('POST', '/transfers', { as: 'adminA', body: { userId: 'a1', destinationOrganizationId: 'C' } })).body.id;
    case 'deletion': {
      const id = (await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a3' } })).body.id;
      await settle(target, `/deletions/${id}`, 'adminA');
      return id;
    }
    case 'scheduled-deletion': {
      // D7: under a grace period the deletion waits, scheduled, and may be undone
      await target.call('PUT', '/organizations/A/settings', { as: 'adminA', body: { deletionGraceDays: 7 } });
      return (await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a3' } })).body.id;
    }
    case 'failed-transfer':
    case 'failed-deletion': {
      // the run's first step fails with an error no Retry matches: the operation ends failed
      await target.fault('apply', { times: 1, when: 'before', error: 'AccessDeniedException' });
      const transfer = fixture === 'failed-transfer';
      const id = transfer
        ? (await target.call('POST', '/transfers', { as: 'adminA', body: { userId: 'a1', destinationOrganizationId: 'C' } })).body.id
        : (await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a3' } })).body.id;
      if (transfer) await target.call('POST', `/transfers/${id}/approval`, { as: 'adminC' });
      await settle(target, `/${transfer ? 'transfers' : 'deletions'}/${id}`, 'adminA');
      await target.fault('apply');
      return id;
    }
    case 'failed-run':
      return aRun('b1-authz-failed', 'authz-failed', 'failed', 6);
    case 'waiting-run':
      // B4: a contract cancellation above the confirmation threshold, waiting for an operator
      return aRun('b1-authz-waiting', 'authz-waiting', 'awaiting-confirmation');
    case 'run':
      // A run of A's that has not finished: once a contract cancellation ends, the organization's administrators are deleted (B1).
      return aRun('b1-authz', 'authz', 'running');
  }
}

async function callAs(caller: (typeof CALLERS)[number], row: Row, method: string, path: string) {
  const body = row.body;
  switch (caller) {
    case 'no token':
      return target.call(method, path, { token: null, body });
    case 'bad token':
      return target.call(method, path, { token: forged, body });
    case 'member':
      return target.call(method, path, { as: 'a2', body });
    case 'other administrator':
      return target.call(method, path, { as: 'adminB', body });
    case 'right administrator':
      return target.call(method, path, { as: row.right, body });
    case 'operator':
      return target.call(method, path, { token: await target.operator.token(), body });
  }
}

describe('authorization matrix (issue 10, CONTRACT.md "who may call")', () => {
  it('every route of the synthesized API has a row, and every row a route', () => {
    expect(Object.keys(MATRIX).sort()).toEqual(routeKeys);
  });

  let cases = 0;
  for (const routeKey of Object.keys(MATRIX)) {
    it(`${routeKey}: ${CALLERS.map((c, i) => `${c} ${MATRIX[routeKey]!.expect[i]}`).join(', ')}`, async () => {
      const row = MATRIX[routeKey]!;
      const [method, pattern] = routeKey.split(' ') as [string, string];
      const path = pattern.replace('{id}', await prepare(row.on)).replace('{tokenId}', scimTokenId) + (row.query ? `?${row.query}` : '');
      // The right administrator goes last: the one call that may change something.
      const order = [0, 1, 2, 3, 5, 4];
      const got: number[] = [];
      for (const i of order) {
        const answer = await callAs(CALLERS[i]!, row, method, path);
        got[i] = answer.status;
        // RFC 7644 §3.12 on the SCIM routes, CONTRACT.md's error body on every other
        if (answer.status >= 400 && pattern.startsWith('/scim/'))
          expect(answer.body, `${CALLERS[i]}: the SCIM error`).toMatchObject({
            schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
            status: String(answer.status),
            detail: expect.any(String),
          });
        else if (answer.status >= 400)
          expect(answer.body.error, `${CALLERS[i]}: the error body`).toMatchObject({
            code: expect.any(String),
            message: expect.any(String),
          });
        cases++;
      }
      expect(Object.fromEntries(CALLERS.map((c, i) => [c, got[i]]))).toEqual(Object.fromEntries(CALLERS.map((c, i) => [c, row.expect[i]])));
    });
  }

  afterAll(() => {
    if (cases > 0) console.log(`authorization cases: ${cases}`);
  });
});

describe('operator: a token of a deleted or suspended user is refused (401) on every route, operator routes included', () => {
  for (const status of ['deleted', 'suspended'] as const) {
    it(`operator: the ${status} platform operator's token with scope offboard/operator answers 401 on every route but /health`, async () => {
      const w = demoWorld();
      Object.assign(
        byId(w.users, 'platform-operator'),
        status === 'deleted' ? { status, deletedAt: '2026-11-01T00:00:00Z', apiToken: null } : { status },
      );
      await target.load(w);
      const at = new Date().toISOString();
      await store.createRun({
        id: 'b1-authz-failed',
        kind: 'contract-cancellation',
        organizationId: 'A',
        eventId: 'authz-failed',
        status: 'failed',
        total: 6,
        done: 0,
        failed: 6,
        createdAt: at,
        updatedAt: at,
      });
      const token = await target.operator.token();
      const got: Record<string, number> = {};
      for (const routeKey of routeKeys.filter((k) => k !== 'GET /health')) {
        const [method, pattern] = routeKey.split(' ') as [string, string];
        const row = MATRIX[routeKey]!;
        const path =
          pattern
            .replace('{id}', pattern.startsWith('/billing-runs') ? 'b1-authz-failed' : pattern.startsWith('/organizations') ? 'A' : 'x')
            .replace('{tokenId}', scimTokenId) + (row.query ? `?${row.query}` : '');
        got[routeKey] = (await target.call(method, path, { token, body: row.body })).status;
      }
      expect(got).toEqual(Object.fromEntries(Object.keys(got).map((k) => [k, 401])));
      expect((await store.getRun('b1-authz-failed'))?.status).toBe('failed'); // nothing resumed
    });
  }
});
