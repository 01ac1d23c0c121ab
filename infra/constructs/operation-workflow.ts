import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { STEP_DEFINITIONS, type StepName, type WorkflowSteps } from './workflow-steps.js';
import { observeStateMachine } from './wildcard-grants.js';

/** Lambda service errors and throttling: retried with exponential backoff and full jitter. */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];

/** Transient store errors surfaced by a step: retried too. Steps are idempotent, so a retry never duplicates an effect. */
export const TRANSIENT_STORE_ERRORS = [
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TransactionConflictException',
  'InternalServerError',
  'IncompleteBatch',
  'TimeoutError',
];

export interface OperationWorkflowProps {
  operation: 'transfer' | 'deletion';
  steps: WorkflowSteps;
  /** A fixed name, so that its ARN is known without a reference to it (the steps it runs may start it again, B2). */
  stateMachineName?: string;
}

/** The transfer workflow's name and ARN, known before it exists: steps that free a seat start waiting transfers (T4, B2). */
export const transferStateMachineName = (stack: Stack) => `${stack.stackName}-transfer`;
export const transferStateMachineArn = (stack: Stack) =>
  stack.formatArn({ service: 'states', resource: 'stateMachine', resourceName: transferStateMachineName(stack), arnFormat: ArnFormat.COLON_RESOURCE_NAME });

/**
 * A Standard state machine (JSONPath) that runs one operation from its stored plan. State payloads carry only the
 * operation id and, for paged steps, a cursor: never lists of unbounded size.
 */
export class OperationWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: OperationWorkflowProps) {
    super(scope, id);
    const fns = props.steps.functions;

    const invoke = (name: StepName, payload?: sfn.TaskInput) => {
      const task = new tasks.LambdaInvoke(this, name, {
        lambdaFunction: fns[name],
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
        comment: STEP_DEFINITIONS[name].comment,
        ...(payload ? { payload } : {}),
      });
      task.addRetry({ errors: LAMBDA_SERVICE_ERRORS, interval: Duration.seconds(1), maxAttempts: 6, backoffRate: 2, maxDelay: Duration.seconds(30), jitterStrategy: sfn.JitterType.FULL });
      task.addRetry({ errors: TRANSIENT_STORE_ERRORS, interval: Duration.seconds(1), maxAttempts: 5, backoffRate: 2, maxDelay: Duration.seconds(30), jitterStrategy: sfn.JitterType.FULL });
      return task;
    };

    const failed = new sfn.Fail(this, 'OperationFailed', { comment: 'The operation ended failed; see its error', error: 'OperationFailed', causePath: '$.error.Cause' });
    const markFailed = invoke('MarkFailed', sfn.TaskInput.fromObject({ operationId: sfn.JsonPath.stringAt('$.operationId'), error: sfn.JsonPath.objectAt('$.error') }));
    markFailed.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: '$.markFailedError' });
    markFailed.next(failed);

    const withCatch = (task: tasks.LambdaInvoke) => task.addCatch(markFailed, { errors: [sfn.Errors.ALL], resultPath: '$.error' });

    type Link = { entry: sfn.State; link: (next: sfn.IChainable) => void };
    const single = (name: StepName, before?: (task: tasks.LambdaInvoke) => void): Link => {
      const task = invoke(name);
      before?.(task);
      withCatch(task);
      return { entry: task, link: (next) => task.next(next) };
    };
    /** A step that returns a cursor while effects remain: a Choice calls it again with the cursor. */
    const paged = (name: StepName): Link => {
      const task = withCatch(invoke(name));
      const more = new sfn.Choice(this, `${name}HasMore`, { comment: `More ${name} effects remain: call again with the cursor` });
      task.next(more);
      more.when(sfn.Condition.isPresent('$.cursor'), task);
      return { entry: task, link: (next) => more.otherwise(next) };
    };

    const links: Link[] = [];
    if (props.operation === 'deletion') {
      // D7 beyond: a deletion under a grace period waits here, its user suspended, until its purge date. A Wait in the
      // execution (not EventBridge Scheduler): one resource, stopped by an undo, and its history shows the wait.
      const wait = new sfn.Wait(this, 'WaitUntilPurge', { comment: 'D7: the grace period; an undo stops the execution here', time: sfn.WaitTime.timestampPath('$.purgeAt') });
      const startPurge = withCatch(invoke('StartPurge'));
      const purging = new sfn.Choice(this, 'PurgeStarted', { comment: 'Undone (or cancelled by B1) before the purge date: nothing is purged' });
      purging.when(sfn.Condition.booleanEquals('$.purge', false), new sfn.Succeed(this, 'NotPurged', { comment: 'D7: undone; nothing was purged' }));
      wait.next(startPurge);
      startPurge.next(purging);
      const grace = new sfn.Choice(this, 'GracePeriod', { comment: 'D7: a deletion under a grace period waits until its purge date; otherwise it runs now' });
      grace.when(sfn.Condition.isPresent('$.purgeAt'), wait);
      links.push({ entry: grace, link: (next) => (grace.otherwise(next), purging.otherwise(next)) });
    }
    links.push(single('CheckEligibility'), single('PlanImpact'), paged('ExportFiles')); // X4: before the first effect
    if (props.operation === 'transfer') {
      const awaitSeat = invoke('AwaitSeat', sfn.TaskInput.fromObject({ operationId: sfn.JsonPath.stringAt('$.operationId') }));
      withCatch(awaitSeat);
      awaitSeat.next(new sfn.Succeed(this, 'WaitingForSeat', { comment: 'T4: resumed by a Seats Changed billing event (B2)' }));
      links.push(single('ApplyMembership', (t) => t.addCatch(awaitSeat, { errors: ['NoFreeSeat'], resultPath: '$.error' })));
    } else {
      links.push(paged('DeleteUser'));
    }
    links.push(paged('HandleFiles'), paged('PruneContacts'), paged('LeaveChats'), paged('DeleteChats'), single('Finalize'));
    links.forEach((l, i) => l.link(i + 1 < links.length ? links[i + 1]!.entry : new sfn.Succeed(this, 'OperationSucceeded', { comment: 'Every planned effect applied' })));

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      ...(props.stateMachineName ? { stateMachineName: props.stateMachineName } : {}),
      comment: `offboard ${props.operation}: applies exactly the planned effects (X1), each step idempotent`,
      definitionBody: sfn.DefinitionBody.fromChainable(links[0]!.entry),
      // a deletion may wait out a grace period of up to 30 days (D7) before its run of at most 6 hours
      timeout: props.operation === 'deletion' ? Duration.days(31) : Duration.hours(6),
    });
    // Traced, and every state transition logged (an audit trail of what ran, X2); execution data stays out of the logs.
    observeStateMachine(this.stateMachine, new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY }));
  }
}
