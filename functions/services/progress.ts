import type { EffectKind } from '../domain/impact.js';
import { inParallel } from '../store/batch.js';
import { readExport, readParts } from '../store/exports.js';
import { readAudit, type OperationRecord } from '../store/operations.js';
import type { SummaryRow } from '../store/plans.js';
import { DELETION_PHASES, PHASES, TRANSFER_PHASES, type Phase } from './phases.js';

export interface PhaseProgress {
  name: Phase | 'Export';
  status: 'pending' | 'running' | 'done';
  done: number;
  total: number;
}

/**
 * X4: the Export phase, first of an operation requested with `"export": true`: files (and bytes) written into the
 * archive and verified against its manifest so far (a part counts once verified) out of those it is to hold, and
 * whether the whole archive is verified (`ready`). Its counts are files, not effects: not in the overall done/total.
 */
export interface ExportPhaseProgress extends PhaseProgress {
  name: 'Export';
  bytesDone: number;
  bytesTotal: number;
  verified: boolean;
}

/** What the export has written so far (undefined: not requested). */
export interface Exported {
  status: 'not-started' | 'preparing' | 'ready' | 'expired';
  files: number;
  bytes: number;
  toExport?: { files: number; bytes: number };
}

export interface Progress {
  phases: PhaseProgress[];
  done: number;
  total: number;
}

/** Effects applied so far in the current run, by phase, as the audit trail's `applied` entries count them (X2). */
export type Applied = Partial<Record<Phase, number>>;

/** Only a run that started and has not succeeded has partial counts worth reading: otherwise all or nothing is done. */
const hasPartialCounts = (op: Pick<OperationRecord, 'status'>) => op.status === 'running' || op.status === 'failed';

/** The `applied` entries of the operation's current run (a transfer resumed after waiting for a seat runs again). */
export async function readApplied(op: Pick<OperationRecord, 'id' | 'status' | 'startedAt'>): Promise<Applied> {
  if (!hasPartialCounts(op)) return {};
  const applied: Applied = {};
  for (const entry of await readAudit(op.id)) {
    if (entry.event !== 'applied' || (op.startedAt && String(entry.at) < op.startedAt)) continue;
    const step = entry.step as Phase;
    applied[step] = (applied[step] ?? 0) + Object.values((entry.applied ?? {}) as Record<string, number>).reduce((n, c) => n + c, 0);
  }
  return applied;
}

/** X4: the export's counts so far (one GetItem, and one Query of its verified parts while it is being written). */
export async function readExported(op: Pick<OperationRecord, 'id' | 'export'>): Promise<Exported | undefined> {
  if (!op.export) return undefined;
  const state = await readExport(op.id);
  if (!state) return { status: 'not-started', files: 0, bytes: 0 };
  const { toExport } = state;
  if (state.status !== 'preparing')
    return { status: state.status, files: state.files, bytes: state.bytes, ...(toExport ? { toExport } : {}) };
  const parts = await readParts(op.id);
  return {
    status: 'preparing',
    files: parts.reduce((n, p) => n + p.files, 0),
    bytes: parts.reduce((n, p) => n + p.bytes, 0),
    ...(toExport ? { toExport } : {}),
  };
}

/** `readExported` for each of a page of operations, a few at a time; only those requested with an export read anything. */
export const readExportedAll = (ops: readonly OperationRecord[]) => inParallel(ops, 8, readExported);

/** `readApplied` for each of a page of operations, a few at a time; only running and failed ones read anything. */
export const readAppliedAll = (ops: readonly OperationRecord[]) => inParallel(ops, 8, readApplied);

/**
 * An operation's progress, phase by phase in the state machine's order (the phase table, services/phases.ts): each
 * phase's total from the plan's counts by kind, its done from the applied counts. A running operation's first phase
 * not yet done is `running`, the ones after it `pending`; a failed one stops there (that phase and the rest stay
 * `pending`, with what was applied counted). A retried step may count its effects twice in the audit trail, so a
 * phase never shows more done than its total.
 */
export function progressOf(
  op: Pick<OperationRecord, 'operation' | 'status'>,
  summary: readonly SummaryRow[],
  applied: Applied = {},
  exported?: Exported,
): Progress {
  const names = op.operation === 'transfer' ? TRANSFER_PHASES : DELETION_PHASES;
  let reached = op.status === 'running' || op.status === 'failed' || op.status === 'succeeded';
  const exportPhase = exported ? exportPhaseOf(op, exported, reached) : undefined;
  // X4: nothing is deleted before the archive is verified: while it is not, every later phase waits
  if (exportPhase && exportPhase.status !== 'done') reached = false;
  const phases = names.map((name): PhaseProgress => {
    const kinds: readonly EffectKind[] = PHASES[name];
    const total = summary.filter((row) => kinds.includes(row.kind)).reduce((n, row) => n + row.count, 0);
    const done = op.status === 'succeeded' ? total : Math.min(total, applied[name] ?? 0);
    if (reached && done >= total) return { name, status: 'done', done, total };
    const status = reached && op.status === 'running' ? 'running' : 'pending';
    reached = false;
    return { name, status, done, total };
  });
  const overall = { done: phases.reduce((n, p) => n + p.done, 0), total: phases.reduce((n, p) => n + p.total, 0) };
  return { phases: exportPhase ? [exportPhase, ...phases] : phases, ...overall };
}

function exportPhaseOf(op: Pick<OperationRecord, 'status'>, exported: Exported, reached: boolean): ExportPhaseProgress {
  const verified = exported.status === 'ready' || exported.status === 'expired';
  const counts = {
    done: exported.files,
    total: exported.toExport?.files ?? exported.files,
    bytesDone: exported.bytes,
    bytesTotal: exported.toExport?.bytes ?? exported.bytes,
  };
  const status = verified ? 'done' : reached && op.status === 'running' ? 'running' : 'pending';
  return { name: 'Export', status, ...counts, verified };
}
