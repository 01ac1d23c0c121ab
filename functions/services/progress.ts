import type { EffectKind } from '../domain/impact.js';
import { inParallel } from '../store/batch.js';
import { readAudit, type OperationRecord } from '../store/operations.js';
import type { SummaryRow } from '../store/plans.js';
import { DELETION_PHASES, PHASES, TRANSFER_PHASES, type Phase } from './phases.js';

export interface PhaseProgress {
  name: Phase;
  status: 'pending' | 'running' | 'done';
  done: number;
  total: number;
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

/** `readApplied` for each of a page of operations, a few at a time; only running and failed ones read anything. */
export const readAppliedAll = (ops: readonly OperationRecord[]) => inParallel(ops, 8, readApplied);

/**
 * An operation's progress, phase by phase in the state machine's order (the phase table, services/phases.ts): each
 * phase's total from the plan's counts by kind, its done from the applied counts. A running operation's first phase
 * not yet done is `running`, the ones after it `pending`; a failed one stops there (that phase and the rest stay
 * `pending`, with what was applied counted). A retried step may count its effects twice in the audit trail, so a
 * phase never shows more done than its total.
 */
export function progressOf(op: Pick<OperationRecord, 'operation' | 'status'>, summary: readonly SummaryRow[], applied: Applied = {}): Progress {
  const names = op.operation === 'transfer' ? TRANSFER_PHASES : DELETION_PHASES;
  let reached = op.status === 'running' || op.status === 'failed' || op.status === 'succeeded';
  const phases = names.map((name): PhaseProgress => {
    const kinds: readonly EffectKind[] = PHASES[name];
    const total = summary.filter((row) => kinds.includes(row.kind)).reduce((n, row) => n + row.count, 0);
    const done = op.status === 'succeeded' ? total : Math.min(total, applied[name] ?? 0);
    if (reached && done >= total) return { name, status: 'done', done, total };
    const status = reached && op.status === 'running' ? 'running' : 'pending';
    reached = false;
    return { name, status, done, total };
  });
  return { phases, done: phases.reduce((n, p) => n + p.done, 0), total: phases.reduce((n, p) => n + p.total, 0) };
}
