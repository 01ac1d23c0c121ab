import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { byId, demoWorld, eventually, ids, objectKey, openTarget, settle, withApplyWork, type Target } from './harness.js';

let target: Target;
beforeAll(async () => {
  target = await openTarget();
});
afterAll(async () => target?.close());
beforeEach(async () => target.load(demoWorld()));

async function deleteUser(userId: string, as = 'adminA') {
  const started = await target.call('POST', '/deletions', { as, body: { userId } });
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  expect(started.body.status).toBe('running');
  return { started: started.body, final: await settle(target, `/deletions/${started.body.id}`, as) };
}

describe('an administrator deletes a2 (D2–D6, G1–G2, F1–F2)', () => {
  let preview: any;
  let started: any;
  let final: any;
  let w: any;
  beforeEach(async () => {
    const { id, expiresAt, ...previewed } = (
      await target.call('POST', '/previews', { as: 'adminA', body: { operation: 'deletion', userId: 'a2' } })
    ).body;
    preview = previewed;
    ({ started, final } = await deleteUser('a2'));
    w = await target.export();
  });

  it('X1: the deletion runs exactly the previewed effects, each citing its rule', () => {
    expect(started).toMatchObject({ userId: 'a2', organizationId: 'A', requestedBy: 'adminA' });
    expect(started.impact).toEqual(preview);
    expect(final.status).toBe('succeeded');
    expect(final.impact).toEqual(preview);
    for (const e of preview.effects) expect(e.rule).toMatch(/^[DFGT]\d$/);
  });

  it('D2: the user is deleted, signs in no more, API token revoked', () => {
    expect(byId(w.users, 'a2')).toMatchObject({ status: 'deleted', apiToken: null, displayName: 'Asuka Aoki (cancelled)' });
    expect(Date.parse(byId(w.users, 'a2').deletedAt)).toBeGreaterThan(Date.parse('2026-01-01'));
  });

  it('D2, D6: past messages and kept tasks show "Name (cancelled)"', () => {
    for (const m of w.messages.filter((m: any) => m.senderId === 'a2')) expect(m.speakerName).toBe('Asuka Aoki (cancelled)');
    expect(w.messages.filter((m: any) => m.senderId === 'a2').length).toBeGreaterThan(0);
    expect(byId(w.tasks, 't-launch-a1').requesterName).toBe('Asuka Aoki (cancelled)');
    expect(byId(w.tasks, 't-design-b2').requesterName).toBe('Asuka Aoki (cancelled)');
  });

  it('D3: My Chat and the chat where a2 was alone are deleted, with their messages and files (F2, bytes gone)', () => {
    expect(ids(w.chats)).not.toContain('my-a2');
    expect(ids(w.chats)).not.toContain('g-solo');
    expect(w.messages.filter((m: any) => m.chatId === 'g-solo')).toEqual([]);
    expect(ids(w.files)).not.toContain('f-a2-solo');
  });

  it('F4: deleted files’ bytes are gone from the bucket; kept files’ bytes are still there', async () => {
    const keys = await target.objectKeys();
    expect(keys).not.toContain(objectKey('g-solo', 'f-a2-solo'));
    expect(keys).not.toContain(objectKey('dm-a2-b1', 'f-a2-dm-b1'));
    expect(keys).toContain(objectKey('g-design', 'f-a2-design'));
    expect(keys).toContain(objectKey('g-design', 'f-b2-design'));
    expect(keys.length).toBe(w.files.length);
  });

  it('D4: contacts removed; the direct chat with messages stays frozen with b1 alone; the one without messages is deleted', () => {
    expect(w.contacts.filter((p: string[]) => p.includes('a2'))).toEqual([]);
    expect(byId(w.chats, 'dm-a2-b1')).toMatchObject({ frozen: true, members: [{ userId: 'b1', role: 'admin' }] });
    expect(ids(w.chats)).not.toContain('dm-a2-c1');
    expect(ids(w.files)).not.toContain('f-a2-dm-b1'); // F1: b1 is not of A
  });

  it('D5, G2: a2 leaves the group chats; where no administrator remains, every member (read-only included) becomes one', () => {
    expect(byId(w.chats, 'g-design').members).toEqual([
      { userId: 'a3', role: 'admin' },
      { userId: 'b2', role: 'admin' },
    ]);
    expect(byId(w.chats, 'g-launch').members.map((m: any) => m.userId)).toEqual(['a1', 'b1']);
    expect(byId(w.chats, 'g-launch').members.find((m: any) => m.userId === 'b1').role).toBe('member'); // a1 is still admin
    expect(w.messages.filter((m: any) => m.chatId === 'g-design').length).toBe(2); // G1: past posts stay
  });

  it('F1: a2’s file stays in the chat where a3 (same organization) remains, owned by A', () => {
    expect(byId(w.files, 'f-a2-design')).toMatchObject({ ownerOrganizationId: 'A', stored: true });
  });

  it('D6: tasks assigned to a2 are deleted; tasks a2 requested stay', () => {
    expect(ids(w.tasks)).not.toContain('t-design-a2');
    expect(ids(w.tasks)).toEqual(expect.arrayContaining(['t-launch-a1', 't-design-b2']));
  });
});

describe('names and the 2016 cut-off (D2)', () => {
  it('D2: a user deleted before 2016-03-09 shows as "Cancelled user" on past messages; D6: as "Name (cancelled)" on kept tasks', async () => {
    const w = await target.export();
    expect(byId(w.users, 'old1').displayName).toBe('Cancelled user');
    expect(byId(w.messages, 'm012').speakerName).toBe('Cancelled user');
    expect(byId(w.tasks, 't-partners-c1').requesterName).toBe('Osamu Oda (cancelled)');
  });

  it('D4: a direct chat whose other user is already deleted is deleted when the last one goes', async () => {
    const { final } = await deleteUser('a3');
    expect(final.impact.effects).toContainEqual({ kind: 'chat-deleted', rule: 'D4', chatId: 'dm-a3-old1' });
    const w = await target.export();
    expect(ids(w.chats)).not.toContain('dm-a3-old1');
    expect(w.messages.filter((m: any) => m.chatId === 'dm-a3-old1')).toEqual([]);
  });
});

describe('refusals (D1) and HTTP errors', () => {
  it('D1: the last administrator of an organization is refused with 422 citing D1, and nothing changes', async () => {
    const before = await target.export();
    const a = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'adminA' } });
    expect(a.status).toBe(422);
    expect(a.body.error).toMatchObject({ code: 'ineligible', rule: 'D1' });
    expect(await target.export()).toEqual(before);
  });
  it('D1: an already deleted user is refused with 422 citing D1', async () => {
    const a = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'old1' } });
    expect(a.status).toBe(422);
    expect(a.body.error.reasons[0].rule).toBe('D1');
  });
  it('D1: an administrator can be deleted while another remains, and the deleted user’s token stops working (D2)', async () => {
    const world = demoWorld();
    byId(world.users, 'a1').orgAdmin = true;
    await target.load(world);
    expect((await target.call('GET', '/transfers/none', { as: 'a1' })).status).toBe(404); // a1 is signed in
    const { final } = await deleteUser('a1');
    expect(final.status).toBe('succeeded');
    expect((await target.call('GET', '/transfers/none', { as: 'a1' })).status).toBe(401);
  });
  it('403 for a member and for another organization’s administrator', async () => {
    expect((await target.call('POST', '/deletions', { as: 'a1', body: { userId: 'a2' } })).status).toBe(403);
    expect((await target.call('POST', '/deletions', { as: 'adminB', body: { userId: 'a2' } })).status).toBe(403);
    expect((await target.call('POST', '/previews', { as: 'adminB', body: { operation: 'deletion', userId: 'a2' } })).status).toBe(403);
    const { started } = await deleteUser('a2');
    expect((await target.call('GET', `/deletions/${started.id}`, { as: 'adminB' })).status).toBe(403);
    expect((await target.call('GET', `/deletions/${started.id}`, { as: 'a1' })).status).toBe(403);
  });
  it('400 naming the field, 401, 404', async () => {
    const bad = await target.call('POST', '/deletions', { as: 'adminA', body: { user: 'a2' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.path).toBe('userId');
    expect((await target.call('POST', '/deletions', { body: { userId: 'a2' } })).status).toBe(401);
    expect((await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'nobody' } })).status).toBe(404);
    expect((await target.call('GET', '/deletions/del-missing', { as: 'adminA' })).status).toBe(404);
  });
  it('409 while another operation on the user is waiting', async () => {
    await target.call('POST', '/transfers', { as: 'adminA', body: { userId: 'a2', destinationOrganizationId: 'C' } });
    const a = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a2' } });
    expect(a.status).toBe(409);
    expect(a.body.error.code).toBe('conflict');
  });
});

describe('operations on different users at the same time keep the rules', () => {
  const both = async (a: [string, string], b: [string, string]) => {
    const [x, y] = await Promise.all([
      target.call('POST', '/deletions', { as: a[0], body: { userId: a[1] } }),
      target.call('POST', '/deletions', { as: b[0], body: { userId: b[1] } }),
    ]);
    // follow each as whichever of the two callers is still active (one may have deleted the other)
    const follow = (id: string) =>
      eventually(async () => {
        for (const as of [a[0], b[0]]) {
          const seen = await target.call('GET', `/deletions/${id}`, { as });
          if (seen.status === 200) return seen.body.status === 'running' ? undefined : seen.body;
        }
        throw new Error(`nobody can read deletion ${id}`);
      });
    const finals = [];
    for (const started of [x, y]) finals.push(started.status === 202 ? await follow(started.body.id) : started.body);
    return finals;
  };

  // settled by the Apply that finalizes a small run, or (APPLY_WORK_PER_INVOCATION=2: several Apply invocations) by Finalize
  const SETTLED_BY = [
    ['Apply', undefined],
    ['Finalize', '2'],
  ] as const;

  it.each(SETTLED_BY)(
    'D4: both users of a direct chat deleted at once: the chat is deleted, not left frozen and empty (%s)',
    async (_, work) => {
      const finals = await withApplyWork(work, () => both(['adminA', 'a2'], ['adminB', 'b1']));
      expect(finals.map((f) => f.status)).toEqual(['succeeded', 'succeeded']);
      const w = await target.export();
      expect(ids(w.chats)).not.toContain('dm-a2-b1');
      expect(w.chats.filter((c: any) => c.members.length === 0)).toEqual([]);
    },
  );

  it.each(SETTLED_BY)(
    'G2: both administrators of a group deleted at once: the remaining member becomes administrator (%s)',
    async (_, work) => {
      const world = demoWorld();
      byId(world.chats, 'g-design').members.find((m: any) => m.userId === 'a3').role = 'admin';
      await target.load(world);
      await withApplyWork(work, () => both(['adminA', 'a2'], ['adminA', 'a3']));
      const w = await target.export();
      expect(byId(w.chats, 'g-design').members).toEqual([{ userId: 'b2', role: 'admin' }]);
    },
  );

  it.each(SETTLED_BY)(
    'D5, F2: the last two members of a group deleted at once: the group and a former member’s file are deleted, bytes too (%s)',
    async (_, work) => {
      const world = demoWorld();
      const design = byId(world.chats, 'g-design');
      design.members = design.members.filter((m: any) => m.userId !== 'b2'); // b2 left; its file stays in the chat
      await target.load(world);
      const stored = await target.objectKeys();
      const fileKey = stored.find((k) => k.includes('f-b2-design'));
      expect(fileKey).toBeDefined();
      const finals = await withApplyWork(work, () => both(['adminA', 'a2'], ['adminA', 'a3']));
      expect(finals.map((f) => f.status)).toEqual(['succeeded', 'succeeded']);
      const w = await target.export();
      expect(ids(w.chats)).not.toContain('g-design');
      expect(ids(w.files)).not.toContain('f-b2-design');
      expect(await target.objectKeys()).not.toContain(fileKey);
      expect(await target.check()).toEqual([]);
    },
  );

  it('D1: the last two administrators deleting each other at once: one of them remains', async () => {
    const world = demoWorld();
    byId(world.users, 'a1').orgAdmin = true;
    await target.load(world);
    const finals = await both(['adminA', 'a1'], ['a1', 'adminA']);
    const w = await target.export();
    const admins = w.users.filter((u: any) => u.organizationId === 'A' && u.orgAdmin && u.status === 'active');
    expect(admins.length).toBe(1);
    // refused at request (422) or, when both runs had started, by the run's own guard (failed, D1)
    const refused = finals.filter((f: any) => f.status === 'failed' || f.error?.code === 'ineligible');
    expect(refused.length).toBe(1);
    expect(refused[0].error.rule).toBe('D1');
  });
});
