import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { OffboardFunction, type FunctionSize, type TableAction } from './offboard-function.js';

/**
 * Every Lambda step of the workflows: state name → handler module, its size (memory and timeout, SIZES in
 * offboard-function.ts), what it does, and what it may do to the table
 * (`table`, `index`: bindTable) and the bucket (`deleteFiles`), no more than its code does (test/least-privilege/).
 */
export const STEP_DEFINITIONS = {
  StartPurge: {
    entry: 'start-purge',
    size: 'small',
    comment: 'D7: the grace period is over; the purge begins unless the deletion was undone (scheduled → running)',
    table: ['GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem'],
  },
  PlanImpact: {
    entry: 'plan-impact',
    size: 'planning',
    comment: 'X1: the plan this run applies, computed from the current data and stored as the impact (O1: its premises first)',
    table: ['GetItem', 'BatchGetItem', 'Query', 'UpdateItem', 'BatchWriteItem'],
    index: ['Query'],
  },
  // X4: reads the plan, the files' records, chats and uploaders; records the export, its parts and the audit
  ExportFiles: {
    entry: 'export-files',
    size: 'apply',
    comment: "X4: before the first deletion, the organization's files the plan deletes are written to an archive and verified",
    table: ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem'],
    exportFiles: true,
  },
  // O1: before the first effect, the premises again (D1: the organization's administrators, GSI1); X3: the successor's
  // join and the user's leave in one transaction, conditional on the successor (ConditionCheckItem, PutItem, DeleteItem)
  Apply: {
    entry: 'apply',
    size: 'apply',
    comment:
      'Every planned effect, phase by phase: T4, T6, T9 membership or D2 the user deleted; F1, F2, F4 files; T7, D4 contacts; X3 the successor joins; T8, D4, D5, G1, G2 chats left; D3-D6 chats and tasks deleted or reassigned',
    table: [
      'GetItem',
      'BatchGetItem',
      'Query',
      'PutItem',
      'UpdateItem',
      'DeleteItem',
      'ConditionCheckItem',
      'BatchWriteItem',
      'PartiQLUpdate',
    ],
    index: ['Query'],
    deleteFiles: true,
  },
  // G2, D4, D5 settled against runs beside it (admins granted, chats deleted with their files); T4 resumes a waiting transfer
  Finalize: {
    entry: 'finalize',
    size: 'apply',
    comment: 'The operation succeeded; its per-user lock is released',
    table: ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'PartiQLUpdate'],
    deleteFiles: true,
  },
  // BatchGetItem: the outbox's retry path builds an undelivered transition's Affected events from its plan (docs/EVENTS.md)
  MarkFailed: {
    entry: 'mark-failed',
    size: 'small',
    comment: 'The operation failed with its error; its per-user lock is released',
    table: ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'],
  },
  AwaitSeat: {
    entry: 'await-seat',
    size: 'small',
    comment: 'T4: no free seat at the destination; the transfer waits for a billing event (B2)',
    table: ['GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem'],
  },
} as const satisfies Record<
  string,
  {
    entry: string;
    size: FunctionSize;
    comment: string;
    table: readonly TableAction[];
    index?: readonly TableAction[];
    deleteFiles?: boolean;
    exportFiles?: boolean;
  }
>;

export type StepName = keyof typeof STEP_DEFINITIONS;

export interface WorkflowStepsProps {
  table: dynamodb.ITable;
  bucket: s3.IBucket;
  /** X4: the export bucket. */
  exports: s3.IBucket;
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
          .bindTable(props.table, def.table, 'index' in def ? def.index : [])
          .bindBucket(props.bucket, { deleteFiles: 'deleteFiles' in def && def.deleteFiles }),
      ]),
    ) as Record<StepName, OffboardFunction>;
    // X4: only the export step reads file bytes, and writes and reads back the archive (multipart uploads are s3:PutObject)
    for (const [name, def] of Object.entries(STEP_DEFINITIONS)) {
      if (!('exportFiles' in def)) continue;
      const f = this.functions[name as StepName];
      f.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [props.bucket.arnForObjects('chats/*')] }));
      f.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:GetObject'], resources: [props.exports.arnForObjects('exports/*')] }),
      );
      f.addEnvironment('EXPORT_BUCKET_NAME', props.exports.bucketName);
    }
  }
}
