import { Duration, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { OffboardFunction } from './offboard-function.js';

/**
 * The operation event bus (docs/EVENTS.md): lifecycle transitions of transfers, deletions and billing runs, and one
 * `Affected` event per person an operation affects. Subscribers add their own rules (source `offboard`). Only the
 * functions that make transitions may put events, and only on this bus; and the outbox sweeper, which delivers what
 * a stopped one left.
 */
export class OperationEvents extends Construct {
  readonly bus: events.EventBus;
  readonly sweeper: OffboardFunction;

  constructor(scope: Construct, id: string, props: { table: dynamodb.ITable }) {
    super(scope, id);
    this.bus = new events.EventBus(this, 'Bus', { eventBusName: `${Stack.of(this).stackName}-operations` });
    // docs/EVENTS.md, the outbox sweeper: every minute, the outbox entries older than 2 minutes (the outbox index,
    // GSI2) claimed, their events put with the ids their transitions gave them, the entries removed
    this.sweeper = new OffboardFunction(this, 'OutboxSweeper', {
      entry: 'functions/handlers/scheduled/sweep-outbox.ts',
      description: 'offboard outbox sweeper: the events of transitions whose own invocation stopped before putting them (docs/EVENTS.md)',
      size: 'sweep',
    }).bindTable(props.table, ['UpdateItem', 'GetItem', 'BatchGetItem']);
    // Query on the outbox index only (GetItem, BatchGetItem: a plan's header and pages, for the Affected events)
    this.sweeper.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources: [`${props.table.tableArn}/index/GSI2`] }),
    );
    // the next minute's sweep is the retry: no asynchronous retries of a sweep that failed
    this.sweeper.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(1) });
    new events.Rule(this, 'OutboxSweep', {
      description: 'offboard: the outbox sweeper, every minute (docs/EVENTS.md)',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(this.sweeper, { retryAttempts: 0, maxEventAge: Duration.minutes(1) })],
    });
    this.emitFrom([this.sweeper]);
  }

  /** events:PutEvents on this bus only, and its name (OPERATION_EVENT_BUS_NAME), for each function that emits. */
  emitFrom(fns: readonly OffboardFunction[]): void {
    for (const fn of fns) {
      this.bus.grantPutEventsTo(fn);
      fn.addEnvironment('OPERATION_EVENT_BUS_NAME', this.bus.eventBusName);
    }
  }
}
