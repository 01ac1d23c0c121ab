import { describe, expect, it } from 'vitest';
import { progressOf, type Exported } from '../../functions/services/progress.js';
import type { SummaryRow } from '../../functions/store/plans.js';
import { countPage } from '../../console/src/export-count.js';
import type { Effect, Names } from '../../console/src/api.js';

/** X4: the Export phase of an operation requested with `"export": true`, and the console's count of a preview's archive. */
const summary: SummaryRow[] = [
  { kind: 'user-deleted', rule: 'D2', count: 1 },
  { kind: 'file-deleted', rule: 'F2', count: 3 },
  { kind: 'chat-deleted', rule: 'D3', count: 1 },
];
const deletion = (status: string) => ({ operation: 'deletion' as const, status: status as 'running' });
const names = (p: ReturnType<typeof progressOf>) => p.phases.map((x) => [x.name, x.status]);

describe('X4: the Export phase in the progress', () => {
  it('X4: while the archive is written, Export runs first with its files and bytes, and every deleting phase waits', () => {
    const exported: Exported = { status: 'preparing', files: 1000, bytes: 64_000, toExport: { files: 2500, bytes: 160_000 } };
    const p = progressOf(deletion('running'), summary, {}, exported);
    expect(p.phases[0]).toEqual({
      name: 'Export',
      status: 'running',
      done: 1000,
      total: 2500,
      bytesDone: 64_000,
      bytesTotal: 160_000,
      verified: false,
    });
    // even phases with nothing to do wait: nothing is deleted before the archive is verified
    expect(names(p).slice(1)).toEqual(
      ['DeleteUser', 'HandleFiles', 'PruneContacts', 'LeaveChats', 'DeleteChats'].map((n) => [n, 'pending']),
    );
    // the overall counts are effects: the export's files are not among them
    expect([p.done, p.total]).toEqual([0, 5]);
  });

  it('X4: once verified, Export is done and the deletion goes on phase by phase', () => {
    const p = progressOf(
      deletion('running'),
      summary,
      { DeleteUser: 1 },
      { status: 'ready', files: 3, bytes: 192, toExport: { files: 3, bytes: 192 } },
    );
    expect(p.phases[0]).toMatchObject({ name: 'Export', status: 'done', done: 3, total: 3, verified: true });
    expect(names(p).slice(1, 3)).toEqual([
      ['DeleteUser', 'done'],
      ['HandleFiles', 'running'],
    ]);
  });

  it('X4: a run that failed at the export shows it not verified, and nothing after it done', () => {
    const p = progressOf(deletion('failed'), summary, {}, { status: 'preparing', files: 0, bytes: 0, toExport: { files: 3, bytes: 192 } });
    expect(p.phases[0]).toMatchObject({ name: 'Export', status: 'pending', done: 0, total: 3, verified: false });
    expect(p.phases.slice(1).every((x) => x.status === 'pending')).toBe(true);
  });

  it("X4: without an export there is no Export phase (the progress is today's)", () => {
    expect(progressOf(deletion('running'), summary).phases.map((x) => x.name)).toEqual([
      'DeleteUser',
      'HandleFiles',
      'PruneContacts',
      'LeaveChats',
      'DeleteChats',
    ]);
  });
});

describe('X4: what the preview says the archive would hold', () => {
  const effects: Effect[] = [
    { kind: 'chat-deleted', rule: 'D3', chatId: 'g1' },
    { kind: 'file-deleted', rule: 'F2', fileId: 'f-mine' },
    { kind: 'file-deleted', rule: 'F2', fileId: 'f-other-org' },
    { kind: 'file-deleted', rule: 'F2', fileId: 'f-handed-to-b' },
    { kind: 'file-deleted', rule: 'F2', fileId: 'f-handed-to-a' },
    { kind: 'file-deleted', rule: 'F2', fileId: 'f-gone' },
  ];
  const page: Names = {
    users: { a2: { displayName: 'Asuka', organizationId: 'A' }, b9: { displayName: 'Bunta', organizationId: 'B' } },
    files: {
      'f-mine': { name: 'a.txt', uploaderId: 'a2', size: 10 },
      'f-other-org': { name: 'b.txt', uploaderId: 'b9', size: 100 },
      'f-handed-to-b': { name: 'c.txt', uploaderId: 'a2', size: 1000, ownerOrganizationId: 'B' },
      'f-handed-to-a': { name: 'd.txt', uploaderId: 'b9', size: 10_000, ownerOrganizationId: 'A' },
    },
  };
  it("X4, F3: the organization's files only: its members' uploads no other organization owns, and those it owns; another organization's are absent", () => {
    expect(countPage(effects, page, 'A')).toEqual({ files: 2, bytes: 10_010 });
    expect(countPage(effects, page, 'B')).toEqual({ files: 2, bytes: 1100 });
  });
});
