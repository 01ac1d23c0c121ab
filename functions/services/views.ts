import { randomUUID } from 'node:crypto';
import { now } from '../shared/clock.js';
import type { Operation } from '../domain/impact.js';
import { Conflict, ImpactChanged, Ineligible, InvalidRequest, NotFound } from '../shared/errors.js';
import { auditOf, type OperationRecord } from '../store/operations.js';
import { readNames, type NamedIds, type Names } from '../store/directory.js';
import {
  readPlanHeader,
  readPlanHeaders,
  readPlanPages,
  readPlanWithFirstPage,
  writePlan,
  type PlanEntry,
  type PlanHeader,
  type SummaryRow,
} from '../store/plans.js';
import { progressOf, readApplied, readAppliedAll, readExported, readExportedAll, type Applied, type Exported } from './progress.js';

/** A saved preview is kept this long (CONTRACT.md). */
export const PREVIEW_TTL_SECONDS = 24 * 3600;

const cursorFor = (header: PlanHeader, page: number) => (page < header.pages.length ? { nextCursor: String(page) } : {});

/** CONTRACT.md's Impact: counts by kind and rule, the first page of effects, and a cursor for the rest. */
export function impactView(header: PlanHeader, first: readonly PlanEntry[]) {
  return {
    operation: header.operation,
    userId: header.userId,
    effectCount: header.effectCount,
    summary: header.summary,
    effects: first.map((e) => e.effect),
    ...cursorFor(header, 1),
  };
}

/** The Impact of a stored plan (empty when there is none). */
export async function readImpactView(planId: string | undefined, fallback: { operation: Operation; userId: string }) {
  const found = planId ? await readPlanWithFirstPage(planId) : undefined;
  if (!found) return { ...fallback, effectCount: 0, summary: [], effects: [] };
  return impactView(found.header, found.first);
}

/**
 * `GET …/effects?cursor=C`: page C of a stored plan (the first page without a cursor), with the names of every id on
 * it (read in batches of 100). A cursor that names no page answers 400, naming `cursor`.
 */
export async function effectsPage(planId: string | undefined, cursor: string | undefined) {
  const header = planId ? await readPlanHeader(planId) : undefined;
  const page = cursor === undefined ? 0 : /^\d{1,9}$/.test(cursor) ? Number(cursor) : Number.NaN;
  if (!header) {
    if (page === 0) return { effects: [], names: await namesOf([]) };
    throw new InvalidRequest('cursor: names no page of this impact', 'cursor');
  }
  if (!Number.isInteger(page) || page >= Math.max(1, header.pages.length))
    throw new InvalidRequest('cursor: names no page of this impact', 'cursor');
  if (header.pages.length === 0) return { effects: [], names: await namesOf([]) };
  const [entries] = await readPlanPages(header.id, [page]);
  return { effects: entries!.map((e) => e.effect), ...cursorFor(header, page + 1), names: await namesOf(entries!) };
}

/** The people, chats, organizations, files and tasks that a page of effects names, with their names. */
export async function namesOf(entries: readonly PlanEntry[]): Promise<Names> {
  const ids: NamedIds = { users: new Set(), chats: new Set(), organizations: new Set(), files: new Map(), tasks: new Map() };
  for (const { effect, chatId } of entries) {
    const e = effect as Partial<
      Record<'userId' | 'chatId' | 'fromOrganizationId' | 'toOrganizationId' | 'organizationId' | 'fileId' | 'taskId', string>
    > & { userIds?: string[] };
    for (const u of [e.userId, ...(e.userIds ?? [])]) if (u) ids.users.add(u);
    for (const o of [e.fromOrganizationId, e.toOrganizationId, e.organizationId]) if (o) ids.organizations.add(o);
    if (e.chatId) ids.chats.add(e.chatId);
    if (e.fileId && chatId) ids.files.set(e.fileId, chatId);
    if (e.taskId && chatId) ids.tasks.set(e.taskId, chatId);
  }
  return readNames(ids);
}

/** An Impact in the short form the console's lists show: counts by kind and rule, no effects (`/effects` pages them). */
export function impactSummary(header: PlanHeader | undefined, fallback: { operation: Operation; userId: string }) {
  return header
    ? { operation: header.operation, userId: header.userId, effectCount: header.effectCount, summary: header.summary }
    : { ...fallback, effectCount: 0, summary: [] };
}

/**
 * CONTRACT.md's Transfer and Deletion shapes, with `progress` (an extension: services/progress.ts). `shown` is an
 * impact already at hand; `applied` the counts of the current run (absent: none read, as when just requested);
 * `exported` the export's counts (X4: the Export phase).
 */
export async function operationView(
  op: OperationRecord,
  shown?: { summary: SummaryRow[] },
  applied?: Applied,
  exported?: Exported,
): Promise<Record<string, unknown>> {
  // CONTRACT.md `planning`: no impact until the plan computed in the background is stored
  if (op.status === 'planning') return planningView(op);
  const impact = shown ?? (await readImpactView(op.planId, op));
  const common = { id: op.id, userId: op.userId };
  const tail = {
    status: op.status,
    impact,
    progress: progressOf(op, impact.summary, applied, exported ?? (op.export ? { status: 'not-started', files: 0, bytes: 0 } : undefined)),
    requestedBy: op.requestedBy,
    ...(op.operation === 'transfer' ? { approvedBy: op.approvedBy ?? null } : {}),
    createdAt: op.createdAt,
    updatedAt: op.updatedAt,
    ...(op.purgeAt ? { purgeAt: op.purgeAt } : {}),
    ...(op.error ? { error: op.error } : {}),
    // X3, X4 (CONTRACT.md): as requested
    ...(op.successorId ? { successorId: op.successorId } : {}),
    ...(op.export ? { export: true } : {}),
  };
  if (op.operation === 'transfer') {
    return { ...common, sourceOrganizationId: op.sourceOrganizationId, destinationOrganizationId: op.destinationOrganizationId, ...tail };
  }
  return { ...common, organizationId: op.organizationId, ...tail };
}

/** An operation whose plan is being computed (CONTRACT.md `planning`): its shape, `impact` null, nothing applied. */
function planningView(op: OperationRecord): Record<string, unknown> {
  const sides =
    op.operation === 'transfer'
      ? { sourceOrganizationId: op.sourceOrganizationId, destinationOrganizationId: op.destinationOrganizationId }
      : { organizationId: op.organizationId };
  return {
    id: op.id,
    userId: op.userId,
    ...sides,
    status: op.status,
    impact: null,
    requestedBy: op.requestedBy,
    ...(op.operation === 'transfer' ? { approvedBy: op.approvedBy ?? null } : {}),
    createdAt: op.createdAt,
    updatedAt: op.updatedAt,
    ...(op.successorId ? { successorId: op.successorId } : {}),
    ...(op.export ? { export: true } : {}),
  };
}

/** GET /transfers/{id}, GET /deletions/{id}: the operation with its impact and its progress so far. */
export async function operationViewWithProgress(op: OperationRecord) {
  const [impact, applied, exported] = await Promise.all([readImpactView(op.planId, op), readApplied(op), readExported(op)]);
  return operationView(op, impact, applied, exported);
}

/** A page of operations in the lists' form: each impact summed up, progress read for those running or failed. */
export async function operationsView(ops: readonly OperationRecord[]) {
  const [headers, applied, exported] = await Promise.all([
    readPlanHeaders(ops.flatMap((op) => (op.planId ? [op.planId] : []))),
    readAppliedAll(ops),
    readExportedAll(ops),
  ]);
  return Promise.all(
    ops.map((op, i) => operationView(op, impactSummary(op.planId ? headers.get(op.planId) : undefined, op), applied[i], exported[i])),
  );
}

/** A stored plan's Impact, with its first page of effects (the entries it was stored from). */
export function firstPageView(header: PlanHeader, entries: readonly PlanEntry[]) {
  const firstPage = Object.values(header.pages[0] ?? {}).reduce((n, count) => n + (count ?? 0), 0);
  return impactView(header, entries.slice(0, firstPage));
}

/** Stores a plan and answers its Impact. */
export async function storePlan(header: Parameters<typeof writePlan>[0], entries: readonly PlanEntry[], ttlSeconds?: number, at?: Date) {
  const stored = await writePlan(header, entries, { ...(ttlSeconds ? { ttlSeconds } : {}), ...(at ? { now: at } : {}) });
  return { header: stored, view: firstPageView(stored, entries) };
}

/** X1: a saved preview, answered as an Impact with its `id` and `expiresAt`. */
export async function savePreview(header: Omit<Parameters<typeof writePlan>[0], 'id'>, entries: readonly PlanEntry[]) {
  const { header: stored, view } = await storePlan({ ...header, id: `pv-${randomUUID()}` }, entries, PREVIEW_TTL_SECONDS);
  return { id: stored.id, expiresAt: stored.expiresAt!, ...view };
}

/** A saved preview that still exists and has not expired; 404 otherwise. */
export async function savedPreview(id: string, read?: PlanHeader): Promise<PlanHeader> {
  const header = id.startsWith('pv-') ? (read ?? (await readPlanHeader(id))) : undefined;
  if (!header || !header.expiresAt || header.expiresAt <= now()) throw new NotFound(`preview ${id} does not exist or has expired`);
  return header;
}

/**
 * X1 beyond: an operation requested with a saved preview runs only that plan. The preview must be of this
 * operation on this user (and destination); the plan computed now must equal it, or nothing changes (409).
 */
export async function checkPreview(previewId: string, what: PreviewedWhat, fingerprintNow: string, read?: PlanHeader) {
  const preview = await previewOf(previewId, what, read);
  try {
    assertSamePlan(preview.fingerprint, fingerprintNow, previewId);
  } catch (error) {
    // X2: the refusal is kept with the preview (no operation was created)
    await auditOf(
      { previewId },
      {
        event: 'refused',
        by: what.by,
        code: 'impact-changed',
        rule: 'X1',
        operation: what.operation,
        userId: what.userId,
        message: (error as Error).message,
      },
    );
    throw error;
  }
  return preview;
}

type PreviewedWhat = { operation: Operation; userId: string; destinationOrganizationId?: string; by: string };

/**
 * The saved preview a request names: of this operation on this user (400 otherwise), and complete (409 while planning).
 * `read`: its header, read already.
 */
export async function previewOf(previewId: string, what: PreviewedWhat, read?: PlanHeader): Promise<PlanHeader> {
  const preview = await savedPreview(previewId, read);
  if (
    preview.operation !== what.operation ||
    preview.userId !== what.userId ||
    (preview.destinationOrganizationId ?? undefined) !== what.destinationOrganizationId
  ) {
    throw new InvalidRequest(
      `previewId: preview ${previewId} is of another operation (${preview.operation} of ${preview.userId}${preview.destinationOrganizationId ? ` to ${preview.destinationOrganizationId}` : ''})`,
      'previewId',
    );
  }
  if (pendingPreviewAnswer(preview))
    throw new Conflict(`preview ${previewId} is still being planned: request again once GET /previews/${previewId} answers 200`);
  return preview;
}

/** `GET /previews/{id}` of a preview computed in the background: 202 while planning, its refusal once refused. */
export function pendingPreviewAnswer(header: PlanHeader): { id: string; status: 'planning' } | undefined {
  if (header.status === 'planning') return { id: header.id, status: 'planning' };
  if (header.status === 'failed') {
    const e = header.error!;
    if (e.code === 'ineligible' && e.reasons) throw new Ineligible(e.reasons);
    if (e.code === 'not-found') throw new NotFound(e.message);
    throw new Conflict(e.message);
  }
  return undefined;
}

export function assertSamePlan(expected: string, now: string, previewId: string): void {
  if (expected !== now)
    throw new ImpactChanged(
      `X1: the data changed since preview ${previewId}; its plan no longer matches the current data, so nothing was done`,
    );
}
