import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { lambdaStep } from './lambda-step.js';
import { OffboardFunction, type FunctionSize, type TableAction } from './offboard-function.js';
import { observeStateMachine } from './wildcard-grants.js';

type RunStep = {
  comment: string;
  size: FunctionSize;
  table: readonly TableAction[];
  index?: readonly TableAction[];
  deleteFiles?: boolean;
};

/** The bulk run's steps (B1): what each does, and what it may do to the table and the bucket. */
export const RUN_STEPS = {
  // a resumed run first applies again the failed batches' stored plans (D2–D6, F3: services/bulk-run.ts finishFailedBatches)
  StartRun: {
    comment:
      'Counts the members and cancels transfers waiting to join the organization (and failed ones); a run cancelled before it began stops',
    size: 'apply',
    table: ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'PartiQLUpdate'],
    index: ['Query'],
    deleteFiles: true,
  },
  DeleteBatch: {
    comment:
      'D2–D6 and F3 for one batch of members: planned once, applied with batched writes; idempotent. Stops when the run was cancelled (B4); skips members who left (O3)',
    size: 'bulk',
    table: ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'PartiQLUpdate'],
    index: ['Query'],
    deleteFiles: true,
  },
  // reads the batch's members (GSI1) and, after the last batch, deletes the files the batch before handed on (F3)
  RecordBatchFailed: {
    comment: 'Counts each member of a batch that failed as failed, with the error; the run goes on',
    size: 'apply',
    table: ['GetItem', 'PutItem', 'UpdateItem', 'BatchWriteItem'],
    index: ['Query'],
    deleteFiles: true,
  },
  // reads the run's status first (B4: a cancelled run deletes nothing more)
  DeleteOwnedFiles: {
    comment: 'F3: the files the organization owns (handed over to it) deleted, a page at a time, bytes first',
    size: 'apply',
    // PutItem, UpdateItem: its journal entry (X1); Query: each chat's files of a user who handed them over (GSI1
    // names the users, GSI3 their chats)
    table: ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'BatchWriteItem'],
    index: ['Query'],
    deleteFiles: true,
  },
  // reads the run's batches and their skipped members (O3) to recount the organizations they went to
  FinishRun: {
    comment:
      "Sets the organization's counters (and those of organizations skipped members moved to, O3) and the outcome: succeeded, or failed naming how many members could not be deleted; a cancelled run stays cancelled",
    size: 'small',
    table: ['GetItem', 'BatchGetItem', 'Query', 'UpdateItem'],
    index: ['Query'],
  },
  // the run's status first (B4: a cancelled run stays cancelled)
  FailRun: { comment: 'The run failed with its error', size: 'small', table: ['GetItem', 'UpdateItem'] },
} as const satisfies Record<string, RunStep>;

export interface BulkRunProps {
  table: dynamodb.ITable;
  bucket: s3.IBucket;
  /** D7: B1 cancels members' scheduled deletions and stops their executions. */
  deletionStateMachine?: sfn.IStateMachine;
}

/**
 * B1: the bulk contract-cancellation run. Members are deleted in batches, one DeleteBatch invocation each (members
 * read from the organization's index, planned together, applied with batched writes, counted once per batch);
 * DeleteBatch hands the next batch's cursor back and a Choice loops while one remains. A batch that fails after its
 * retries is counted failed, member by member, and the run goes on. State payloads hold a batch number and a cursor:
 * the same for 10 or 100,000 members.
 *
 *   StartRun → RunGoesOn? ─stopped→ FinishRun → RunSucceeded
 *                 └→ DeleteBatch (failed → RecordBatchFailed) → MoreMembers? ─stopped→ FinishRun
 *                                                                  ├─cursor→ DeleteBatch
 *                                                                  └→ StartOwnedFiles → DeleteOwnedFiles ⟲ → FinishRun
 *   StartRun, RecordBatchFailed, DeleteOwnedFiles or FinishRun failed past its retries → FailRun → RunFailed
 *
 * Its states and functions are made in `scope` (the Billing construct: the functions under `RunSteps`).
 */
export function bulkRunStateMachine(scope: Construct, props: BulkRunProps): sfn.StateMachine {
  const functionScope = new Construct(scope, 'RunSteps');
  const fns = {} as Record<keyof typeof RUN_STEPS, OffboardFunction>;
  for (const [name, def] of Object.entries(RUN_STEPS) as [keyof typeof RUN_STEPS, RunStep][]) {
    fns[name] = new OffboardFunction(functionScope, name, {
      entry: `functions/handlers/bulk/${name.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase()}.ts`,
      description: `billing run step ${name}: ${def.comment}`,
      // memory and timeout by the work (SIZES in offboard-function.ts): only DeleteBatch plans
      size: def.size,
    })
      .bindTable(props.table, def.table, def.index)
      .bindBucket(props.bucket, { deleteFiles: def.deleteFiles === true });
  }
  // the bulk run's store errors back off longer: a batch writes thousands of items
  const storeRetry = { interval: Duration.seconds(2), maxDelay: Duration.minutes(1) };
  const invoke = (name: keyof typeof RUN_STEPS, payload: Record<string, unknown>, resultPath?: string) =>
    lambdaStep(scope, name, fns[name], {
      comment: RUN_STEPS[name].comment,
      payload: sfn.TaskInput.fromObject(payload),
      storeRetry,
      ...(resultPath ? { resultPath } : {}),
    });
  const at = (path: string) => sfn.JsonPath.stringAt(path);
  const object = (path: string) => sfn.JsonPath.objectAt(path);
  const run = { runId: at('$.runId'), organizationId: at('$.organizationId') };

  const failed = new sfn.Fail(scope, 'RunFailed', { comment: 'The bulk run failed; see the run record', error: 'RunFailed' });
  const failRun = invoke('FailRun', { runId: at('$.runId'), error: object('$.error') });
  failRun.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: '$.failRunError' }).next(failed);
  const guard = (t: tasks.LambdaInvoke) => t.addCatch(failRun, { errors: [sfn.Errors.ALL], resultPath: '$.error' });

  const startRun = guard(invoke('StartRun', run, '$.batch'));
  const deleteBatch = invoke('DeleteBatch', { ...run, batch: object('$.batch') }, '$.batch');
  const batchFailed = guard(invoke('RecordBatchFailed', { ...run, batch: object('$.batch'), error: object('$.error') }, '$.batch'));
  deleteBatch.addCatch(batchFailed, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
  const finish = guard(invoke('FinishRun', { runId: at('$.runId') }, '$.outcome'));
  const ownedFiles = guard(invoke('DeleteOwnedFiles', { ...run, files: object('$.files') }, '$.files'));
  const startFiles = new sfn.Pass(scope, 'StartOwnedFiles', {
    comment: 'Every member is done: the files the organization owns',
    result: sfn.Result.fromObject({}),
    resultPath: '$.files',
  });
  startFiles.next(ownedFiles);
  const moreFiles = new sfn.Choice(scope, 'MoreOwnedFiles', { comment: 'Another page of owned files?' });
  ownedFiles.next(moreFiles.when(sfn.Condition.isPresent('$.files.cursor'), ownedFiles).otherwise(finish));

  // B4: a run cancelled by an operator or a reinstated contract stops before its next batch; the rest stays
  const more = new sfn.Choice(scope, 'MoreMembers', { comment: 'Cancelled (B4)? Another batch of members?' })
    .when(sfn.Condition.isPresent('$.batch.stopped'), finish)
    .when(sfn.Condition.isPresent('$.batch.cursor'), deleteBatch)
    .otherwise(startFiles);
  const goesOn = new sfn.Choice(scope, 'RunGoesOn', { comment: 'Cancelled before it began (B4)?' });
  startRun.next(goesOn.when(sfn.Condition.isPresent('$.batch.stopped'), finish).otherwise(deleteBatch));
  deleteBatch.next(more);
  batchFailed.next(more);
  finish.next(new sfn.Succeed(scope, 'RunSucceeded', { comment: 'Every member processed' }));

  if (props.deletionStateMachine) {
    // B1 ignores grace periods (D7): a member's scheduled deletion is cancelled and its waiting execution stopped
    fns.DeleteBatch.addEnvironment('DELETION_STATE_MACHINE_ARN', props.deletionStateMachine.stateMachineArn);
    props.deletionStateMachine.grantExecution(fns.DeleteBatch, 'states:StopExecution');
  }
  const machine = new sfn.StateMachine(scope, 'CancellationStateMachine', {
    stateMachineType: sfn.StateMachineType.STANDARD,
    comment: 'offboard B1: a cancelled contract deletes every member (D2–D6) and every file its users uploaded (F3)',
    definitionBody: sfn.DefinitionBody.fromChainable(startRun),
    timeout: Duration.hours(24),
  });
  const logGroup = new logs.LogGroup(scope, 'CancellationLogs', {
    retention: logs.RetentionDays.ONE_MONTH,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  observeStateMachine(machine, logGroup);
  return machine;
}
