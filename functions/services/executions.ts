import { ExecutionAlreadyExists, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { requireEnv } from '../shared/config.js';
import { sfn } from '../store/clients.js';
import { releaseLock, transition, type OperationRecord, type Status } from '../store/operations.js';

export interface ExecutionInput {
  operationId: string;
}

const machineFor = (op: OperationRecord): string =>
  requireEnv(op.operation === 'transfer' ? 'TRANSFER_STATE_MACHINE_ARN' : 'DELETION_STATE_MACHINE_ARN');

/** The execution name is the operation id (with the run number after the first run), so a repeated start cannot run twice. */
export const executionName = (op: Pick<OperationRecord, 'id' | 'runCount'>): string =>
  op.runCount <= 1 ? op.id : `${op.id}-run${op.runCount}`;

/** Moves the operation to running and starts its execution. A start that already happened is not repeated. */
export async function startRun(op: OperationRecord, from: readonly Status[], set: Partial<OperationRecord> = {}, alsoTransact: any[] = []): Promise<OperationRecord> {
  const running = await transition(op.id, from, 'running', { ...set, runCount: op.runCount + 1 }, ['error'], alsoTransact);
  try {
    await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: machineFor(running),
        name: executionName(running),
        input: JSON.stringify({ operationId: running.id } satisfies ExecutionInput),
      }),
    );
  } catch (error) {
    if (!(error instanceof ExecutionAlreadyExists)) {
      await transition(running.id, ['running'], 'failed', {
        error: { code: 'ExecutionNotStarted', message: (error as Error).message },
      });
      await releaseLock(running.userId, running.id);
      throw error;
    }
  }
  return running;
}
