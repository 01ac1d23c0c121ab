import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { OffboardFunction, type TableAction } from './offboard-function.js';
import { bulkRunStateMachine } from './bulk-workflow.js';
import { DEFAULT_CONFIRMATION_THRESHOLD } from '../../functions/domain/lifecycle/bulk-run.js';

/** CONTRACT.md's billing events, one rule each, with what each function may do to the table (bindTable). */
export const BILLING_EVENTS = {
  ContractCancelled: {
    detailType: 'Contract Cancelled',
    entry: 'contract-cancelled',
    rule: 'B1, F3: every member deleted, every file of its users deleted, as one bulk run',
    // UpdateItem: the run's creation's outbox entry removed once its event is on the bus (docs/EVENTS.md)
    table: ['GetItem', 'PutItem', 'UpdateItem'],
  },
  SeatsChanged: {
    detailType: 'Seats Changed',
    entry: 'seats-changed',
    rule: 'B2: seats updated; transfers waiting for a seat resume, oldest first',
    // BatchGetItem: O1's premises of each waiting transfer in one read (services/transitions.ts premiseFacts)
    table: ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'],
  },
  PlanChanged: {
    detailType: 'Plan Changed',
    entry: 'plan-changed',
    rule: 'B3: plan updated; transfers not yet running that T1 now forbids are cancelled',
    // BatchGetItem: O1's premises of each waiting transfer in one read (services/transitions.ts premiseFacts)
    table: ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'],
  },
  // reads the organization's runs (GSI1), cancels those that have not started deleting, records it in their trail (X2)
  ContractReinstated: {
    detailType: 'Contract Reinstated',
    entry: 'contract-reinstated',
    rule: "B4: cancels the organization's contract-cancellation run that has not started deleting",
    table: ['GetItem', 'PutItem', 'UpdateItem'],
    index: ['Query'],
  },
} as const satisfies Record<
  string,
  { detailType: string; entry: string; rule: string; table: readonly TableAction[]; index?: readonly TableAction[] }
>;

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
    const principals = [
      ...publishers.accounts.map((a) => new iam.AccountPrincipal(a)),
      ...publishers.arns.map((a) => new iam.ArnPrincipal(a)),
    ];
    this.bus.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'NamedPublishersPutEvents',
        effect: iam.Effect.ALLOW,
        principals,
        actions: ['events:PutEvents'],
        resources: [this.bus.eventBusArn],
      }),
    );
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

    this.cancellation = bulkRunStateMachine(this, props);

    for (const [name, def] of Object.entries(BILLING_EVENTS)) {
      const fn = new OffboardFunction(this, name, {
        entry: `functions/handlers/billing/${def.entry}.ts`,
        description: `billing event "${def.detailType}": ${def.rule}`,
        size: 'event',
      })
        .bindTable(props.table, def.table, (def as { index?: readonly TableAction[] }).index)
        .bindBucket(props.bucket, { deleteFiles: false });
      if (name === 'ContractCancelled')
        fn.addEnvironment('CONFIRMATION_THRESHOLD', String(props.confirmationThreshold ?? DEFAULT_CONFIRMATION_THRESHOLD)); // B4
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
}
