import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { OffboardFunction } from './offboard-function.js';

/**
 * Every Lambda step of the workflows: state name → handler module, its size (memory and timeout, SIZES in
 * offboard-function.ts) and what it does. Finalize applies too: after an overlapping run it settles every chat it touched.
 */
export const STEP_DEFINITIONS = {
  StartPurge: { entry: 'start-purge', size: 'small', comment: 'D7: the grace period is over; the purge begins unless the deletion was undone (scheduled → running)' },
  CheckEligibility: { entry: 'check-eligibility', size: 'small', comment: 'T1, T2, T5 (transfer) or D1 (deletion) against the current data' },
  PlanImpact: { entry: 'plan-impact', size: 'planning', comment: 'X1: the plan this run applies, computed from the current data and stored as the impact' },
  ApplyMembership: { entry: 'apply-membership', size: 'small', comment: 'T4, T6, T9: membership, both seat counts, exemptions and API token in one transaction' },
  DeleteUser: { entry: 'delete-user', size: 'apply', comment: 'D2: the user is deleted, API token revoked, seat released' },
  HandleFiles: { entry: 'handle-files', size: 'apply', comment: 'F1, F2, F4: files deleted (bytes first) or handed over to the organization' },
  PruneContacts: { entry: 'prune-contacts', size: 'apply', comment: 'T7, D4: contacts broken on both sides' },
  LeaveChats: { entry: 'leave-chats', size: 'apply', comment: 'T8, D4, D5, G1, G2: chats left, administrators granted, direct chats frozen' },
  DeleteChats: { entry: 'delete-chats', size: 'apply', comment: 'D3, D4, D5, G2, T7, F2, D6: chats deleted with their contents; tasks deleted' },
  Finalize: { entry: 'finalize', size: 'apply', comment: 'The operation succeeded; its per-user lock is released' },
  MarkFailed: { entry: 'mark-failed', size: 'small', comment: 'The operation failed with its error; its per-user lock is released' },
  AwaitSeat: { entry: 'await-seat', size: 'small', comment: 'T4: no free seat at the destination; the transfer waits for a billing event (B2)' },
} as const;

export type StepName = keyof typeof STEP_DEFINITIONS;

export interface WorkflowStepsProps {
  table: dynamodb.ITable;
  bucket: s3.IBucket;
}

/** The step functions, shared by the transfer and deletion state machines. */
export class WorkflowSteps extends Construct {
  readonly functions: Record<StepName, OffboardFunction>;

  constructor(scope: Construct, id: string, props: WorkflowStepsProps) {
    super(scope, id);
    this.functions = Object.fromEntries(
      Object.entries(STEP_DEFINITIONS).map(([name, def]) => [
        name,
        new OffboardFunction(this, name, {
          entry: `functions/handlers/steps/${def.entry}.ts`,
          description: `offboard step ${name}: ${def.comment}`,
          size: def.size,
        })
          .bindTable(props.table)
          .bindBucket(props.bucket),
      ]),
    ) as Record<StepName, OffboardFunction>;
  }
}
