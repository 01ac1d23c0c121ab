import { requireEnv } from '../shared/config.js';
import { namedExecutionEnded, startNamedExecution, stopNamedExecution } from '../store/state-machines.js';
import { now, releaseLock, type OperationRecord, type WithTransition } from '../store/operations.js';
import type { PlanEntry } from '../store/plans.js';
import { create, move, premisesOf } from './transitions.js';
import type { FactsWanted } from '../store/table.js';

/** The transitions that start a run of an operation's execution (domain/lifecycle/operation.ts). */
export type RunStart = 'approve' | 'start' | 'seat-freed' | 'resume' | 'purge';

export interface ExecutionInput {
  operationId: string;
  /** D7 beyond: the deletion waits (a Wait state) until this instant, then purges unless undone. */
  purgeAt?: string;
  /** The plan this run applies was stored for it (at the request or approval): PlanImpact has nothing to do. */
  planned?: boolean;
  /** X4: requested with an export: ExportFiles runs before the first effect (the state carries it past PlanImpact). */
  export?: boolean;
  /** The plan stored for this run (with `planned`): Apply and Finalize read it with the operation (a hint only). */
  planId?: string;
  /** O1: what the first Apply checks before the first effect (transitions.ts premisesOf), read with the operation (a hint only). */
  premises?: FactsWanted;
}

const machineFor = (op: OperationRecord): string =>
  requireEnv(op.operation === 'transfer' ? 'TRANSFER_STATE_MACHINE_ARN' : 'DELETION_STATE_MACHINE_ARN');

/** The execution name is the operation id (with the run number after the first run), so a repeated start cannot run twice. */
export const executionName = (op: Pick<OperationRecord, 'id' | 'runCount'>): string =>
  op.runCount <= 1 ? op.id : `${op.id}-run${op.runCount}`;

/**
 * Moves the operation to running (with a journal entry, so runs beside it can tell, see lifecycle.finalize) and starts
 * its execution. A start that already happened is not repeated. `planned`: the plan was just stored for this run.
 */
export async function startRun(...run: Parameters<typeof beginRun>): Promise<OperationRecord> {
  return executionFor(await beginRun(...run));
}

/**
 * An operation created already running (a deletion starts at once, D1): `request` and `start` in its one creating
 * transaction with what `intents` name (its plan, its audit entry, the journal entries), then its execution.
 */
export async function createRunning(
  op: OperationRecord,
  start: RunStart,
  intents: readonly WithTransition[],
  entries: readonly PlanEntry[],
): Promise<OperationRecord> {
  const startedAt = now();
  const run = op.runCount + 1;
  const running = await create(op, 'request-deletion', {
    with: [...intents, { journal: 'start', startedAt }],
    entries,
    then: { name: start, set: { runCount: run, startedAt, plannedRun: run } },
  });
  return executionFor(running);
}

/** A running operation's execution input: whether its plan was stored for this run, and its export (X4). */
export const runInput = (running: OperationRecord): ExecutionInput => ({
  operationId: running.id,
  planned: running.plannedRun === running.runCount,
  ...(running.plannedRun === running.runCount && running.planId ? { planId: running.planId, premises: premisesOf(running) } : {}),
  ...(running.export ? { export: true } : {}),
});

/** Starts a running operation's execution; a run whose execution cannot start ends failed. */
async function executionFor(running: OperationRecord): Promise<OperationRecord> {
  try {
    await startExecution(running, runInput(running));
  } catch (error) {
    await move(running, 'fail', { set: { error: { code: 'ExecutionNotStarted', message: (error as Error).message } } });
    await releaseLock(running.userId, running.id);
    throw error;
  }
  return running;
}

/** The transition to running, with its journal entry (a run begun inside an execution, D7's purge, uses it alone). */
export async function beginRun(
  op: OperationRecord,
  start: RunStart,
  set: Partial<OperationRecord> = {},
  intents: readonly WithTransition[] = [],
  planned = false,
): Promise<OperationRecord> {
  const startedAt = now();
  const run = op.runCount + 1;
  return move(op, start, {
    set: { ...set, runCount: run, startedAt, ...(planned ? { plannedRun: run } : {}) },
    remove: ['error'],
    with: [...intents, { journal: 'start', startedAt }],
  });
}

/** Starts the operation's execution; a start that already happened (same name) is not repeated. */
export async function startExecution(op: OperationRecord, input: ExecutionInput): Promise<void> {
  await startNamedExecution(machineFor(op), executionName(op), input);
}

/**
 * D7 beyond: stops the operation's execution (an undone deletion's Wait). Its ARN follows from the state machine's
 * and the execution's name. Best effort: the purge step checks the operation's status first anyway.
 */
export async function stopExecution(op: OperationRecord, cause: string): Promise<void> {
  await stopNamedExecution(machineFor(op), executionName(op), cause);
}

/**
 * True when the operation's current execution has ended without recording the outcome (its MarkFailed itself
 * failed, or it was stopped): the operation still reads `running`, but nothing runs it any more.
 */
export async function executionEnded(op: OperationRecord): Promise<boolean> {
  return namedExecutionEnded(machineFor(op), executionName(op));
}

/** The same for an operation still `planning` (its PlanFailed itself failed): its planning execution ended. */
export async function planningEnded(op: Pick<OperationRecord, 'id'>): Promise<boolean> {
  return namedExecutionEnded(requireEnv('PLANNING_STATE_MACHINE_ARN'), planningExecutionName({ operationId: op.id }));
}

/** The same for a bulk run (its FailRun itself failed): the execution of its current attempt ended. */
export async function bulkExecutionEnded(runId: string, attempt: number): Promise<boolean> {
  return namedExecutionEnded(requireEnv('CANCELLATION_STATE_MACHINE_ARN'), attempt ? `${runId}-resume${attempt}` : runId);
}

/** CONTRACT.md `planning`: what the planning state machine computes, a saved preview's plan or an operation's. */
export type PlanningInput = { previewId: string } | { operationId: string };

const planningExecutionName = (input: PlanningInput) => `plan-${'previewId' in input ? input.previewId : input.operationId}`;

/** Starts the background computation of a plan too large for its request; named after what it plans (started once). */
export async function startPlanningExecution(input: PlanningInput): Promise<void> {
  await startNamedExecution(requireEnv('PLANNING_STATE_MACHINE_ARN'), planningExecutionName(input), input);
}

/** B1: the bulk run of a cancelled contract, named after its run (a duplicate event starts nothing new); a resumed run after its attempt. */
export async function startBulkExecution(runId: string, organizationId: string, name = runId): Promise<void> {
  await startNamedExecution(requireEnv('CANCELLATION_STATE_MACHINE_ARN'), name, { runId, organizationId });
}
