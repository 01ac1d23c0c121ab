import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { Api } from './constructs/api.js';
import { Billing } from './constructs/billing.js';
import { ConsoleHosting } from './constructs/console-hosting.js';
import { Data } from './constructs/data.js';
import * as iam from 'aws-cdk-lib/aws-iam';
import { OperationEvents } from './constructs/operation-events.js';
import type { OffboardFunction } from './constructs/offboard-function.js';
import { PlanningWorkflow } from './constructs/planning-workflow.js';
import { transferStateMachineArn, transferStateMachineName } from './constructs/operation-workflow.js';
import { DeletionWorkflow } from './constructs/deletion-workflow.js';
import { TransferWorkflow } from './constructs/transfer-workflow.js';
import { WorkflowSteps } from './constructs/workflow-steps.js';

export interface OffboardStackProps extends StackProps {
  jwtIssuer?: string;
  jwtAudience?: string[];
  userIdClaim?: string;
  /** The issuer of the Cognito pool's tokens, where not AWS's (LocalStack: `http://localhost:4566`). */
  cognitoIssuerBase?: string;
  /** Keep the table and bucket when the stack is deleted (default true). */
  retainData?: boolean;
  /**
   * `none` leaves out the HTTP API and everything browsers reach (its JWT authorizer, the Cognito pool, and any
   * hosting served to browsers, which belongs under the same switch) while the API's functions, the state machines,
   * table, bucket, bus, queues and alarm deploy as usual: for LocalStack's free tier (`-c offboard:api=none`).
   */
  api?: 'http' | 'none';
  /** The console's sign-in (see Api): OIDC client id and scopes with `jwtIssuer`, the Cognito domain prefix without. */
  oidcClientId?: string;
  oidcScope?: string;
  signInDomainPrefix?: string;
  /** The built admin console (default `console/dist`). */
  consoleAppDirectory?: string;
  /** B4: contract cancellations of more members wait for an operator (`offboard:confirmationThreshold`, default 500). */
  confirmationThreshold?: number;
  /** B4: account ids and IAM principal ARNs that may put billing events (`offboard:billingPublishers`; default this account). */
  billingPublishers?: string[];
  /**
   * Operator routes need this OAuth scope at the gateway (HttpJwtAuthorizer route authorization scopes), where the
   * identity provider issues it (`offboard:operatorScope`; default `offboard/operator`; `none`: checked by the handlers only).
   */
  operatorScope?: string;
  /** false: no reserved concurrency (an account below the default 1,000 concurrent executions); see Api. */
  reservedConcurrency?: boolean;
}

/** The stack only wires constructs: data, workflows, API, the admin console's hosting. */
export class OffboardStack extends Stack {
  constructor(scope: Construct, id: string, props: OffboardStackProps = {}) {
    super(scope, id, props);
    const data = new Data(this, 'Data', { retain: props.retainData });
    const steps = new WorkflowSteps(this, 'Steps', { table: data.table, bucket: data.bucket, exports: data.exports });
    const transfer = new TransferWorkflow(this, 'TransferWorkflow', { steps, stateMachineName: transferStateMachineName(this) });
    // T4, B2: a step that frees a seat (Finalize, or Apply finalizing a run it applied whole) or gives one back
    // (MarkFailed) resumes the transfers waiting for it
    for (const name of ['Apply', 'Finalize', 'MarkFailed'] as const) {
      const fn = steps.functions[name];
      fn.addEnvironment('TRANSFER_STATE_MACHINE_ARN', transferStateMachineArn(this));
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [transferStateMachineArn(this)] }));
    }
    const deletion = new DeletionWorkflow(this, 'DeletionWorkflow', { steps });
    const billing = new Billing(this, 'Billing', {
      table: data.table,
      bucket: data.bucket,
      transferStateMachine: transfer.stateMachine,
      deletionStateMachine: deletion.stateMachine,
      confirmationThreshold: props.confirmationThreshold,
      billingPublishers: props.billingPublishers,
    });
    const planning = new PlanningWorkflow(this, 'PlanningWorkflow', {
      table: data.table,
      deletionStateMachine: deletion.stateMachine,
      transferStateMachine: transfer.stateMachine,
    });
    const api = new Api(this, 'Api', {
      table: data.table,
      exports: data.exports,
      transferStateMachine: transfer.stateMachine,
      deletionStateMachine: deletion.stateMachine,
      cancellationStateMachine: billing.cancellation,
      planningStateMachine: planning.stateMachine,
      jwtIssuer: props.jwtIssuer,
      jwtAudience: props.jwtAudience,
      userIdClaim: props.userIdClaim,
      cognitoIssuerBase: props.cognitoIssuerBase,
      http: props.api !== 'none',
      oidcClientId: props.oidcClientId,
      oidcScope: props.oidcScope,
      signInDomainPrefix: props.signInDomainPrefix,
      operatorScope: props.operatorScope,
      reservedConcurrency: props.reservedConcurrency,
    });
    // docs/EVENTS.md: the functions that make lifecycle transitions (services/transitions.ts, bulk-run.ts) emit them
    const operationEvents = new OperationEvents(this, 'OperationEvents', { table: data.table });
    const runStep = (name: string) => billing.node.findChild('RunSteps').node.findChild(name) as OffboardFunction;
    operationEvents.emitFrom([
      ...['Transfers', 'Deletions', 'BillingRuns', 'Scim'].map((n) => api.functions[n]!),
      ...(['StartPurge', 'Apply', 'Finalize', 'MarkFailed', 'AwaitSeat'] as const).map((n) => steps.functions[n]),
      planning.function, // the transitions out of `planning`
      planning.mergeFunction,
      planning.failureFunction,
      ...Object.values(billing.functions),
      ...['StartRun', 'DeleteBatch', 'FinishRun', 'FailRun'].map(runStep), // DeleteBatch: B1 cancels a member's scheduled deletion
    ]);
    // The admin console goes with the API it calls (and is left out with it, api=none): served by CloudFront, signed
    // in through the API's identity provider.
    if (api.httpApi && api.signIn) {
      const hosting = new ConsoleHosting(this, 'Console', {
        apiUrl: api.httpApi.apiEndpoint,
        signIn: api.signIn,
        appDirectory: props.consoleAppDirectory,
        retain: props.retainData,
      });
      api.allowConsole(hosting.url);
    }
    new CfnOutput(this, 'TableName', { value: data.table.tableName });
    new CfnOutput(this, 'BucketName', { value: data.bucket.bucketName });
    new CfnOutput(this, 'ExportBucketName', { value: data.exports.bucketName });
    new CfnOutput(this, 'TransferStateMachineArn', { value: transfer.stateMachine.stateMachineArn });
    new CfnOutput(this, 'DeletionStateMachineArn', { value: deletion.stateMachine.stateMachineArn });
    new CfnOutput(this, 'PlanningStateMachineArn', { value: planning.stateMachine.stateMachineArn });
    new CfnOutput(this, 'CancellationStateMachineArn', { value: billing.cancellation.stateMachineArn });
    new CfnOutput(this, 'BillingEventBusName', { value: billing.bus.eventBusName });
    new CfnOutput(this, 'OperationEventBusName', { value: operationEvents.bus.eventBusName });
    new CfnOutput(this, 'BillingDeadLetterQueueUrl', { value: billing.deadLetters.queueUrl });
  }
}
