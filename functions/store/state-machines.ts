import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { logger } from '../shared/logger.js';
import { sfn } from './clients.js';

/**
 * Step Functions executions by state machine and name: the services name what to start or stop, the store makes the
 * calls. An execution's name is unique per state machine, so a repeated start cannot run twice.
 */

/** Starts an execution; one of the same name that already started is not started again. */
export async function startNamedExecution(stateMachineArn: string, name: string, input: unknown): Promise<void> {
  try {
    await sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
  } catch (error) {
    if (!(error instanceof ExecutionAlreadyExists)) throw error;
  }
}

/** The ARN of an execution, from its state machine's ARN and its name. */
const executionArn = (stateMachineArn: string, name: string) => `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;

/** Stops an execution, best effort (whatever it would have done next checks the record's status first anyway). */
export async function stopNamedExecution(stateMachineArn: string, name: string, cause: string): Promise<void> {
  const arn = executionArn(stateMachineArn, name);
  try {
    await sfn.send(new StopExecutionCommand({ executionArn: arn, cause }));
  } catch (error) {
    logger.warn('execution not stopped', { executionArn: arn, error: (error as Error).message });
  }
}

/** True when the execution has ended (or never started: StartExecution failed after the status moved). */
export async function namedExecutionEnded(stateMachineArn: string, name: string): Promise<boolean> {
  try {
    const out = await sfn.send(new DescribeExecutionCommand({ executionArn: executionArn(stateMachineArn, name) }));
    return out.status !== undefined && out.status !== 'RUNNING' && out.status !== 'PENDING_REDRIVE';
  } catch (error) {
    if (error instanceof ExecutionDoesNotExist) return true;
    throw error;
  }
}
