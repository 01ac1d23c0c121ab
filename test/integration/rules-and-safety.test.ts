import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { recordRequests, takeRequestRecords } from '../../local/request-counts.js';
import { billingEvent, demoWorld, eventually, objectKey, openTarget, settle, withApplyWork, type Target } from './harness.js';

/** The rules' readings (RULES.md D4, F3, B3, X1) and the contract's id limits, each against the behaviour it corrects. */
let target: Target;
beforeAll(async () => {
  target = await openTarget();
}, 120_000);
afterAll(async () => target?.close());

const byId = (list: any[], id: string) => list.find((x) => x.id === id);

/** The demo world, plus: a direct chat a3–c1 holding only a file and a task (no text message). */
function world() {
  const w = demoWorld();
  w.chats.push({
    id: 'dm-a3-c1',
    type: 'direct',
    members: [
      { userId: 'a3', role: 'admin' },
      { userId: 'c1', role: 'admin' },
    ],
  });
  w.files.push({ id: 'f-c1-dm-a3', chatId: 'dm-a3-c1', uploaderId: 'c1', name: 'quote.pdf', size: 10, content: 'quote' });
  w.tasks.push({ id: 't-dm-a3-c1', chatId: 'dm-a3-c1', assigneeId: 'c1', requesterId: 'a3', body: 'send the quote' });
  w.contacts.push(['a3', 'c1']);
  return w;
}

describe('D4: files and tasks are posts', () => {
  beforeEach(async () => target.load(world()));
  it('D4: a direct chat holding only a file and a task is kept, frozen, with them (D6, F1), not deleted', async () => {
    const started = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a3' } });
    expect(started.status).toBe(202);
    expect(started.body.impact.effects).toContainEqual({ kind: 'chat-frozen', rule: 'D4', chatId: 'dm-a3-c1' });
    expect(started.body.impact.effects).not.toContainEqual(expect.objectContaining({ kind: 'chat-deleted', chatId: 'dm-a3-c1' }));
    expect((await settle(target, `/deletions/${started.body.id}`, 'adminA')).status).toBe('succeeded');
    const w = await target.export();
    expect(byId(w.chats, 'dm-a3-c1')).toMatchObject({ frozen: true, members: [{ userId: 'c1', role: 'admin' }] });
    expect(byId(w.files, 'f-c1-dm-a3')).toMatchObject({ stored: true });
    expect(byId(w.tasks, 't-dm-a3-c1')).toMatchObject({ requesterName: 'Arata Ando (cancelled)' });
  });
});

describe("F3: an organization's files are the ones it owns", () => {
  it('F3: files handed over to the cancelled organization go; files it handed over to another organization stay', async () => {
    const w = world();
    w.organizations.push({ id: 'X', name: 'Company X', plan: 'business', seats: 10 });
    w.users.push(
      { id: 'x1', name: 'Xavier One', organizationId: 'X', orgAdmin: true, apiToken: 'tok-x1' },
      { id: 'x2', name: 'Xena Two', organizationId: 'X', apiToken: 'tok-x2' },
      { id: 'x9', name: 'Xander Gone', organizationId: 'X', status: 'deleted', deletedAt: '2026-01-05T00:00:00Z', apiToken: null },
    );
    w.outsideAllowances = [...(w.outsideAllowances ?? []), ['A', 'X']];
    w.chats.push({
      id: 'g-ax',
      type: 'group',
      name: 'A and X',
      members: [
        { userId: 'a1', role: 'admin' },
        { userId: 'x2', role: 'member' },
      ],
    });
    // handed over to X (F1) by x9, deleted since: X's file
    w.files.push({
      id: 'f-owned-by-x',
      chatId: 'g-ax',
      uploaderId: 'x9',
      name: 'x-plan.md',
      size: 5,
      content: 'xplan',
      ownerOrganizationId: 'X',
    });
    // handed over to A by x2 when x2 still was in A: A's file, whatever happens to X
    w.files.push({
      id: 'f-owned-by-a',
      chatId: 'g-ax',
      uploaderId: 'x2',
      name: 'a-plan.md',
      size: 5,
      content: 'aplan',
      ownerOrganizationId: 'A',
    });
    // x2's own upload, owned by nobody else: X's (F3)
    w.files.push({ id: 'f-x2', chatId: 'g-ax', uploaderId: 'x2', name: 'notes.md', size: 5, content: 'notes' });
    await target.load(w);
    const { eventId } = await target.billing(billingEvent('Contract Cancelled', { organizationId: 'X' }));
    const token = await target.operator.token();
    const run = await eventually(async () => {
      const a = await target.call('GET', `/billing-runs/b1-${eventId}`, { token });
      return a.status === 200 && a.body.status !== 'running' ? a.body : undefined;
    });
    expect(run).toMatchObject({ status: 'succeeded', failed: 0 });
    const after = await target.export();
    expect(byId(after.files, 'f-owned-by-x')).toBeUndefined();
    expect(byId(after.files, 'f-x2')).toBeUndefined();
    expect(byId(after.files, 'f-owned-by-a')).toMatchObject({ ownerOrganizationId: 'A', stored: true });
    const keys = await target.objectKeys();
    expect(keys).toContain('chats/g-ax/files/f-owned-by-a');
    expect(keys).not.toContain('chats/g-ax/files/f-owned-by-x');
    expect(keys).not.toContain('chats/g-ax/files/f-x2');
    // X2: which run deleted which file, by id
    const trail = await target.call('GET', `/operations/b1-${eventId}/audit`, { token });
    expect(trail.status).toBe(200);
    expect(trail.body.entries).toContainEqual(
      expect.objectContaining({ event: 'owned-files-deleted', rule: 'F3', files: ['f-owned-by-x'] }),
    );
    expect(trail.body.entries.find((e: any) => e.event === 'batch-deleted').filesDeleted).toContain('f-x2');
  });
});

describe('B3: transfers not yet running', () => {
  beforeEach(async () => target.load(world()));
  it('B3: a transfer awaiting approval that T1 now forbids is cancelled citing T1, and its lock released', async () => {
    const requested = await target.call('POST', '/transfers', { as: 'adminA', body: { userId: 'a1', destinationOrganizationId: 'C' } });
    expect(requested.body.status).toBe('awaiting-approval');
    await target.billing(billingEvent('Plan Changed', { organizationId: 'C', plan: 'free' }));
    const cancelled = await eventually(async () => {
      const a = await target.call('GET', `/transfers/${requested.body.id}`, { as: 'adminA' });
      return a.body.status === 'cancelled' ? a.body : undefined;
    });
    expect(cancelled.error).toMatchObject({ rule: 'T1' });
    const trail = (await target.call('GET', `/operations/${requested.body.id}/audit`, { as: 'adminA' })).body.entries;
    expect(trail).toContainEqual(
      expect.objectContaining({
        event: 'cancelled',
        by: 'system',
        rule: 'T1',
        organizationId: 'C',
        plan: 'free',
        eventId: expect.any(String),
      }),
    ); // X2
    const deletion = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a1' } }); // the lock is free
    expect(deletion.status).toBe(202);
  });
});

describe('X1: a saved preview runs as previewed, or not at all', () => {
  beforeEach(async () => target.load(world()));
  it('X1: requested with an unchanged saved preview, the deletion runs exactly that plan', async () => {
    const preview = (await target.call('POST', '/previews', { as: 'adminA', body: { operation: 'deletion', userId: 'a2' } })).body;
    const started = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a2', previewId: preview.id } });
    expect(started.status).toBe(202);
    const final = await settle(target, `/deletions/${started.body.id}`, 'adminA');
    const { id, expiresAt, ...previewed } = preview;
    expect(final).toMatchObject({ status: 'succeeded', impact: previewed });
  });

  // the request's own reads are seen only where its functions run in this process
  it.skipIf(process.env.OFFBOARD_TARGET === 'stack')(
    "X1: a saved preview that still holds is the request's plan: the request reads none of what the preview read, and runs it",
    async () => {
      // the user's chats, files and assigned tasks are read through the index (GSI1): a plan reads them, a taken one not
      const indexQueries = (entry: string) =>
        takeRequestRecords().filter((r) => r.invocation?.fn.entry === entry && r.op === 'Query' && r.index).length;
      recordRequests(true);
      try {
        const preview = (await target.call('POST', '/previews', { as: 'adminA', body: { operation: 'deletion', userId: 'a2' } })).body;
        expect(indexQueries('functions/handlers/api/previews.ts')).toBeGreaterThanOrEqual(3); // the check below can fail
        const started = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a2', previewId: preview.id } });
        expect(started.status, JSON.stringify(started.body)).toBe(202);
        expect(indexQueries('functions/handlers/api/deletions.ts')).toBe(0);
        const final = await settle(target, `/deletions/${started.body.id}`, 'adminA');
        const { id, expiresAt, ...previewed } = preview;
        expect(final).toMatchObject({ status: 'succeeded', impact: previewed });
        const trail = (await target.call('GET', `/operations/${started.body.id}/audit`, { as: 'adminA' })).body.entries; // X2
        expect(trail).toContainEqual(expect.objectContaining({ event: 'requested', by: 'adminA', rule: 'D1', previewId: preview.id }));
        expect(await target.check()).toEqual([]);
      } finally {
        recordRequests(false);
      }
    },
  );

  it("X1, F2, F3: a preview is stale once a file it deletes is deleted by its owner's contract cancellation: the request answers 409", async () => {
    // f-solo-d1 was handed over to D (F1) in g-solo, where a2 is alone: a2's deletion deletes g-solo and it (D3, F2);
    // D's cancellation deletes it as D's (F3). Nothing else of a2's plan is D's: the preview names D for the file's sake
    const w = world();
    w.files.push({ id: 'f-solo-d1', chatId: 'g-solo', uploaderId: 'd1', name: 'kept.txt', size: 8, ownerOrganizationId: 'D' });
    await target.load(w);
    const preview = (await target.call('POST', '/previews', { as: 'adminA', body: { operation: 'deletion', userId: 'a2' } })).body;
    expect(preview.effects).toContainEqual(expect.objectContaining({ kind: 'file-deleted', rule: 'F2', fileId: 'f-solo-d1' }));
    const { eventId } = await target.billing(billingEvent('Contract Cancelled', { organizationId: 'D' }));
    const token = await target.operator.token();
    const run = await eventually(async () => {
      const r = await target.call('GET', `/billing-runs/b1-${eventId}`, { token });
      return r.status === 200 && ['succeeded', 'failed', 'awaiting-confirmation'].includes(r.body.status) ? r.body : undefined;
    });
    if (run.status === 'awaiting-confirmation') await target.call('POST', `/billing-runs/b1-${eventId}/confirmation`, { token });
    await eventually(async () => {
      const r = await target.call('GET', `/billing-runs/b1-${eventId}`, { token });
      return r.body.status === 'succeeded' ? r.body : undefined;
    });
    expect((await target.export()).files.map((f: any) => f.id)).not.toContain('f-solo-d1');
    const before = await target.export();
    const refused = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a2', previewId: preview.id } });
    expect(refused.status, JSON.stringify(refused.body)).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'impact-changed', rule: 'X1' });
    expect(await target.export()).toEqual(before);
  });

  it('X1: when the data changed since the preview, the request answers 409 impact-changed and nothing changes', async () => {
    const preview = (await target.call('POST', '/previews', { as: 'adminA', body: { operation: 'deletion', userId: 'a2' } })).body;
    const other = await target.call('POST', '/deletions', { as: 'adminB', body: { userId: 'b1' } }); // a2's direct chat with b1 now goes (D4)
    await settle(target, `/deletions/${other.body.id}`, 'adminB');
    const before = await target.export();
    const refused = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a2', previewId: preview.id } });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'impact-changed', rule: 'X1' });
    expect(await target.export()).toEqual(before);
    const trail = (await target.call('GET', `/operations/${preview.id}/audit`, { as: 'adminA' })).body.entries; // X2
    expect(trail).toContainEqual(
      expect.objectContaining({ event: 'refused', by: 'adminA', code: 'impact-changed', rule: 'X1', userId: 'a2' }),
    );
    const again = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a2' } }); // not locked by the refusal
    expect(again.status).toBe(202);
  });

  it('X1: a transfer whose saved preview went stale before its run started ends failed with impact-changed, nothing changed', async () => {
    const preview = (
      await target.call('POST', '/previews', {
        as: 'adminA',
        body: { operation: 'transfer', userId: 'a3', destinationOrganizationId: 'D' },
      })
    ).body;
    const requested = await target.call('POST', '/transfers', {
      as: 'adminA',
      body: { userId: 'a3', destinationOrganizationId: 'D', previewId: preview.id },
    });
    expect(requested.status).toBe(201);
    const approved = await target.call('POST', `/transfers/${requested.body.id}/approval`, { as: 'adminD' });
    expect(approved.body.status).toBe('awaiting-seat'); // D is full (T4)
    const other = await target.call('POST', '/deletions', { as: 'adminB', body: { userId: 'b1' } }); // a3's contact with b1 (T7) goes by itself
    await settle(target, `/deletions/${other.body.id}`, 'adminB');
    const before = await target.export();
    await target.billing(billingEvent('Seats Changed', { organizationId: 'D', seats: 5 }));
    const final = await eventually(async () => {
      const a = await target.call('GET', `/transfers/${requested.body.id}`, { as: 'adminA' });
      return ['failed', 'succeeded'].includes(a.body.status) ? a.body : undefined;
    });
    expect(final.status).toBe('failed');
    expect(final.error).toMatchObject({ code: 'impact-changed', rule: 'X1' });
    const after = await target.export();
    after.organizations = before.organizations; // the seat event itself changed D's seats
    expect(after).toEqual(before);
  });

  it('X1: a preview of another operation is refused 400 naming previewId; an unknown one 404', async () => {
    const preview = (await target.call('POST', '/previews', { as: 'adminA', body: { operation: 'deletion', userId: 'a2' } })).body;
    const wrong = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a3', previewId: preview.id } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.path).toBe('previewId');
    expect((await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a3', previewId: 'pv-nope' } })).status).toBe(404);
    expect((await target.call('GET', '/previews/pv-nope', { as: 'adminA' })).status).toBe(404);
  });
});

describe('ids of 1 to 256 characters (CONTRACT.md)', () => {
  beforeEach(async () => target.load(world()));
  it('a longer id in a body or a path answers 400 naming it; a malformed escape answers 400; nothing changes', async () => {
    const before = await target.export();
    const long = 'x'.repeat(2000);
    const body = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: long } });
    expect(body.status).toBe(400);
    expect(body.body.error.path).toBe('userId');
    const transfer = await target.call('POST', '/transfers', { as: 'adminA', body: { userId: 'a1', destinationOrganizationId: long } });
    expect(transfer.body.error.path).toBe('destinationOrganizationId');
    const path = await target.call('GET', `/deletions/${'y'.repeat(300)}`, { as: 'adminA' });
    expect(path.status).toBe(400);
    expect(path.body.error.path).toBe('id');
    expect((await target.call('GET', '/deletions/%ZZ', { as: 'adminA' })).status).toBe(400);
    expect((await target.call('GET', '/transfers/%E0%A4%A/effects', { as: 'adminA' })).status).toBe(400);
    expect(await target.export()).toEqual(before);
  });
  it('a world with a 257-character id is refused naming its path, and nothing changes', async () => {
    const w = world();
    w.users[1].id = 'u'.repeat(257);
    const refused = await target.tryLoad(w);
    expect(refused).toMatchObject({ ok: false, path: '/users/1/id' });
  });
});

describe('B2, T4: seats that free up', () => {
  beforeEach(async () => target.load(world()));
  const waitFor = (id: string, statuses: string[]) =>
    eventually(async () => {
      const a = await target.call('GET', `/transfers/${id}`, { as: 'adminA' });
      return statuses.includes(a.body.status) ? a.body : undefined;
    });

  it.each([
    ['the Apply that finalizes it', undefined],
    ['Finalize (the deletion in several Apply invocations)', '2'],
  ] as const)(
    'T4, B2: a seat freed by a deletion resumes the transfer waiting longest there, with no billing event: %s',
    async (_, work) => {
      const t = await target.call('POST', '/transfers', { as: 'adminA', body: { userId: 'a3', destinationOrganizationId: 'D' } });
      expect((await target.call('POST', `/transfers/${t.body.id}/approval`, { as: 'adminD' })).body.status).toBe('awaiting-seat');
      await withApplyWork(work, async () => {
        const d = await target.call('POST', '/deletions', { as: 'adminD', body: { userId: 'd1' } });
        expect((await settle(target, `/deletions/${d.body.id}`, 'adminD')).status).toBe('succeeded');
      });
      expect((await waitFor(t.body.id, ['succeeded', 'failed'])).status).toBe('succeeded');
      expect(byId((await target.export()).users, 'a3').organizationId).toBe('D');
    },
  );

  it('B2: a waiting transfer that may no longer run is cancelled citing its rule, and its seat goes to the next one waiting', async () => {
    if (!target.canInjectFaults) return; // makes a3 an administrator behind the API's back: the embedded stack only
    const first = await target.call('POST', '/transfers', { as: 'adminA', body: { userId: 'a3', destinationOrganizationId: 'D' } });
    await target.call('POST', `/transfers/${first.body.id}/approval`, { as: 'adminD' });
    const second = await target.call('POST', '/transfers', { as: 'adminA', body: { userId: 'a1', destinationOrganizationId: 'D' } });
    await target.call('POST', `/transfers/${second.body.id}/approval`, { as: 'adminD' });
    const { ddb } = await import('../../functions/store/clients.js');
    const { UpdateCommand } = await import('@aws-sdk/lib-dynamodb');
    const { keys } = await import('../../functions/store/keys.js');
    const { tableName } = await import('../../functions/store/table.js');
    await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: keys.user('a3'),
        UpdateExpression: 'SET orgAdmin = :t',
        ExpressionAttributeValues: { ':t': true },
      }),
    ); // T5 now refuses a3
    await target.billing(billingEvent('Seats Changed', { organizationId: 'D', seats: 4 })); // one seat
    const cancelled = await waitFor(first.body.id, ['cancelled', 'succeeded', 'failed']);
    expect(cancelled).toMatchObject({ status: 'cancelled', error: { rule: 'T5' } });
    expect((await waitFor(second.body.id, ['succeeded', 'failed'])).status).toBe('succeeded');
  });
});

describe('O4: no two ids share a key', () => {
  /** The demo world plus two chats and two files of two users whose bucket paths were the same (`chats/k/files/x/files/y`). */
  function collidingWorld(extra: (w: any) => void = () => {}) {
    const w = world();
    w.chats.push(
      { id: 'k', type: 'group', name: 'k', members: [{ userId: 'a2', role: 'admin' }] }, // a2 alone: deleted (D3, F2)
      {
        id: 'k/files/x',
        type: 'group',
        name: 'k/files/x',
        members: [
          { userId: 'c1', role: 'admin' },
          { userId: 'adminC', role: 'member' },
        ],
      },
    );
    w.files.push(
      { id: 'x/files/y', chatId: 'k', uploaderId: 'a2', name: 'a2.txt', size: 7, content: 'a2 only' },
      { id: 'y', chatId: 'k/files/x', uploaderId: 'c1', name: 'c1.txt', size: 7, content: 'c1 keep' },
    );
    extra(w);
    return w;
  }
  const file = (w: any, id: string, chatId: string) => w.files.find((f: any) => f.id === id && f.chatId === chatId);
  async function deleteA2() {
    const started = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a2' } });
    expect(started.status).toBe(202);
    expect(started.body.impact.effects).toContainEqual(expect.objectContaining({ kind: 'chat-deleted', chatId: 'k' }));
    expect((await settle(target, `/deletions/${started.body.id}`, 'adminA')).status).toBe('succeeded');
  }

  it('O4: deleting a2 deletes its file in chat k, never the bytes of c1\u2019s file in chat k/files/x (the same bucket path before)', async () => {
    await target.load(collidingWorld());
    await deleteA2();
    const after = await target.export();
    expect(after.files.filter((f: any) => f.chatId === 'k')).toEqual([]);
    expect(file(after, 'y', 'k/files/x')).toMatchObject({ uploaderId: 'c1', stored: true }); // F4 deletes only a2's bytes
    const keys = await target.objectKeys();
    expect(keys).toContain(objectKey('k/files/x', 'y'));
    expect(keys).not.toContain(objectKey('k', 'x/files/y'));
    expect(await target.check()).toEqual([]);
  });

  it('O4: ids of 256 four-byte characters make keys that fit DynamoDB and S3: loaded, deleted with their user, kept with theirs', async () => {
    const [wide, wide2] = ['\u{1F600}'.repeat(256), '\u{1F601}'.repeat(256)]; // 1,024 bytes each as UTF-8
    await target.load(
      collidingWorld((w) => {
        w.chats.push({ id: wide, type: 'group', name: 'wide', members: [{ userId: 'c1', role: 'admin' }] });
        w.files.push(
          { id: wide, chatId: 'k', uploaderId: 'a2', name: 'a2-wide.txt', size: 4, content: 'wide' },
          { id: wide2, chatId: wide, uploaderId: 'c1', name: 'c1-wide.txt', size: 4, content: 'wide' },
        );
      }),
    );
    const before = await target.export();
    expect(file(before, wide, 'k')).toMatchObject({ stored: true });
    expect(file(before, wide2, wide)).toMatchObject({ stored: true });
    await deleteA2();
    const after = await target.export();
    expect(file(after, wide, 'k')).toBeUndefined();
    expect(file(after, wide2, wide)).toMatchObject({ uploaderId: 'c1', stored: true });
    expect(await target.objectKeys()).toContain(objectKey(wide, wide2));
    expect(await target.check()).toEqual([]);
  });

  it('O4: a user whose id is 256 four-byte characters is listed, paged past and deleted through the API', async () => {
    const wide = '\u{1F602}'.repeat(256);
    await target.load(
      collidingWorld((w) => {
        w.users.push({ id: wide, name: 'Wide Id', organizationId: 'A', apiToken: 'tok-wide' });
        w.chats.push({ id: `my-${wide.slice(0, 200)}`, type: 'my', members: [{ userId: wide, role: 'admin' }] });
      }),
    );
    const listed: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await target.call('GET', `/organizations/A/members?limit=1${cursor ? `&cursor=${cursor}` : ''}`, { as: 'adminA' });
      expect(page.status, JSON.stringify(page.body)).toBe(200);
      listed.push(...page.body.members.map((m: any) => m.userId));
      cursor = page.body.nextCursor;
    } while (cursor && listed.length < 20);
    expect(listed.sort()).toEqual(['a1', 'a2', 'a3', 'adminA', 'old1', wide].sort());
    const started = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: wide } });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    expect((await settle(target, `/deletions/${started.body.id}`, 'adminA')).status).toBe('succeeded');
    const after = await target.export();
    expect(after.users.find((u: any) => u.id === wide)).toMatchObject({ status: 'deleted', displayName: 'Wide Id (cancelled)' });
    expect(after.chats.find((c: any) => c.id === `my-${wide.slice(0, 200)}`)).toBeUndefined(); // D3
    expect(await target.check()).toEqual([]);
  });
});
