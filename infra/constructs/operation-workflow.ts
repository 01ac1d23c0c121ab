import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import type { Operation } from '../../functions/domain/impact.js';
import { phasesOf } from '../../functions/domain/phases.js';
import { lambdaStep } from './lambda-step.js';
import { STEP_DEFINITIONS, type StepName, type WorkflowSteps } from './workflow-steps.js';
import { observeStateMachine } from './wildcard-grants.js';

// the retry lists are lambda-step.ts's; kept importable from here
export { LAMBDA_SERVICE_ERRORS, TRANSIENT_STORE_ERRORS } from './lambda-step.js';

/** The transfer workflow's name and ARN, known before it exists: steps that free a seat start waiting transfers (T4, B2). */
export const transferStateMachineName = (stack: Stack) => `${stack.stackName}-transfer`;
export const transferStateMachineArn = (stack: Stack) =>
  stack.formatArn({
    service: 'states',
    resource: 'stateMachine',
    resourceName: transferStateMachineName(stack),
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });

/**
 * The states the transfer and deletion workflows share (transfer-workflow.ts, deletion-workflow.ts read top-down with
 * them): the steps as Tasks with their retries, the failure path (MarkFailed, then OperationFailed), and the run
 * from its stored plan: AlreadyPlanned → PlanImpact, ExportRequested → ExportFiles, Apply, Finalize. State payloads
 * carry only the operation id and, for paged steps, a cursor: never lists of unbounded size.
 */
export class OperationStates {
  /** Where every step goes when it fails past its retries: the operation ends failed with its error. */
  readonly markFailed: tasks.LambdaInvoke;

  constructor(
    private readonly scope: Construct,
    private readonly steps: WorkflowSteps,
    private readonly operation: Operation,
  ) {
    const failed = new sfn.Fail(scope, 'OperationFailed', {
      comment: 'The operation ended failed; see its error',
      error: 'OperationFailed',
      causePath: '$.error.Cause',
    });
    const input = sfn.TaskInput.fromObject({
      operationId: sfn.JsonPath.stringAt('$.operationId'),
      error: sfn.JsonPath.objectAt('$.error'),
    });
    this.markFailed = this.invoke('MarkFailed', input);
    this.markFailed.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: '$.markFailedError' });
    this.markFailed.next(failed);
  }

  /** A step's Task (its comment from STEP_DEFINITIONS), retried; no Catch yet. */
  invoke(name: StepName, payload?: sfn.TaskInput, comment: string = STEP_DEFINITIONS[name].comment): tasks.LambdaInvoke {
    return lambdaStep(this.scope, name, this.steps.functions[name], { comment, ...(payload ? { payload } : {}) });
  }

  /** The catch-all, after any Catch added before it (a Catch is matched in order): the operation ends failed. */
  guard(task: tasks.LambdaInvoke): tasks.LambdaInvoke {
    task.addCatch(this.markFailed, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    return task;
  }

  /** A step that returns a cursor while effects remain: the Choice returned calls it again with the cursor. */
  loop(task: tasks.LambdaInvoke): sfn.Choice {
    const more = new sfn.Choice(this.scope, `${task.id}HasMore`, { comment: `More effects remain: call ${task.id} again with the cursor` });
    task.next(more);
    return more.when(sfn.Condition.isPresent('$.cursor'), task);
  }

  /** X1: the plan stored for this run at its request or approval; otherwise PlanImpact checks it or plans again. */
  plan(next: sfn.IChainable): sfn.Choice {
    const planImpact = this.guard(this.invoke('PlanImpact'));
    planImpact.next(next);
    const comment = 'X1: the plan was stored for this run when it was requested or approved; otherwise PlanImpact checks it or plans again';
    return new sfn.Choice(this.scope, 'AlreadyPlanned', { comment })
      .when(sfn.Condition.and(sfn.Condition.isPresent('$.planned'), sfn.Condition.booleanEquals('$.planned', true)), next)
      .otherwise(planImpact);
  }

  /** X4: an export requested with the operation is written and verified before its first effect. */
  export(next: sfn.IChainable): sfn.Choice {
    const exportFiles = this.guard(this.invoke('ExportFiles'));
    this.loop(exportFiles).otherwise(next);
    const comment = 'X4: requested with "export": true, the archive is written and verified before anything is deleted';
    return new sfn.Choice(this.scope, 'ExportRequested', { comment })
      .when(sfn.Condition.and(sfn.Condition.isPresent('$.export'), sfn.Condition.booleanEquals('$.export', true)), exportFiles)
      .otherwise(next);
  }

  /**
   * The Apply step: every phase of the run in its order, as many as fit in an invocation (a small operation is applied
   * in one). The order is the phase table's (domain/phases.ts), the one the step itself applies: its comment says it.
   */
  apply(): tasks.LambdaInvoke {
    return this.invoke('Apply', undefined, `${STEP_DEFINITIONS.Apply.comment}. Phases in order: ${phasesOf(this.operation).join(', ')}`);
  }

  /**
   * Apply ⟲ while a cursor remains, then Finalize, then the run succeeded; a run Apply applied whole in one invocation
   * was finalized there (`finalized`, issue 18: a small operation's record and plan read once) and succeeds at once.
   */
  applyThenFinalize(apply: tasks.LambdaInvoke): void {
    const succeeded = new sfn.Succeed(this.scope, 'OperationSucceeded', { comment: 'Every planned effect applied' });
    const finalize = this.guard(this.invoke('Finalize'));
    finalize.next(succeeded);
    this.loop(apply)
      .when(sfn.Condition.and(sfn.Condition.isPresent('$.finalized'), sfn.Condition.booleanEquals('$.finalized', true)), succeeded)
      .otherwise(finalize);
  }

  /** The Standard state machine (JSONPath) from `start`, traced, every state transition logged (X2). */
  stateMachine(start: sfn.IChainable, timeout: Duration, stateMachineName?: string): sfn.StateMachine {
    const machine = new sfn.StateMachine(this.scope, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      ...(stateMachineName ? { stateMachineName } : {}),
      comment: `offboard ${this.operation}: applies exactly the planned effects (X1), each step idempotent`,
      definitionBody: sfn.DefinitionBody.fromChainable(start),
      timeout,
    });
    // an audit trail of what ran (X2); execution data stays out of the logs
    const logGroup = new logs.LogGroup(this.scope, 'Logs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    observeStateMachine(machine, logGroup);
    return machine;
  }
}
