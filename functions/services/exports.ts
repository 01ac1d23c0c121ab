import { successorOrganizationOf } from '../domain/lifecycle/operation.js';
import type { Operation } from '../domain/impact.js';
import { now, nowMs } from '../shared/clock.js';
import { NotFound } from '../shared/errors.js';
import {
  organizationsFiles,
  partStored,
  readExport,
  readParts,
  recordPart,
  setExportStatus,
  setToExport,
  startExport,
  downloadUrl,
  verifyArchivePart,
  writeArchivePart,
  type ExportFile,
} from '../store/exports.js';
import { audit, getOperation } from '../store/operations.js';
import { pagesWith, readPlanHeader, readPlanPages, type PlanEntry, type PlanHeader } from '../store/plans.js';
import { callerUser, readableOperation, requireAdminOf } from './access.js';
import { PAGES_PER_INVOCATION } from './phases.js';

/**
 * X4: an operation requested with `"export": true` copies the organization's files its plan deletes into an archive
 * before anything is deleted (the ExportFiles step runs before the first effect), verifies it, and only then goes on.
 * At any size in bounded invocations: each invocation writes one archive part of at most FILES_PER_PART files and
 * about BYTES_PER_PART bytes (a multipart upload), so a user with 100,000 files is exported in 100 invocations or
 * more, each of bounded time and memory; the parts are listed in the export and each carries its own manifest.
 */
export const FILES_PER_PART = 1000;
export const BYTES_PER_PART = 2 * 1024 ** 3;
/** X4: the archive is kept 7 days (the export bucket's lifecycle rule deletes it then). */
export const EXPORT_DAYS = 7;
/** A download link is valid this long. */
export const LINK_SECONDS = 300;

export class ExportUnverified extends Error {
  override name = 'ExportUnverified';
}

export interface ExportCursor {
  page: number;
  index?: number;
  part?: number;
}

/** The ExportFiles step: one part per invocation; a cursor while the plan has more files. Nothing when not requested. */
export async function exportFiles(operationId: string, cursor?: ExportCursor): Promise<ExportCursor | undefined> {
  const op = await getOperation(operationId);
  if (!op?.export) return undefined;
  if (!op.planId) throw new Error(`operation ${operationId} has no stored plan`);
  // O1: the export changes nothing in the world; the first step that does (ApplyMembership, DeleteUser) checks the premises
  const organizationId = successorOrganizationOf(op);
  const header = await readPlanHeader(op.planId);
  if (!header) throw new Error(`plan ${op.planId} of operation ${operationId} is missing`);
  await startExport({ operationId, organizationId, status: 'preparing', files: 0, bytes: 0, parts: 0, createdAt: now() });
  const existing = await readExport(operationId);
  if (existing?.status !== 'preparing') return undefined; // finished by an earlier attempt

  // up to FILES_PER_PART deleted files of the plan, from the cursor on
  const pages = pagesWith(header, ['file-deleted'], cursor?.page ?? 0);
  const take: { entry: PlanEntry; page: number; index: number }[] = [];
  let next: ExportCursor | undefined;
  scan: for (let k = 0; k < pages.length; k += PAGES_PER_INVOCATION) {
    const read = await readPlanPages(op.planId, pages.slice(k, k + PAGES_PER_INVOCATION));
    for (let j = 0; j < read.length; j++) {
      const page = pages[k + j]!;
      const entries = read[j]!.filter((e) => e.effect.kind === 'file-deleted');
      for (let index = page === cursor?.page ? (cursor.index ?? 0) : 0; index < entries.length; index++) {
        if (take.length >= FILES_PER_PART) {
          next = { page, index };
          break scan;
        }
        take.push({ entry: entries[index]!, page, index });
      }
    }
  }
  const found = await organizationsFiles(
    take.map((t) => t.entry),
    organizationId,
  );
  // the Export phase's totals (services/progress.ts): counted once, from what this invocation read already when it
  // holds every file (at no extra request); a larger export counts the rest of the plan's pages once
  if (!cursor && !existing.toExport) await setToExport(operationId, await countToExport(op.planId, header, found, next, organizationId));
  // about BYTES_PER_PART bytes a part (at least one file): the rest goes to the next part
  const files: ExportFile[] = [];
  let bytes = 0;
  for (const f of found) {
    if (files.length > 0 && bytes + f.size > BYTES_PER_PART) {
      const at = take.find((t) => (t.entry.effect as { fileId: string }).fileId === f.fileId)!;
      next = { page: at.page, index: at.index };
      break;
    }
    files.push(f);
    bytes += f.size;
  }
  const part = cursor?.part ?? 1;
  if (files.length > 0 || (part === 1 && !next)) {
    const manifest = await writeArchivePart(operationId, part, files, {
      operationId,
      operation: op.operation,
      userId: op.userId,
      organizationId,
      rule: 'X4',
    });
    const problem = await verifyArchivePart(operationId, part, manifest);
    if (problem)
      throw new ExportUnverified(`X4: archive part ${part} of ${operationId} does not match its manifest (${problem}); nothing is deleted`);
    await recordPart(
      operationId,
      part,
      manifest.filter((m) => m.sha256).length,
      manifest.reduce((n, m) => n + (m.sha256 ? m.size : 0), 0),
    );
    if (next) return { ...next, part: part + 1 };
  } else if (next) {
    return { ...next, part };
  }
  const parts = await readParts(operationId);
  const totals = { files: parts.reduce((n, p) => n + p.files, 0), bytes: parts.reduce((n, p) => n + p.bytes, 0), parts: parts.length };
  if (
    await setExportStatus(operationId, 'preparing', 'ready', {
      ...totals,
      expiresAt: new Date(nowMs() + EXPORT_DAYS * 24 * 3600 * 1000).toISOString(),
    })
  ) {
    await audit(operationId, { event: 'export-created', rule: 'X4', ...totals }); // X2
  }
  return undefined;
}

/** The files and bytes the export holds: `found` (read already), plus those of the plan's file pages from `rest` on. */
async function countToExport(
  planId: string,
  header: PlanHeader,
  found: readonly ExportFile[],
  rest: ExportCursor | undefined,
  organizationId: string,
) {
  const totals = { files: found.length, bytes: found.reduce((n, f) => n + f.size, 0) };
  if (!rest) return totals;
  const pages = pagesWith(header, ['file-deleted'], rest.page);
  for (let k = 0; k < pages.length; k += PAGES_PER_INVOCATION) {
    const read = await readPlanPages(planId, pages.slice(k, k + PAGES_PER_INVOCATION));
    const entries = read.flatMap((page, j) =>
      page.filter((e) => e.effect.kind === 'file-deleted').slice(pages[k + j] === rest.page ? (rest.index ?? 0) : 0),
    );
    for (let i = 0; i < entries.length; i += FILES_PER_PART) {
      for (const f of await organizationsFiles(entries.slice(i, i + FILES_PER_PART), organizationId)) {
        totals.files++;
        totals.bytes += f.size;
      }
    }
  }
  return totals;
}

/**
 * `GET /transfers/{id}/export`, `GET /deletions/{id}/export`: the export's state; while ready, a download link (of
 * each part; `url` is the first), recorded in the audit trail with who asked (X2). Past its 7 days, or once the
 * lifecycle rule has deleted it, `expired` (recorded once).
 */
export async function exportView(callerId: string, id: string, kind: Operation) {
  const caller = await callerUser(callerId);
  const op = await readableOperation(callerId, id, kind);
  const organizationId = successorOrganizationOf(op);
  requireAdminOf(caller, organizationId, "only an administrator of the user's organization may download its export (X4)");
  if (!op.export) throw new NotFound(`${kind} ${id} was not requested with "export": true`);
  const state = await readExport(op.id);
  if (!state || state.status === 'preparing') return { status: 'preparing', files: state?.files ?? 0, bytes: state?.bytes ?? 0 };
  const parts = await readParts(op.id);
  if (state.status === 'ready' && (Date.parse(state.expiresAt ?? '') <= nowMs() || !(await partStored(parts[0]?.key ?? '')))) {
    if (await setExportStatus(op.id, 'ready', 'expired')) await audit(op.id, { event: 'export-expired', rule: 'X4' }); // X2, F4
    return { status: 'expired', files: state.files, bytes: state.bytes, expiresAt: state.expiresAt };
  }
  if (state.status === 'expired') return { status: 'expired', files: state.files, bytes: state.bytes, expiresAt: state.expiresAt };
  const name = (p: number) => `export-${op.userId}${parts.length > 1 ? `-part-${p}` : ''}.zip`;
  const urls = await Promise.all(parts.map((p) => downloadUrl(p.key, name(p.part), LINK_SECONDS)));
  await audit(op.id, { event: 'export-downloaded', by: caller.id, rule: 'X4' }); // X2: every link given out
  return {
    status: 'ready',
    files: state.files,
    bytes: state.bytes,
    url: urls[0],
    expiresAt: state.expiresAt,
    urlExpiresAt: new Date(nowMs() + LINK_SECONDS * 1000).toISOString(),
    ...(parts.length > 1 ? { parts: parts.map((p, i) => ({ url: urls[i], files: p.files, bytes: p.bytes })) } : {}),
  };
}
