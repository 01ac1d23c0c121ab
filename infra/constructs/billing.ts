import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { OffboardFunction, type FunctionSize, type TableAction } from './offboard-function.js';
import { LAMBDA_SERVICE_ERRORS, TRANSIENT_STORE_ERRORS } from './operation-workflow.js';
import { DEFAULT_CONFIRMATION_THRESHOLD } from '../../functions/domain/lifecycle/bulk-run.js';
import { observeStateMachine } from './wildcard-grants.js';

/** CONTRACT.md's billing events, one rule each. */
/** CONTRACT.md's billing events, one rule each, with what each function may do to the table (bindTable). */
export const BILLING_EVENTS = {
  ContractCancelled: { detailType: 'Contract Cancelled', entry: 'contract-cancelled', rule: 'B1, F3: every member deleted, every file of its users deleted, as one bulk run', table: ['GetItem', 'PutItem'] },
  SeatsChanged: { detailType: 'Seats Changed', entry: 'seats-changed', rule: 'B2: seats updated; transfers waiting for a seat resume, oldest first', table: ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'] },
  PlanChanged: { detailType: 'Plan Changed', entry: 'plan-changed', rule: 'B3: plan updated; transfers not yet running that T1 now forbids are cancelled', table: ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'] },
  // reads the organization's runs (GSI1), cancels those that have not started deleting, records it in their trail (X2)
  ContractReinstated: { detailType: 'Contract Reinstated', entry: 'contract-reinstated', rule: "B4: cancels the organization's contract-cancellation run that has not started deleting", table: ['GetItem', 'PutItem', 'UpdateItem'], index: ['Query'] },
} as const satisfies Record<string, { detailType: string; entry: string; rule: string; table: readonly TableAction[]; index?: readonly TableAction[] }>;

/** The bulk run's steps (B1): what each does, and what it may do to the table and the bucket. */
const RUN_STEPS = {
  // a resumed run first applies again the failed batches' stored plans (D2–D6, F3: services/bulk-run.ts finishFailedBatches)
  StartRun: { comment: 'Counts the members and cancels transfers waiting to join the organization (and failed ones); a run cancelled before it began stops', size: 'apply', table: ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'PartiQLUpdate'], index: ['Query'], deleteFiles: true },
  DeleteBatch: { comment: 'D2–D6 and F3 for one batch of members: planned once, applied with batched writes; idempotent. Stops when the run was cancelled (B4); skips members who left (O3)', size: 'bulk', table: ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'PartiQLUpdate'], index: ['Query'], deleteFiles: true },
  // reads the batch's members (GSI1) and, after the last batch, deletes the files the batch before handed on (F3)
  RecordBatchFailed: { comment: 'Counts each member of a batch that failed as failed, with the error; the run goes on', size: 'apply', table: ['GetItem', 'PutItem', 'UpdateItem', 'BatchWriteItem'], index: ['Query'], deleteFiles: true },
  // reads the run's status first (B4: a cancelled run deletes nothing more)
  DeleteOwnedFiles: { comment: 'F3: the files the organization owns (handed over to it) deleted, a page at a time, bytes first', size: 'apply', table: ['GetItem', 'PutItem', 'BatchWriteItem'], index: ['Query'], deleteFiles: true },
  // reads the run's batches and their skipped members (O3) to recount the organizations they went to
  FinishRun: { comment: "Sets the organization's counters (and those of organizations skipped members moved to, O3) and the outcome: succeeded, or failed naming how many members could not be deleted; a cancelled run stays cancelled", size: 'small', table: ['GetItem', 'BatchGetItem', 'Query', 'UpdateItem'], index: ['Query'] },
  // the run's status first (B4: a cancelled run stays cancelled)
  FailRun: { comment: 'The run failed with its error', size: 'small', table: ['GetItem', 'UpdateItem'] },
} as const satisfies Record<string, { comment: string; size: FunctionSize; table: readonly TableAction[]; index?: readonly TableAction[]; deleteFiles?: boolean }>;

/** B4: `offboard:billingPublishers` entries: a 12-digit account id, or an IAM principal's ARN. */
export function parsePublishers(value: string | string[] | undefined): { accounts: string[]; arns: string[] } {
  const list = (Array.isArray(value) ? value : (value ?? '').split(',')).map((v) => String(v).trim()).filter(Boolean);
  const accounts: string[] = [];
  const arns: string[] = [];
  for (const p of list) {
    if (/^\d{12}$/.test(p)) accounts.push(p);
    else if (/^arn:aws[a-z-]*:(iam|sts)::\d{12}:.+/.test(p)) arns.push(p);
    else throw new Error(`offboard:billingPublishers: ${JSON.stringify(p)} is neither a 12-digit account id nor an IAM principal ARN`);
  }
  return { accounts, arns };
}

export interface BillingProps {
  table: dynamodb.ITable;
  bucket: s3.IBucket;
  transferStateMachine: sfn.IStateMachine;
  /** D7: B1 cancels members' scheduled deletions and stops their executions. */
  deletionStateMachine?: sfn.IStateMachine;
  /** B4: a contract cancellation of more members than this waits for an operator's confirmation (default 500). */
  confirmationThreshold?: number;
  /**
   * B4: who may put events on the billing bus: account ids and IAM principal ARNs (`offboard:billingPublishers`).
   * Absent: the stack's own account. Every other principal is denied, whatever its IAM policies allow.
   */
  billingPublishers?: string[];
}

/**
 * An SQS on-failure destination granting the function sqs:SendMessage only: Lambda sends the record with the
 * function's role and needs no more (aws-lambda-destinations' SqsDestination also grants GetQueueAttributes and GetQueueUrl).
 */
function sendOnlyDestination(queue: sqs.IQueue): lambda.IDestination {
  return {
    bind: (_scope, fn) => {
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }));
      return { destination: queue.queueArn };
    },
  };
}

/**
 * Billing events drive the workflows: a custom event bus, one rule per detail-type, Lambda targets with a retry policy
 * and a dead-letter queue (delivery failures) plus the same queue as the functions' on-failure destination (rejected
 * events, with the error), an alarm on that queue, and the bulk contract-cancellation state machine.
 */
export class Billing extends Construct {
  readonly bus: events.EventBus;
  readonly deadLetters: sqs.Queue;
  readonly cancellation: sfn.StateMachine;
  readonly functions: Record<string, OffboardFunction> = {};

  constructor(scope: Construct, id: string, props: BillingProps) {
    super(scope, id);
    this.bus = new events.EventBus(this, 'Bus', { eventBusName: `${Stack.of(this).stackName}-billing` });
    // B4: only the principals the deployer names may put events (one forged Contract Cancelled would wipe an organization)
    const publishers = parsePublishers(props.billingPublishers);
    if (publishers.accounts.length + publishers.arns.length === 0) publishers.accounts.push(Stack.of(this).account);
    const principals = [...publishers.accounts.map((a) => new iam.AccountPrincipal(a)), ...publishers.arns.map((a) => new iam.ArnPrincipal(a))];
    this.bus.addToResourcePolicy(new iam.PolicyStatement({ sid: 'NamedPublishersPutEvents', effect: iam.Effect.ALLOW, principals, actions: ['events:PutEvents'], resources: [this.bus.eventBusArn] }));
    this.bus.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyNamedPublishers',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['events:PutEvents'],
        resources: [this.bus.eventBusArn],
        // denied unless the caller is a named principal or in a named account (the keys of one operator are ANDed)
        conditions: {
          StringNotEquals: {
            ...(publishers.accounts.length ? { 'aws:PrincipalAccount': publishers.accounts } : {}),
            ...(publishers.arns.length ? { 'aws:PrincipalArn': publishers.arns } : {}),
          },
        },
      }),
    );
    this.deadLetters = new sqs.Queue(this, 'DeadLetters', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    new cloudwatch.Alarm(this, 'DeadLettersAlarm', {
      alarmDescription: 'A billing event could not be delivered or was rejected: read the dead-letter queue for the event and its reason',
      metric: this.deadLetters.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.cancellation = this.cancellationStateMachine(props);

    for (const [name, def] of Object.entries(BILLING_EVENTS)) {
      const fn = new OffboardFunction(this, name, {
        entry: `functions/handlers/billing/${def.entry}.ts`,
        description: `billing event "${def.detailType}": ${def.rule}`,
        size: 'event',
      })
        .bindTable(props.table, def.table, (def as { index?: readonly TableAction[] }).index)
        .bindBucket(props.bucket, { deleteFiles: false });
      if (name === 'ContractCancelled') fn.addEnvironment('CONFIRMATION_THRESHOLD', String(props.confirmationThreshold ?? DEFAULT_CONFIRMATION_THRESHOLD)); // B4
      // B1 starts the bulk run, B2 the transfers waiting for a seat; B3 only cancels, starting nothing; B4's
      // reinstatement only cancels runs (their executions stop before their next batch)
      if (name !== 'ContractReinstated') {
        fn.addEnvironment('TRANSFER_STATE_MACHINE_ARN', props.transferStateMachine.stateMachineArn);
        fn.addEnvironment('CANCELLATION_STATE_MACHINE_ARN', this.cancellation.stateMachineArn);
      }
      if (name === 'ContractCancelled') this.cancellation.grantStartExecution(fn);
      if (name === 'SeatsChanged') props.transferStateMachine.grantStartExecution(fn);
      // Rejected events (unknown organization, missing field, wrong type) end here with the error, after 2 retries.
      fn.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(6), onFailure: sendOnlyDestination(this.deadLetters) });
      this.functions[name] = fn;
      new events.Rule(this, `${name}Rule`, {
        eventBus: this.bus,
        description: def.rule,
        eventPattern: { source: ['billing'], detailType: [def.detailType] },
        targets: [new targets.LambdaFunction(fn, { deadLetterQueue: this.deadLetters, retryAttempts: 8, maxEventAge: Duration.hours(24) })],
      });
    }
  }

  /**
   * B1: members are deleted in batches, one DeleteBatch invocation each (members read from the organization's index,
   * planned together, applied with batched writes, counted once per batch); DeleteBatch hands the next batch's
   * cursor back and a Choice loops while one remains. A batch that fails after its retries is counted failed, member
   * by member, and the run goes on. State payloads hold a batch number and a cursor: the same for 10 or 100,000 members.
   */
  private cancellationStateMachine(props: BillingProps): sfn.StateMachine {
    const fns: Record<string, OffboardFunction> = {};
    const functionScope = new Construct(this, 'RunSteps');
    const invoke = (name: keyof typeof RUN_STEPS, payload?: sfn.TaskInput, resultPath?: string) => {
      const def: { comment: string; size: FunctionSize; table: readonly TableAction[]; index?: readonly TableAction[]; deleteFiles?: boolean } = RUN_STEPS[name];
      fns[name] ??= new OffboardFunction(functionScope, name, {
        entry: `functions/handlers/bulk/${name.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase()}.ts`,
        description: `billing run step ${name}: ${def.comment}`,
        // memory and timeout by the work (SIZES in offboard-function.ts): only DeleteBatch plans
        size: def.size,
      })
        .bindTable(props.table, def.table, def.index)
        .bindBucket(props.bucket, { deleteFiles: def.deleteFiles === true });
      const task = new tasks.LambdaInvoke(this, name, {
        lambdaFunction: fns[name]!,
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
        comment: def.comment,
        ...(payload ? { payload } : {}),
        ...(resultPath ? { resultPath } : {}),
      });
      task.addRetry({ errors: LAMBDA_SERVICE_ERRORS, interval: Duration.seconds(1), maxAttempts: 6, backoffRate: 2, maxDelay: Duration.seconds(30), jitterStrategy: sfn.JitterType.FULL });
      task.addRetry({ errors: TRANSIENT_STORE_ERRORS, interval: Duration.seconds(2), maxAttempts: 5, backoffRate: 2, maxDelay: Duration.minutes(1), jitterStrategy: sfn.JitterType.FULL });
      return task;
    };
    const at = (path: string) => sfn.JsonPath.stringAt(path);
    const run = { runId: at('$.runId'), organizationId: at('$.organizationId') };

    const failed = new sfn.Fail(this, 'RunFailed', { comment: 'The bulk run failed; see the run record', error: 'RunFailed' });
    const failRun = invoke('FailRun', sfn.TaskInput.fromObject({ runId: at('$.runId'), error: sfn.JsonPath.objectAt('$.error') }));
    failRun.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: '$.failRunError' }).next(failed);
    const guard = (t: tasks.LambdaInvoke) => t.addCatch(failRun, { errors: [sfn.Errors.ALL], resultPath: '$.error' });

    const startRun = guard(invoke('StartRun', sfn.TaskInput.fromObject(run), '$.batch'));
    const deleteBatch = invoke('DeleteBatch', sfn.TaskInput.fromObject({ ...run, batch: sfn.JsonPath.objectAt('$.batch') }), '$.batch');
    const batchFailed = guard(
      invoke('RecordBatchFailed', sfn.TaskInput.fromObject({ ...run, batch: sfn.JsonPath.objectAt('$.batch'), error: sfn.JsonPath.objectAt('$.error') }), '$.batch'),
    );
    deleteBatch.addCatch(batchFailed, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    const finish = guard(invoke('FinishRun', sfn.TaskInput.fromObject({ runId: at('$.runId') }), '$.outcome'));
    const ownedFiles = guard(invoke('DeleteOwnedFiles', sfn.TaskInput.fromObject({ ...run, files: sfn.JsonPath.objectAt('$.files') }), '$.files'));
    const startFiles = new sfn.Pass(this, 'StartOwnedFiles', { comment: 'Every member is done: the files the organization owns', result: sfn.Result.fromObject({}), resultPath: '$.files' });
    startFiles.next(ownedFiles);
    ownedFiles.next(new sfn.Choice(this, 'MoreOwnedFiles', { comment: 'Another page of owned files?' }).when(sfn.Condition.isPresent('$.files.cursor'), ownedFiles).otherwise(finish));

    // B4: a run cancelled by an operator or a reinstated contract stops before its next batch; the rest stays
    const more = new sfn.Choice(this, 'MoreMembers', { comment: 'Cancelled (B4)? Another batch of members?' })
      .when(sfn.Condition.isPresent('$.batch.stopped'), finish)
      .when(sfn.Condition.isPresent('$.batch.cursor'), deleteBatch)
      .otherwise(startFiles);
    startRun.next(new sfn.Choice(this, 'RunGoesOn', { comment: 'Cancelled before it began (B4)?' }).when(sfn.Condition.isPresent('$.batch.stopped'), finish).otherwise(deleteBatch));
    deleteBatch.next(more);
    batchFailed.next(more);
    finish.next(new sfn.Succeed(this, 'RunSucceeded', { comment: 'Every member processed' }));

    if (props.deletionStateMachine) {
      // B1 ignores grace periods (D7): a member's scheduled deletion is cancelled and its waiting execution stopped
      fns.DeleteBatch!.addEnvironment('DELETION_STATE_MACHINE_ARN', props.deletionStateMachine.stateMachineArn);
      props.deletionStateMachine.grantExecution(fns.DeleteBatch!, 'states:StopExecution');
    }
    const machine = new sfn.StateMachine(this, 'CancellationStateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      comment: 'offboard B1: a cancelled contract deletes every member (D2–D6) and every file its users uploaded (F3)',
      definitionBody: sfn.DefinitionBody.fromChainable(startRun),
      timeout: Duration.hours(24),
    });
    observeStateMachine(machine, new logs.LogGroup(this, 'CancellationLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY }));
    return machine;
  }
}
