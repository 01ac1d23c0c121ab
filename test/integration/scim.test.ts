import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { byId, demoWorld, openTarget, type Target } from './harness.js';

/**
 * SCIM 2.0 at /scim/v2 (RFC 7643, RFC 7644; docs/http-api.md "SCIM 2.0"): every route, bad filters, unknown attributes, a revoked
 * token, and deprovisioning as a deletion under the organization's grace period (D1, D7). Request and answer shapes
 * follow the RFC's examples (RFC 7644 §3.4.2 list, §3.5.2 PATCH, §3.6 DELETE, §3.12 errors, §4 discovery).
 */
const onDeployedStack = process.env.OFFBOARD_TARGET === 'stack';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const DAY_MS = 24 * 3600 * 1000;

let target: Target;
let secret = '';
let tokenId = '';

async function scim(method: string, route: string, options: { body?: unknown; token?: string | null } = {}) {
  const token = options.token === undefined ? secret : options.token;
  const res = await fetch(`${target.url}/scim/v2${route}`, {
    method,
    headers: { 'content-type': 'application/scim+json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type'), body: text ? JSON.parse(text) : undefined };
}

/** The demo world, Company A with a grace period of 7 days (D7), and a SCIM token of A's. */
async function fresh(graceDays = 7) {
  const w = demoWorld();
  byId(w.organizations, 'A').deletionGraceDays = graceDays;
  await target.load(w);
  const created = await target.call('POST', '/organizations/A/scim-tokens', { as: 'adminA' });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  secret = created.body.token;
  tokenId = created.body.id;
}

const deprovision = (userId: string, value: unknown = false) =>
  scim('PATCH', `/Users/${userId}`, { body: { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value }] } });

beforeAll(async () => {
  if (!onDeployedStack) target = await openTarget();
});
afterAll(async () => target?.close());

describe.skipIf(onDeployedStack)('SCIM 2.0 (issue 22)', () => {
  it('SCIM tokens: only an administrator of the organization creates, lists and revokes them; the secret is shown once and stored as its SHA-256 only', async () => {
    await fresh();
    expect(secret).toMatch(/^scim_[A-Za-z0-9_-]{43}$/);
    expect((await target.call('POST', '/organizations/A/scim-tokens', { as: 'adminB' })).status).toBe(403);
    expect((await target.call('POST', '/organizations/A/scim-tokens', { as: 'a2' })).status).toBe(403);
    expect((await target.call('POST', '/organizations/A/scim-tokens', { token: null })).status).toBe(401);
    const listed = await target.call('GET', '/organizations/A/scim-tokens', { as: 'adminA' });
    expect(listed.status).toBe(200);
    expect(listed.body.tokens).toEqual([expect.objectContaining({ id: tokenId, organizationId: 'A', scope: 'scim', createdBy: 'adminA' })]);
    expect(JSON.stringify(listed.body)).not.toContain(secret);
    const { getItem } = await import('../../functions/store/table.js');
    const stored = await getItem({ PK: `SCIMTOKEN#${createHash('sha256').update(secret).digest('hex')}`, SK: 'TOKEN' });
    expect(stored).toMatchObject({ id: tokenId, organizationId: 'A' });
    expect(JSON.stringify(stored)).not.toContain(secret);
    expect((await target.call('DELETE', `/organizations/A/scim-tokens/${tokenId}`, { as: 'adminB' })).status).toBe(403);
    expect(
      (await target.call('DELETE', '/organizations/A/scim-tokens/scim-00000000-0000-0000-0000-000000000000', { as: 'adminA' })).status,
    ).toBe(404);
  });

  it('RFC 7644 §4: ServiceProviderConfig, ResourceTypes and Schemas describe what is served (PATCH and filter supported, bulk, sort, etag not)', async () => {
    await fresh();
    const config = await scim('GET', '/ServiceProviderConfig');
    expect(config.status).toBe(200);
    expect(config.type).toMatch(/^application\/scim\+json/);
    expect(config.body).toMatchObject({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
      patch: { supported: true },
      filter: { supported: true, maxResults: 200 },
      bulk: { supported: false },
      sort: { supported: false },
      etag: { supported: false },
      changePassword: { supported: false },
      authenticationSchemes: [expect.objectContaining({ type: 'oauthbearertoken' })],
    });
    const types = await scim('GET', '/ResourceTypes');
    expect(types.body).toMatchObject({ schemas: [LIST], totalResults: 1, Resources: [{ id: 'User', endpoint: '/Users', schema: USER }] });
    expect((await scim('GET', '/ResourceTypes/User')).body).toMatchObject({ id: 'User', name: 'User', schema: USER });
    expect((await scim('GET', '/ResourceTypes/Group')).status).toBe(404);
    const schemas = await scim('GET', '/Schemas');
    expect(schemas.body.Resources.map((s: any) => s.id)).toContain(USER);
    const user = await scim('GET', `/Schemas/${USER}`);
    expect(user.status).toBe(200);
    expect(user.body.attributes.map((a: any) => a.name)).toEqual(expect.arrayContaining(['userName', 'displayName', 'active']));
    const unknown = await scim('GET', '/Schemas/urn:example:nothing');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ schemas: [ERROR], status: '404' });
  });

  it('GET /Users: the organization’s users (not deleted, no other organization’s), paged by startIndex and count; GET /Users/{id}; filter userName eq', async () => {
    await fresh();
    const world = demoWorld();
    const present = world.users
      .filter((u: any) => u.organizationId === 'A' && u.status !== 'deleted')
      .map((u: any) => u.id)
      .sort();
    const all = await scim('GET', '/Users');
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ schemas: [LIST], startIndex: 1, totalResults: present.length });
    expect(all.body.Resources.map((u: any) => u.id).sort()).toEqual(present);
    const page = await scim('GET', '/Users?startIndex=2&count=2');
    expect(page.body).toMatchObject({ startIndex: 2, itemsPerPage: 2, totalResults: present.length });
    expect(page.body.Resources.map((u: any) => u.id)).toEqual(all.body.Resources.slice(1, 3).map((u: any) => u.id));
    const a1 = await scim('GET', '/Users/a1');
    expect(a1.body).toMatchObject({
      schemas: [USER],
      id: 'a1',
      userName: 'a1',
      active: true,
      displayName: byId(world.users, 'a1').name,
      meta: { resourceType: 'User', location: '/scim/v2/Users/a1' },
    });
    expect((await scim('GET', '/Users/b1')).status).toBe(404); // Company B's
    expect((await scim('GET', '/Users/nobody')).body).toMatchObject({ schemas: [ERROR], status: '404' });
    const found = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "a1"')}`);
    expect(found.body).toMatchObject({ totalResults: 1, Resources: [{ id: 'a1' }] });
    expect((await scim('GET', `/Users?filter=${encodeURIComponent('USERNAME EQ "a1"')}`)).body.totalResults).toBe(1); // RFC 7644 §3.4.2.2: case-insensitive
    expect((await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "b1"')}`)).body).toMatchObject({
      totalResults: 0,
      Resources: [],
    });
  });

  it('RFC 7644 §3.4.2.2: a filter other than userName eq "…" is 400 invalidFilter; a bad startIndex is 400 invalidValue', async () => {
    await fresh();
    for (const filter of [
      'userName co "a"',
      'emails eq "a1@example.com"',
      'userName eq',
      'userName eq "a1" or userName eq "a2"',
      '(((',
      'userName pr',
      'displayName eq "Akira Abe"',
    ]) {
      const a = await scim('GET', `/Users?filter=${encodeURIComponent(filter)}`);
      expect(a.status, filter).toBe(400);
      expect(a.body, filter).toMatchObject({ schemas: [ERROR], status: '400', scimType: 'invalidFilter', detail: expect.any(String) });
    }
    expect((await scim('GET', '/Users?startIndex=x')).body).toMatchObject({ status: '400', scimType: 'invalidValue' });
  });

  it('PATCH: an unknown attribute is 400 invalidPath, any attribute but active 400 mutability, a body without the PatchOp schema 400 invalidSyntax; nothing changes', async () => {
    await fresh();
    const before = JSON.stringify(await target.export());
    const unknown = await scim('PATCH', '/Users/a2', {
      body: { schemas: [PATCH], Operations: [{ op: 'replace', path: 'favouriteColour', value: 'blue' }] },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ schemas: [ERROR], scimType: 'invalidPath' });
    const renamed = await scim('PATCH', '/Users/a2', {
      body: { schemas: [PATCH], Operations: [{ op: 'replace', path: 'userName', value: 'someone-else' }] },
    });
    expect(renamed.body).toMatchObject({ status: '400', scimType: 'mutability' });
    const noSchema = await scim('PATCH', '/Users/a2', { body: { Operations: [{ op: 'replace', path: 'active', value: false }] } });
    expect(noSchema.body).toMatchObject({ status: '400', scimType: 'invalidSyntax' });
    expect(
      (await scim('PATCH', '/Users/a2', { body: { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: 'maybe' }] } }))
        .body,
    ).toMatchObject({ status: '400', scimType: 'invalidValue' });
    expect(JSON.stringify(await target.export())).toBe(before);
  });

  it('D1, D7: PATCH active:false (Entra ID’s "False") schedules a2’s deletion under the 7-day grace period; active:true (Okta’s value object) undoes it; the export is byte-identical to before', async () => {
    await fresh(7);
    const before = JSON.stringify(await target.export());
    const off = await deprovision('a2', 'False');
    expect(off.status, JSON.stringify(off.body)).toBe(200);
    expect(off.body).toMatchObject({ id: 'a2', active: false });
    const deletions = (await target.call('GET', '/organizations/A/deletions', { as: 'adminA' })).body;
    const scheduled = (deletions.deletions ?? deletions.operations ?? deletions.items).find((d: any) => d.userId === 'a2');
    expect(scheduled).toMatchObject({ status: 'scheduled', requestedBy: 'adminA' });
    const op = (await target.call('GET', `/deletions/${scheduled.id}`, { as: 'adminA' })).body;
    expect(Date.parse(op.purgeAt) - Date.now()).toBeGreaterThan(7 * DAY_MS - 120_000);
    expect((await scim('GET', '/Users/a2')).body.active).toBe(false);
    const trail = (await target.call('GET', `/operations/${scheduled.id}/audit`, { as: 'adminA' })).body;
    expect(JSON.stringify(trail)).toContain('scim-deprovisioned');
    // a second deprovisioning finds the same deletion
    expect((await deprovision('a2')).status).toBe(200);
    const on = await scim('PATCH', '/Users/a2', { body: { schemas: [PATCH], Operations: [{ op: 'replace', value: { active: true } }] } });
    expect(on.status, JSON.stringify(on.body)).toBe(200);
    expect(on.body.active).toBe(true);
    expect((await target.call('GET', `/deletions/${scheduled.id}`, { as: 'adminA' })).body.status).toBe('cancelled');
    expect(JSON.stringify(await target.export())).toBe(before);
  });

  it('DELETE /Users/{id} deprovisions as active:false does (204, scheduled; again 204); once purged the user is gone (404); D1: the last administrator is 409, nothing changed', async () => {
    await fresh(7);
    const del = await scim('DELETE', '/Users/a3');
    expect(del.status).toBe(204);
    expect(del.body).toBeUndefined();
    expect((await scim('DELETE', '/Users/a3')).status).toBe(204);
    expect((await scim('GET', '/Users/a3')).body.active).toBe(false);
    await target.clock({ advanceMs: 7 * DAY_MS + 60_000 });
    await target.call('POST', '/_local/idle');
    expect((await scim('GET', '/Users/a3')).status).toBe(404); // purged: deleted users are gone from SCIM
    expect((await deprovision('a3', true)).status).toBe(404);
    // D1: the last active administrator is not deleted
    await fresh(0);
    const before = JSON.stringify(await target.export());
    const last = await scim('DELETE', '/Users/adminA');
    expect(last.status).toBe(409);
    expect(last.body).toMatchObject({ schemas: [ERROR], status: '409', detail: expect.stringContaining('D1') });
    expect(JSON.stringify(await target.export())).toBe(before);
  });

  it('a revoked token, no token, a JWT and a token of another organization’s users: 401 or 404, and every call is in the organization’s SCIM trail', async () => {
    await fresh();
    expect((await scim('GET', '/Users', { token: null })).status).toBe(401);
    expect((await scim('GET', '/Users', { token: 'scim_not-a-token' })).body).toMatchObject({ schemas: [ERROR], status: '401' });
    const jwt = await target.tokenWith('adminA', {});
    expect((await scim('GET', '/Users', { token: jwt })).status).toBe(401);
    expect((await scim('GET', '/Users/a1')).status).toBe(200);
    const revoked = await target.call('DELETE', `/organizations/A/scim-tokens/${tokenId}`, { as: 'adminA' });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ id: tokenId, revokedBy: 'adminA', revokedAt: expect.any(String) });
    const refused = await scim('PATCH', '/Users/a2', {
      body: { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: false }] },
    });
    expect(refused.status).toBe(401);
    expect(refused.body.detail).toContain('revoked');
    expect((await scim('GET', '/Users/a2', { token: null })).status).toBe(401);
    expect((await target.call('GET', '/organizations/A/deletions', { as: 'adminA' })).body).not.toMatchObject({
      deletions: [expect.objectContaining({ userId: 'a2' })],
    });
    const calls = (await target.call('GET', '/organizations/A/scim-tokens', { as: 'adminA' })).body.calls;
    expect(calls.map((c: any) => [c.method ?? c.event, c.path ?? '', c.status ?? '']).reverse()).toEqual([
      ['token-created', '', ''],
      ['GET', '/scim/v2/Users/a1', 200],
      ['token-revoked', '', ''],
      ['PATCH', '/scim/v2/Users/a2', 401], // the revoked token's call, refused, is filed too
    ]);
  });

  it('RFC 7644 §3.12: a revoked token is 401 on every route (discovery, list, read, PATCH, DELETE), changes nothing, and each refusal is filed', async () => {
    await fresh(7);
    expect((await target.call('DELETE', `/organizations/A/scim-tokens/${tokenId}`, { as: 'adminA' })).status).toBe(200);
    const before = JSON.stringify(await target.export());
    const routes: [string, string, unknown?][] = [
      ['GET', '/ServiceProviderConfig'],
      ['GET', '/ResourceTypes'],
      ['GET', '/ResourceTypes/User'],
      ['GET', '/Schemas'],
      ['GET', `/Schemas/${USER}`],
      ['GET', '/Users'],
      ['GET', '/Users/a2'],
      ['PATCH', '/Users/a2', { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: false }] }],
      ['DELETE', '/Users/a3'],
    ];
    for (const [method, route, body] of routes) {
      const a = await scim(method, route, body === undefined ? {} : { body });
      expect(a.status, `${method} ${route}`).toBe(401);
      expect(a.body, `${method} ${route}`).toMatchObject({ schemas: [ERROR], status: '401', detail: expect.stringContaining('revoked') });
    }
    expect(JSON.stringify(await target.export())).toBe(before);
    const calls = (await target.call('GET', '/organizations/A/scim-tokens', { as: 'adminA' })).body.calls;
    const refused = calls.filter((c: any) => c.status === 401).map((c: any) => `${c.method} ${c.path}`);
    for (const [method, route] of routes) expect(refused, `${method} ${route}`).toContain(`${method} /scim/v2${route.split('?')[0]}`);
  });

  it('unknown attributes in a PATCH value object or as its path, and malformed filters (open quote, unknown operator, bad attribute path): 400, nothing changes', async () => {
    await fresh(7);
    const before = JSON.stringify(await target.export());
    for (const value of [{ favouriteColour: 'blue' }, { active: false, favouriteColour: 'blue' }]) {
      const a = await scim('PATCH', '/Users/a2', { body: { schemas: [PATCH], Operations: [{ op: 'replace', value }] } });
      expect(a.status, JSON.stringify(value)).toBe(400);
      expect(a.body, JSON.stringify(value)).toMatchObject({
        schemas: [ERROR],
        status: '400',
        scimType: expect.stringMatching(/^(invalidPath|invalidValue|mutability)$/),
      });
    }
    for (const path of ['name.nickname.more', 'urn:example:nothing:favouriteColour', 'active[value eq true]']) {
      const a = await scim('PATCH', '/Users/a2', { body: { schemas: [PATCH], Operations: [{ op: 'replace', path, value: false }] } });
      expect(a.status, path).toBe(400);
      expect(a.body.schemas, path).toEqual([ERROR]);
    }
    for (const filter of ['userName eq "a1', 'userName zz "a1"', 'userName eq "a1" and', 'favouriteColour eq "blue"', '']) {
      const a = await scim('GET', `/Users?filter=${encodeURIComponent(filter)}`);
      expect(a.status, JSON.stringify(filter)).toBe(400);
      expect(a.body, JSON.stringify(filter)).toMatchObject({ schemas: [ERROR], scimType: 'invalidFilter' });
    }
    expect(JSON.stringify(await target.export())).toBe(before);
  });
});
