import { Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import type { OffboardFunction } from './offboard-function.js';

/**
 * The operation event bus (docs/EVENTS.md): lifecycle transitions of transfers, deletions and billing runs, and one
 * `Affected` event per person an operation affects. Subscribers add their own rules (source `offboard`). Only the
 * functions that make transitions may put events, and only on this bus.
 */
export class OperationEvents extends Construct {
  readonly bus: events.EventBus;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.bus = new events.EventBus(this, 'Bus', { eventBusName: `${Stack.of(this).stackName}-operations` });
  }

  /** events:PutEvents on this bus only, and its name (OPERATION_EVENT_BUS_NAME), for each function that emits. */
  emitFrom(fns: readonly OffboardFunction[]): void {
    for (const fn of fns) {
      this.bus.grantPutEventsTo(fn);
      fn.addEnvironment('OPERATION_EVENT_BUS_NAME', this.bus.eventBusName);
    }
  }
}
