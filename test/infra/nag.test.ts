import { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { OffboardStack } from '../../infra/offboard-stack.js';

/**
 * cdk-nag's AWS Solutions rules over the whole stack. Every finding must match one of these, each with its reason;
 * a new finding fails the test until it is fixed or accepted here.
 */
const ACCEPTED: [RegExp, string, RegExp?][] = [
  [/^AwsSolutions-L1$/, 'Node.js 22 is the runtime this project targets and tests'],
  [/^AwsSolutions-IAM4\[Policy::arn:<AWS::Partition>:iam::aws:policy\/service-role\/AWSLambdaBasicExecutionRole\]$/, 'the narrow AWS-managed policy for a function writing its own logs'],
  [/^AwsSolutions-IAM5\[Resource::\*\]$/, 'X-Ray PutTraceSegments and PutTelemetryRecords take no resource-level permission'],
  [/^AwsSolutions-IAM5\[Resource::<DataTable\w+\.Arn>\/index\/\*\]$/, 'queries on GSI1 need the table’s index ARN'],
  [/^AwsSolutions-IAM5\[Resource::<DataFiles\w+\.Arn>\/chats\/\*\]$/, 'file keys are chats/{chat}/files/{file}; deletion (F2–F4) reaches any chat, and only s3:DeleteObject is granted'],
  [/^AwsSolutions-IAM5\[Resource::<\w+\.Arn>:\*\]$/, 'Step Functions invokes a step function by qualified ARN (versions, aliases)'],
  [/^AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:.*BillingCancellationStateMachine.*\]$/, 'a Distributed Map manages its own child executions, named only at run time'],
  [/^AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:.*DeletionWorkflowStateMachine.*:\*\]$/, 'D7: an undo (and B1) stops the deletion waiting for its purge date; executions are named after operations, known only at run time; only states:StopExecution is granted'],
  [/^AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:.*(TransferWorkflow|DeletionWorkflow)StateMachine\w+"\}\]\}\]\}:\*\]$/, 'a resumption asks DescribeExecution of the operation\'s last execution, named after the operation at run time'],
  [/^AwsSolutions-SQS3$/, 'the billing dead-letter queue is itself the dead-letter queue'],
  [/^AwsSolutions-APIG4$/, 'GET /health is public by contract; every other route has the JWT authorizer'],
  [/^AwsSolutions-COG8$/, 'Cognito threat protection (Plus tier) is a cost decision for the deployer; MFA is required'],
  [/^AwsSolutions-CFR1$/, 'the admin console is used wherever an organization has administrators; restricting countries is the deployer\'s call'],
  [/^AwsSolutions-CFR2$/, 'the distribution serves static files only; the API it calls checks a JWT on every route; WAF is a cost decision for the deployer'],
  [/^AwsSolutions-CFR4$/, 'the default *.cloudfront.net certificate fixes its own minimum protocol; with a custom domain the distribution asks TLS 1.2 (minimumProtocolVersion)'],
  [/^AwsSolutions-IAM5\[(Action::s3:(GetObject|GetBucket|List|DeleteObject|Abort)\*|Resource::arn:<AWS::Partition>:s3:::cdk-[a-z0-9]+-assets-<AWS::AccountId>-<AWS::Region>\/\*)\]$/, 'CDK\'s BucketDeployment copies the built console from the asset bucket into the console bucket and prunes old files there; it touches no file bytes of people', /\/Custom::CDKBucketDeployment/],
  [/^AwsSolutions-IAM5\[Resource::<ConsoleApp[0-9A-F]+\.Arn>\/\*\]$/, 'the same deployment writes and prunes the console\'s own bucket (the built app only)', /\/Custom::CDKBucketDeployment/],
];

describe('cdk-nag AWS Solutions checks', () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  new OffboardStack(app, 'Offboard');
  const report = new AwsSolutionsChecks().validateScope(app);
  const findings = report.violations.flatMap((v) => v.violatingResources.map((r) => ({ rule: v.ruleName, path: r.constructPath, severity: v.severity })));

  it('every finding is fixed or accepted with a reason', () => {
    const unaccepted = findings.filter((f) => !ACCEPTED.some(([pattern, , where]) => pattern.test(f.rule) && (!where || where.test(f.path ?? ''))));
    expect(unaccepted).toEqual([]);
  });

  it('no function can read file bytes or write them: the workflows only list and delete (least privilege)', () => {
    // the console's deployment copies the built app between its own buckets (accepted above, by path)
    const denied = findings.filter((f) => /s3:(GetObject|PutObject|\*)/.test(f.rule) && !/\/Custom::CDKBucketDeployment/.test(f.path ?? ''));
    expect(denied).toEqual([]);
  });
});
