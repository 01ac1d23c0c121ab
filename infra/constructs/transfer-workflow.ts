import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { OperationStates } from './operation-workflow.js';
import type { WorkflowSteps } from './workflow-steps.js';

export interface TransferWorkflowProps {
  steps: WorkflowSteps;
  /** A fixed name, so that its ARN is known without a reference to it (the steps it runs may start it again, B2). */
  stateMachineName?: string;
}

/**
 * The transfer of a user between organizations, from its stored plan:
 *
 *   AlreadyPlanned? ─no→ PlanImpact ─┐
 *        └─yes─────────────────────── ExportRequested? ─yes→ ExportFiles ⟲
 *                                        └─no──────────────── Apply ⟲ ─→ Finalize → OperationSucceeded
 *                                                               ├ applied whole in one invocation, finalized there ┘
 *                                                               └ NoFreeSeat → AwaitSeat → WaitingForSeat (T4, B2)
 *   any step failed past its retries → MarkFailed → OperationFailed
 */
export class TransferWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: TransferWorkflowProps) {
    super(scope, id);
    const s = new OperationStates(this, props.steps, 'transfer');

    // T4: no free seat at the destination: the transfer waits for a Seats Changed billing event (B2)
    const awaitSeat = s.guard(s.invoke('AwaitSeat', sfn.TaskInput.fromObject({ operationId: sfn.JsonPath.stringAt('$.operationId') })));
    awaitSeat.next(new sfn.Succeed(this, 'WaitingForSeat', { comment: 'T4: resumed by a Seats Changed billing event (B2)' }));
    const apply = s.apply();
    apply.addCatch(awaitSeat, { errors: ['NoFreeSeat'], resultPath: '$.error' });
    s.guard(apply);
    s.applyThenFinalize(apply);

    const start = s.plan(s.export(apply));
    this.stateMachine = s.stateMachine(start, Duration.hours(6), props.stateMachineName);
  }
}
