import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { OffboardFunction, type TableAction } from './offboard-function.js';
import { lambdaStep } from './lambda-step.js';
import { observeStateMachine } from './wildcard-grants.js';

/** Slices planned at once: each child reads its chats with its own requests in flight. */
const SLICES_IN_FLIGHT = 8;

export interface PlanningWorkflowProps {
  table: dynamodb.ITable;
  /** A deletion planned here starts (or waits out its grace period, D7) in the deletion workflow. */
  deletionStateMachine: sfn.IStateMachine;
  transferStateMachine: sfn.IStateMachine;
}

/**
 * CONTRACT.md `planning`: the plan of a preview, transfer or deletion too large to compute within its API request
 * (services/planning.ts PlanBudget), computed here: Plan computes and stores it, then the preview is ready or the
 * operation moves on (services/background-planning.ts). A failure (O1, X1, X3, or any error after its retries) goes
 * to PlanFailed: the operation ends failed with its error, or the preview keeps the refusal for GET /previews/{id}.
 */
export class PlanningWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly function: OffboardFunction;
  readonly failureFunction: OffboardFunction;
  readonly sliceFunction: OffboardFunction;
  readonly mergeFunction: OffboardFunction;

  constructor(scope: Construct, id: string, props: PlanningWorkflowProps) {
    super(scope, id);
    const planningFunction = (
      id: string,
      entry: string,
      description: string,
      size: 'backgroundPlanning' | 'small',
      table: readonly TableAction[],
      index: readonly TableAction[],
      movesOn = true,
    ) => {
      const f = new OffboardFunction(this, id, {
        entry: `functions/handlers/steps/${entry}.ts`,
        description: `offboard step ${description}`,
        size,
      }).bindTable(props.table, table, index);
      if (!movesOn) return f; // PlanSlice only stores its slice's entries
      // a deletion planned here starts, or waits out its grace period (D7), in the deletion workflow
      props.deletionStateMachine.grantStartExecution(f);
      f.addEnvironment('DELETION_STATE_MACHINE_ARN', props.deletionStateMachine.stateMachineArn);
      f.addEnvironment('TRANSFER_STATE_MACHINE_ARN', props.transferStateMachine.stateMachineArn);
      return f;
    };
    this.function = planningFunction(
      'Planner',
      'plan',
      'Plan: X1, a plan too large for its API request computed and stored; the preview or operation moves on',
      'backgroundPlanning',
      ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'BatchWriteItem'],
      ['Query'],
    );
    this.sliceFunction = planningFunction(
      'SlicePlanner',
      'plan-slice',
      "PlanSlice: one slice of a large user's chats planned, its entries stored",
      'backgroundPlanning',
      ['BatchGetItem', 'Query', 'BatchWriteItem'],
      ['Query'],
      false,
    );
    this.mergeFunction = planningFunction(
      'PlanMerger',
      'plan-merge',
      'Merge: the rest of a sliced plan planned, every slice merged into the plan and stored; the preview or operation moves on',
      'backgroundPlanning',
      ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'BatchWriteItem'],
      ['Query'],
    );
    this.failureFunction = planningFunction(
      'PlanningFailureRecorder',
      'plan-failed',
      'PlanFailed: the operation fails with the error (O1), or the preview keeps the refusal',
      'small',
      ['GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem', 'DeleteItem'],
      [],
    );

    const invoke = (name: string, fn: OffboardFunction, comment: string) => lambdaStep(this, name, fn, { comment });
    const failed = new sfn.Fail(this, 'PlanningFailed', {
      comment: 'The plan was refused or could not be computed; see the operation or preview',
      error: 'PlanningFailed',
      causePath: '$.error.Cause',
    });
    const planFailed = invoke(
      'PlanFailed',
      this.failureFunction,
      'The operation fails with the error (O1), or the preview keeps the refusal',
    );
    planFailed.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: '$.planFailedError' });
    planFailed.next(failed);
    // every failure of a planning step goes to PlanFailed, with the error beside the step's input
    const toFailed = { errors: [sfn.Errors.ALL], resultPath: '$.error' };
    const plan = invoke(
      'Plan',
      this.function,
      'X1: the plan, from the current data, stored; then the preview is ready or the operation moves on (or, for a user too large for one invocation, its slices for the Map)',
    );
    plan.addCatch(planFailed, toFailed);
    const planned = new sfn.Succeed(this, 'Planned', { comment: 'The plan is stored' });

    // services/sliced-planning.ts: a user with more chats than a slice is planned as a Map over slices of its chats,
    // each child planning one slice and storing its entries; then Merge plans the rest and merges them into the plan.
    // A Distributed Map on AWS (each child an execution of its own, so no payload or history limit binds it); the
    // local runner runs it as an inline Map (LOCAL-AWS.md).
    const slice = invoke(
      'PlanSlice',
      this.sliceFunction,
      "One slice of the user's chats planned (D3, D4, D5, F1, F2, T-rules, X3's joins), its entries stored",
    );
    const slices = new sfn.DistributedMap(this, 'PlanSlices', {
      comment: "Each slice of the user's chats planned by its own child",
      itemsPath: '$.slices',
      itemSelector: { 'planId.$': '$.planId', 'slice.$': '$$.Map.Item.Value' },
      maxConcurrency: SLICES_IN_FLIGHT,
      mapExecutionType: sfn.StateMachineType.STANDARD,
      resultPath: sfn.JsonPath.DISCARD,
    });
    slices.itemProcessor(slice);
    slices.addCatch(planFailed, toFailed);
    const merge = invoke(
      'Merge',
      this.mergeFunction,
      'X1: the rest planned (contacts, D6, X3) and every slice merged into the plan, stored; then as after Plan',
    ).addCatch(planFailed, toFailed);
    slices.next(merge);
    merge.next(planned);
    plan.next(
      new sfn.Choice(this, 'Sliced?', { comment: 'A user too large for one invocation: its slices to plan' })
        .when(sfn.Condition.isPresent('$.slices'), slices)
        .otherwise(planned),
    );

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      comment: 'offboard planning: the plan of a preview, transfer or deletion too large for its API request (CONTRACT.md planning)',
      definitionBody: sfn.DefinitionBody.fromChainable(plan),
      timeout: Duration.hours(1),
    });
    observeStateMachine(
      this.stateMachine,
      new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY }),
    );
  }
}
