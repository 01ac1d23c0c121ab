import { type CfnResource, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';

/**
 * The only grants on `Resource: *` in the stack, each in a policy of its own (issue 17): actions that take no
 * resource-level permission. Kept out of the roles' default policies so that cdk-nag's `IAM5[Resource::*]` is
 * accepted for these two policies by path (test/infra/nag.test.ts), and any other grant on `*` fails it.
 */
function singleton(scope: Construct, id: string, statements: iam.PolicyStatement[]): iam.Policy {
  const stack = Stack.of(scope);
  return (stack.node.tryFindChild(id) as iam.Policy | undefined) ?? new iam.Policy(stack, id, { statements });
}

/** X-Ray for every function: PutTraceSegments and PutTelemetryRecords take no resource (Service Authorization Reference). */
export function functionTracingPolicy(scope: Construct): iam.Policy {
  return singleton(scope, 'FunctionTracing', [
    new iam.PolicyStatement({ actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resources: ['*'] }),
  ]);
}

/**
 * What a state machine needs to trace (X-Ray) and to deliver its logs to CloudWatch Logs: none of these actions takes
 * a resource (CDK's StateMachine grants the same, in the role's default policy, with `tracingEnabled` and `logs`).
 */
function stateMachineObservabilityPolicy(scope: Construct): iam.Policy {
  return singleton(scope, 'StateMachineObservability', [
    new iam.PolicyStatement({
      actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      actions: [
        'logs:CreateLogDelivery',
        'logs:GetLogDelivery',
        'logs:UpdateLogDelivery',
        'logs:DeleteLogDelivery',
        'logs:ListLogDeliveries',
        'logs:PutResourcePolicy',
        'logs:DescribeResourcePolicies',
        'logs:DescribeLogGroups',
      ],
      resources: ['*'],
    }),
  ]);
}

/** Tracing on, and every state transition logged to `logGroup` without execution data (X2), with the policy above. */
export function observeStateMachine(machine: sfn.StateMachine, logGroup: logs.ILogGroup): void {
  const cfn = machine.node.defaultChild as sfn.CfnStateMachine;
  cfn.tracingConfiguration = { enabled: true };
  cfn.loggingConfiguration = {
    destinations: [{ cloudWatchLogsLogGroup: { logGroupArn: logGroup.logGroupArn } }],
    level: sfn.LogLevel.ALL,
    includeExecutionData: false,
  };
  const policy = stateMachineObservabilityPolicy(machine);
  policy.attachToRole(machine.role);
  cfn.addResourceDependency(policy.node.defaultChild as CfnResource); // the machine, not its role (which the policy names)
}
