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
  'EventsNotPublished', // docs/EVENTS.md: the outbox is delivered by the retried step (functions/handlers/steps/step.ts)
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
    /**
     * A step that returns a cursor while effects remain: a Choice calls it again with the cursor. `before` adds the
     * Catches that come before the catch-all (a Catch is matched in order).
     */
    const paged = (task: tasks.LambdaInvoke, before: (task: tasks.LambdaInvoke) => void): Link => {
      before(task);
      withCatch(task);
      const more = new sfn.Choice(this, `${task.id}HasMore`, { comment: `More effects remain: call ${task.id} again with the cursor` });
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
    // the plan stored for this run at its request or approval: nothing for PlanImpact to do
    const planImpact = single('PlanImpact');
    const planned = new sfn.Choice(this, 'AlreadyPlanned', { comment: 'X1: the plan was stored for this run when it was requested or approved; otherwise PlanImpact checks it or plans again' });
    planned.otherwise(planImpact.entry);
    links.push({ entry: planned, link: (next) => (planned.when(sfn.Condition.and(sfn.Condition.isPresent('$.planned'), sfn.Condition.booleanEquals('$.planned', true)), next), planImpact.link(next)) });
    // X4: an export requested with the operation is written and verified before its first effect
    const exportFiles = paged(invoke('ExportFiles'), () => undefined);
    const exporting = new sfn.Choice(this, 'ExportRequested', { comment: 'X4: requested with "export": true, the archive is written and verified before anything is deleted' });
    exporting.when(sfn.Condition.and(sfn.Condition.isPresent('$.export'), sfn.Condition.booleanEquals('$.export', true)), exportFiles.entry);
    links.push({ entry: exporting, link: (next) => (exporting.otherwise(next), exportFiles.link(next)) });
    // every phase in one step, as many as fit in an invocation: a small operation is applied in one
    const apply = paged(invoke('Apply'), (task) => {
      if (props.operation !== 'transfer') return;
      const awaitSeat = invoke('AwaitSeat', sfn.TaskInput.fromObject({ operationId: sfn.JsonPath.stringAt('$.operationId') }));
      withCatch(awaitSeat);
      awaitSeat.next(new sfn.Succeed(this, 'WaitingForSeat', { comment: 'T4: resumed by a Seats Changed billing event (B2)' }));
      task.addCatch(awaitSeat, { errors: ['NoFreeSeat'], resultPath: '$.error' });
    });
    links.push(apply, single('Finalize'));
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
