import { createHash } from 'node:crypto';
import yauzl from 'yauzl';
import { describe, expect, it } from 'vitest';
import { byId, demoWorld, ids, objectKey, settle, type Target, useTarget } from './harness.js';

/**
 * X4 beyond: export before deletion. The deletion article tells administrators to sign in as the user and download
 * the files before deleting; `"export": true` does it: an archive of the organization's files the plan deletes,
 * verified before anything is deleted, downloadable by an administrator for 7 days, then gone.
 */
const onDeployedStack = process.env.OFFBOARD_TARGET === 'stack';
const DAY_MS = 24 * 3600 * 1000;

let target: Target;
useTarget((t) => (target = t));

/** The demo world, with known bytes, and a group a2 shares only with a deleted user of B (deleted under D3 with both files, F2). */
function exportWorld() {
  const w = demoWorld();
  byId(w.files, 'f-a2-solo').content = 'the solo plan, version 3\n';
  byId(w.files, 'f-a2-dm-b1').content = 'notes for b1 ✓\n';
  w.users.push({
    ...byId(w.users, 'b1'),
    id: 'b9',
    name: 'Bunta Gone',
    status: 'deleted',
    deletedAt: '2025-05-01T00:00:00Z',
    apiToken: null,
  });
  w.chats.push({
    id: 'g-gone',
    type: 'group',
    name: 'Gone: A+B',
    frozen: false,
    members: [
      { userId: 'a2', role: 'admin' },
      { userId: 'b9', role: 'member' },
    ],
  });
  w.files.push({ id: 'f-a2-gone', chatId: 'g-gone', uploaderId: 'a2', name: 'budget.xlsx', content: 'a2 budget' });
  w.files.push({ id: 'f-b9-gone', chatId: 'g-gone', uploaderId: 'b9', name: 'b-secret.txt', content: 'company B only' });
  return w;
}

/** Every entry of a zip, by name. */
function unzip(zip: Buffer): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true }, (e, z) => {
      if (e || !z) return reject(e);
      const out = new Map<string, Buffer>();
      z.on('entry', (entry: yauzl.Entry) =>
        z.openReadStream(entry, (err, s) => {
          if (err || !s) return reject(err);
          const chunks: Buffer[] = [];
          s.on('data', (c: Buffer) => chunks.push(c));
          s.on('end', () => (out.set(entry.fileName, Buffer.concat(chunks)), z.readEntry()));
        }),
      );
      z.on('end', () => resolve(out));
      z.readEntry();
    });
  });
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe.skipIf(onDeployedStack)('X4: export before deletion', () => {
  let deletionId: string;
  let url: string;

  it("X4, F3: the archive holds the organization's files the deletion deletes, each checked byte for byte; another organization's files are absent; written before the first deletion", async () => {
    const world = exportWorld();
    await target.load(world);
    const started = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a2', export: true } });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    expect(started.body.export).toBe(true);
    deletionId = started.body.id;
    const final = await settle(target, `/deletions/${deletionId}`, 'adminA');
    expect(final.status, JSON.stringify(final.error)).toBe('succeeded');
    // the files are gone from the world (F2, F1) ...
    const after = await target.export();
    for (const id of ['f-a2-solo', 'f-a2-dm-b1', 'f-a2-gone', 'f-b9-gone']) expect(ids(after.files)).not.toContain(id);

    const answer = await target.call('GET', `/deletions/${deletionId}/export`, { as: 'adminA' });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body).toMatchObject({ status: 'ready', files: 3 });
    // the Export phase comes first in the progress, with its files and bytes, verified
    const bytes = ['f-a2-dm-b1', 'f-a2-gone', 'f-a2-solo'].reduce((n, id) => n + Buffer.byteLength(byId(world.files, id).content), 0);
    expect(answer.body.bytes).toBe(bytes);
    expect(final.progress.phases[0]).toEqual({
      name: 'Export',
      status: 'done',
      done: 3,
      total: 3,
      bytesDone: bytes,
      bytesTotal: bytes,
      verified: true,
    });
    expect(final.progress.phases.slice(1).map((p: any) => p.name)).toEqual([
      'DeleteUser',
      'HandleFiles',
      'PruneContacts',
      'LeaveChats',
      'DeleteChats',
    ]);
    expect(Date.parse(answer.body.expiresAt) - Date.parse(final.updatedAt)).toBeLessThanOrEqual(7 * DAY_MS);
    url = answer.body.url;
    const zip = Buffer.from(await (await fetch(url)).arrayBuffer());
    const entries = await unzip(zip);
    const manifest = JSON.parse(entries.get('manifest.json')!.toString('utf8'));
    // ... and in the archive, each with the bytes it had before the deletion
    const expected = ['f-a2-dm-b1', 'f-a2-gone', 'f-a2-solo'].map((id) => byId(world.files, id));
    expect(manifest.files.map((m: any) => m.fileId).sort()).toEqual(expected.map((f) => f.id));
    for (const f of expected) {
      const m = manifest.files.find((x: any) => x.fileId === f.id);
      const chat = byId(world.chats, f.chatId);
      expect(m).toMatchObject({
        name: f.name,
        chatId: f.chatId,
        chatName: chat.name ?? '',
        uploaderId: 'a2',
        uploaderName: 'Asuka Aoki',
        size: Buffer.byteLength(f.content),
        sha256: sha256(f.content),
      });
      expect(entries.get(m.path)?.toString('utf8'), m.path).toBe(f.content);
    }
    // readable names: chat name / file name
    expect(manifest.files.find((m: any) => m.fileId === 'f-a2-solo').path).toBe(
      `${byId(world.chats, 'g-solo').name}/${byId(world.files, 'f-a2-solo').name}`,
    );
    // another organization's user's file of the same deleted chat is not in it, under any name
    expect([...entries.values()].some((b) => b.toString('utf8').includes('company B only'))).toBe(false);
    expect(entries.size).toBe(4);

    const audit = (await target.call('GET', `/operations/${deletionId}/audit`, { as: 'adminA' })).body.entries;
    const events = audit.map((e: any) => e.event);
    expect(events.indexOf('export-created')).toBeGreaterThan(-1);
    expect(events.indexOf('export-created')).toBeLessThan(events.indexOf('applied')); // X4: before the first deletion
    expect(audit.filter((e: any) => e.event === 'export-downloaded')).toEqual([expect.objectContaining({ by: 'adminA', rule: 'X4' })]);
  });

  it('X4: only an administrator of the organization gets the link; an operation without export answers 404', async () => {
    expect((await target.call('GET', `/deletions/${deletionId}/export`, { as: 'adminB' })).status).toBe(403);
    expect((await target.call('GET', `/deletions/${deletionId}/export`, { as: 'a1' })).status).toBe(403);
    const plain = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a3' } });
    await settle(target, `/deletions/${plain.body.id}`, 'adminA');
    expect((await target.call('GET', `/deletions/${plain.body.id}/export`, { as: 'adminA' })).status).toBe(404);
  });

  it('X4, F4: after 7 days the archive is gone from storage, the export answers expired without a link, and the expiry is in the audit trail', async () => {
    expect((await fetch(url)).status).toBe(200);
    await target.clock({ advanceMs: 7 * DAY_MS + 60_000 });
    expect((await fetch(url)).status).toBe(404); // the lifecycle rule deleted it
    const answer = await target.call('GET', `/deletions/${deletionId}/export`, { as: 'adminA' });
    expect(answer.body).toMatchObject({ status: 'expired', files: 3 });
    expect(answer.body.url).toBeUndefined();
    await target.call('GET', `/deletions/${deletionId}/export`, { as: 'adminA' });
    const audit = (await target.call('GET', `/operations/${deletionId}/audit`, { as: 'adminA' })).body.entries;
    expect(audit.filter((e: any) => e.event === 'export-expired')).toHaveLength(1);
  });

  it("X3, X4 together (docs/http-api.md): with a1 as successor only what is still deleted is exported: a2's file in the direct chat with b1", async () => {
    await target.load(demoWorld());
    const started = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a2', successorId: 'a1', export: true } });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    expect((await settle(target, `/deletions/${started.body.id}`, 'adminA')).status).toBe('succeeded');
    const answer = (await target.call('GET', `/deletions/${started.body.id}/export`, { as: 'adminA' })).body;
    expect(answer).toMatchObject({ status: 'ready', files: 1, bytes: byId(demoWorld().files, 'f-a2-dm-b1').size });
    const manifest = JSON.parse(
      (await unzip(Buffer.from(await (await fetch(answer.url)).arrayBuffer()))).get('manifest.json')!.toString('utf8'),
    );
    expect(manifest.files.map((m: any) => m.fileId)).toEqual(['f-a2-dm-b1']);
  });

  it("X4, O1: an archive that does not verify against its manifest (a file's bytes changed in S3 since the table recorded them) fails the operation with rule X4, and nothing is deleted", async () => {
    const world = exportWorld();
    await target.load(world);
    // f-a2-solo's object now holds other bytes than the 25 its record (and so the manifest) says: read once into the
    // archive, its entry there has another size than the manifest's, and the part does not verify
    const solo = byId(world.files, 'f-a2-solo');
    await target.putObject(objectKey(solo.chatId, solo.id), "changed behind the table's back: a longer text than before\n");
    const before = await target.export();
    const keysBefore = await target.objectKeys();
    const started = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a2', export: true } });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const final = await settle(target, `/deletions/${started.body.id}`, 'adminA');
    expect(final.status).toBe('failed');
    expect(final.error).toMatchObject({ code: 'ExportUnverified', rule: 'X4' });
    expect(final.error.message).toContain('f-a2-solo');
    // nothing deleted: the user, chats, files (records and bytes), contacts and tasks are as they were
    const after = await target.export();
    expect(byId(after.users, 'a2')).toMatchObject({ status: 'active' });
    for (const list of ['users', 'chats', 'files', 'contacts', 'tasks', 'messages']) expect(after[list], list).toEqual(before[list]);
    expect(await target.objectKeys()).toEqual(expect.arrayContaining(keysBefore));
    for (const id of ['f-a2-solo', 'f-a2-dm-b1', 'f-a2-gone', 'f-b9-gone'])
      expect(byId(after.files, id), id).toMatchObject({ stored: true });
    // the export never became ready (no link), the Export phase is not verified, and no effect was applied
    expect((await target.call('GET', `/deletions/${started.body.id}/export`, { as: 'adminA' })).body).toMatchObject({
      status: 'preparing',
    });
    expect(final.progress.phases[0]).toMatchObject({ name: 'Export', status: 'pending', verified: false });
    expect(final.progress.done).toBe(0);
    const events = (await target.call('GET', `/operations/${started.body.id}/audit`, { as: 'adminA' })).body.entries.map(
      (e: any) => e.event,
    );
    expect(events).not.toContain('applied');
    expect(events).not.toContain('export-created');
  });

  it("X4: a file larger than the verification's read block (8 MiB) and small files around it are written, read back and verified", async () => {
    const world = demoWorld();
    const big = 9 * 1024 * 1024 + 17;
    world.files.push({ id: 'f-a2-big', chatId: 'g-solo', uploaderId: 'a2', name: 'video.mp4', size: big });
    await target.load(world);
    const started = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a2', export: true } });
    const final = await settle(target, `/deletions/${started.body.id}`, 'adminA');
    expect(final.status, JSON.stringify(final.error)).toBe('succeeded');
    const answer = (await target.call('GET', `/deletions/${started.body.id}/export`, { as: 'adminA' })).body;
    const small = ['f-a2-dm-b1', 'f-a2-solo']
      .map((id) => byId(world.files, id))
      .reduce((n, f) => n + (f.content !== undefined ? Buffer.byteLength(f.content) : f.size), 0);
    expect(answer).toMatchObject({ status: 'ready', files: 3, bytes: big + small });
    const entries = await unzip(Buffer.from(await (await fetch(answer.url)).arrayBuffer()));
    const manifest = JSON.parse(entries.get('manifest.json')!.toString('utf8'));
    const m = manifest.files.find((x: any) => x.fileId === 'f-a2-big');
    expect(entries.get(m.path)?.length).toBe(big);
    expect(sha256(entries.get(m.path)!)).toBe(m.sha256);
  });
});
