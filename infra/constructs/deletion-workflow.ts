import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { OperationStates } from './operation-workflow.js';
import type { WorkflowSteps } from './workflow-steps.js';

export interface DeletionWorkflowProps {
  steps: WorkflowSteps;
}

/**
 * The deletion of a user, from its stored plan, after its grace period if its organization has one (D7):
 *
 *   GracePeriod? ─yes→ WaitUntilPurge → StartPurge → PurgeStarted? ─no→ NotPurged (undone)
 *        └─no──────────────────────────────────────────┴─yes→ AlreadyPlanned? ─no→ PlanImpact ─┐
 *                                                                 └─yes────────────────────── ExportRequested?
 *   ExportRequested? ─yes→ ExportFiles ⟲ ─┐
 *        └─no──────────────────────────── Apply ⟲ → Finalize → OperationSucceeded
 *                                           └ applied whole in one invocation, finalized there ┘
 *   any step failed past its retries → MarkFailed → OperationFailed
 */
export class DeletionWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: DeletionWorkflowProps) {
    super(scope, id);
    const s = new OperationStates(this, props.steps, 'deletion');

    const apply = s.guard(s.apply());
    s.applyThenFinalize(apply);
    const run = s.plan(s.export(apply));

    // D7: a deletion under a grace period waits here, its user suspended, until its purge date. A Wait in the execution
    // (not EventBridge Scheduler): one resource, stopped by an undo, and its history shows the wait.
    const wait = new sfn.Wait(this, 'WaitUntilPurge', {
      comment: 'D7: the grace period; an undo stops the execution here',
      time: sfn.WaitTime.timestampPath('$.purgeAt'),
    });
    const purging = new sfn.Choice(this, 'PurgeStarted', {
      comment: 'Undone (or cancelled by B1) before the purge date: nothing is purged',
    })
      .when(
        sfn.Condition.booleanEquals('$.purge', false),
        new sfn.Succeed(this, 'NotPurged', { comment: 'D7: undone; nothing was purged' }),
      )
      .otherwise(run);
    const startPurge = s.guard(s.invoke('StartPurge'));
    startPurge.next(purging);
    wait.next(startPurge);
    const grace = new sfn.Choice(this, 'GracePeriod', {
      comment: 'D7: a deletion under a grace period waits until its purge date; otherwise it runs now',
    })
      .when(sfn.Condition.isPresent('$.purgeAt'), wait)
      .otherwise(run);

    // a deletion may wait out a grace period of up to 30 days (D7) before its run of at most 6 hours
    this.stateMachine = s.stateMachine(grace, Duration.days(31));
  }
}
