import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { largeOrganizationWorld } from '../../fixtures/large-organization.js';
import { LARGE_USER_SIZES, largeUserWorld } from '../../fixtures/large-user.js';
import { takeRequestCounts } from '../../local/request-counts.js';
import { openTarget, previewReady, type Target } from './harness.js';

/**
 * The console's reads at realistic size: the member list and its search over an organization of 10,000 members,
 * and the names on a 1,000-effect page. Requests are counted in this process (the embedded stack runs the handlers
 * here); times are printed for the notes.
 */
let target: Target;
beforeAll(async () => {
  target = await openTarget();
});
afterAll(async () => target?.close());

/** Times one call and counts the DynamoDB requests it made, by operation. */
async function measured(route: string, as: { as?: string; token?: string }) {
  takeRequestCounts();
  const started = performance.now();
  const answer = await target.call('GET', route, as);
  const ms = Math.round(performance.now() - started);
  const counts = takeRequestCounts();
  return { answer, ms, counts, requests: Object.values(counts).reduce((n, c) => n + c, 0) };
}

describe('members of an organization of 10,000', () => {
  const MEMBERS = 10_000;
  beforeAll(async () => {
    // only the people matter here: the generator's organization without its chats, files and tasks
    const world = { ...largeOrganizationWorld(MEMBERS), contacts: [], chats: [], messages: [], files: [], tasks: [] };
    await target.load(world);
  }, 300_000);

  it('the first page is one query of the members index; every member is listed once across pages of 200', async () => {
    const first = await measured('/organizations/X/members', { as: 'x00000' });
    expect(first.answer.status).toBe(200);
    expect(first.answer.body.members).toHaveLength(50);
    expect(first.counts['DynamoDB.Query']).toBe(1);
    expect(first.answer.body.nextCursor).toBeDefined();
    const seen = new Set<string>();
    const started = performance.now();
    let pages = 0;
    let cursor: string | undefined;
    do {
      const page = await target.call('GET', `/organizations/X/members?limit=200${cursor ? `&cursor=${cursor}` : ''}`, { as: 'x00000' });
      for (const m of page.body.members) seen.add(m.userId);
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor);
    const allMs = Math.round(performance.now() - started);
    expect(seen.size).toBe(MEMBERS);
    expect(pages).toBe(MEMBERS / 200);
    console.log(
      `members, 10,000: first page of 50 in ${first.ms} ms (${first.requests} requests: ${JSON.stringify(first.counts)}); all in ${pages} pages of 200 in ${allMs} ms`,
    );
  });

  it('q searches all 10,000 by id or name in a few 1 MB queries', async () => {
    const one = await measured('/organizations/X/members?q=member%209999', { as: 'x00000' });
    expect(one.answer.body.members.map((m: any) => m.userId)).toEqual(['x09999']);
    expect(one.answer.body.nextCursor).toBeUndefined();
    expect(one.counts['DynamoDB.Query']).toBeLessThanOrEqual(5);
    const prefix = await measured('/organizations/X/members?q=X0001', { as: 'x00000' });
    expect(prefix.answer.body.members.map((m: any) => m.userId)).toEqual(Array.from({ length: 10 }, (_, i) => `x0001${i}`));
    const many = await measured('/organizations/X/members?q=member%201', { as: 'x00000' });
    expect(many.answer.body.members).toHaveLength(50);
    expect(many.answer.body.nextCursor).toBeDefined();
    console.log(
      `members, 10,000, q: one match of 10,000 in ${one.ms} ms (${one.counts['DynamoDB.Query']} queries); ` +
        `10 matches in ${prefix.ms} ms; a full page of 50 matches in ${many.ms} ms (${many.counts['DynamoDB.Query']} queries)`,
    );
  });
});

describe('names on a 1,000-effect page', () => {
  beforeAll(async () => target.load(largeUserWorld(LARGE_USER_SIZES.S)), 300_000);

  it('X1: every id on the first page of a 1,672-effect deletion is named, read 100 keys a request', async () => {
    // CONTRACT.md planning: answered at once, or (a slow machine past the request's budget) 202 and then ready
    const answer = await target.call('POST', '/previews', { as: 'adminA', body: { operation: 'deletion', userId: 'u0' } });
    const preview = { body: await previewReady(target, answer, 'adminA') };
    expect(preview.body.effectCount).toBeGreaterThan(1000);
    const page = await measured(`/previews/${preview.body.id}/effects`, { as: 'adminA' });
    expect(page.answer.status).toBe(200);
    const { effects, names } = page.answer.body;
    expect(effects).toEqual(preview.body.effects);
    expect(effects).toHaveLength(1000);
    const ids = {
      users: new Set<string>(),
      chats: new Set<string>(),
      organizations: new Set<string>(),
      files: new Set<string>(),
      tasks: new Set<string>(),
    };
    for (const e of effects) {
      for (const u of [e.userId, ...(e.userIds ?? [])]) if (u) ids.users.add(u);
      if (e.chatId) ids.chats.add(e.chatId);
      if (e.organizationId) ids.organizations.add(e.organizationId);
      if (e.fileId) ids.files.add(e.fileId);
      if (e.taskId) ids.tasks.add(e.taskId);
    }
    for (const kind of ['chats', 'organizations', 'files', 'tasks'] as const)
      expect(Object.keys(names[kind]).sort(), kind).toEqual([...ids[kind]].sort());
    // and the people the console names things by: a direct chat's members (a Query each), each file's uploader
    const direct = Object.values<any>(names.chats).filter((c) => c.type === 'direct');
    for (const c of direct) expect(c.members.length).toBeGreaterThan(0);
    const people = new Set<string>([...direct.flatMap((c) => c.members), ...Object.values<any>(names.files).map((f) => f.uploaderId)]);
    const extra = [...people].filter((u) => !ids.users.has(u));
    expect(Object.keys(names.users).sort()).toEqual([...ids.users, ...extra].sort());
    const keys = Object.values(ids).reduce((n, s) => n + s.size, 0);
    // the caller, the preview's header, its page, then the names: 100 keys a BatchGetItem, then the people not named yet
    expect(page.counts['DynamoDB.BatchGetItem']).toBe(1 + Math.ceil(keys / 100) + Math.ceil(extra.length / 100));
    console.log(`names, 1,000-effect page: ${keys} ids named in ${page.ms} ms, ${page.requests} requests (${JSON.stringify(page.counts)})`);
  });
});
