import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { OffboardFunction } from '../../infra/constructs/offboard-function.js';
import { OffboardStack } from '../../infra/offboard-stack.js';

/**
 * cdk-nag's AWS Solutions rules over the whole stack. Every finding must match one of these: the rule (and what it
 * applies to), the construct path it is accepted at, and why (issue 17: each scoped to the resource it justifies). A
 * new finding, or a known one somewhere else, fails the test until it is fixed or accepted here.
 */
const FUNCTION = String.raw`Offboard/(Steps|Api|Billing|Billing/RunSteps|PlanningWorkflow|OperationEvents)/\w+`;
const DEPLOYMENT = String.raw`Offboard/Custom::CDKBucketDeployment\w+`;
const path = (...alternatives: string[]) => new RegExp(`^(${alternatives.join('|')})$`);
/** An execution of `machine` named at run time (`/*`: a Distributed Map's child, named by Step Functions). */
const execution = (machine: string, child = '') =>
  new RegExp(
    String.raw`^AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:.*"${machine}\w+"\}\]\}\]\}${child}:\*\]$`,
  );
const ACCEPTED: [RegExp, string, RegExp][] = [
  [/^AwsSolutions-L1$/, 'Node.js 22 is the runtime this project targets and tests', path(`${FUNCTION}/Resource`)],
  [/^AwsSolutions-L1$/, "CDK's BucketDeployment chooses its own function's runtime", path(`${DEPLOYMENT}/Resource`)],
  [
    /^AwsSolutions-IAM4\[Policy::arn:<AWS::Partition>:iam::aws:policy\/service-role\/AWSLambdaBasicExecutionRole\]$/,
    'the narrow AWS-managed policy for a function writing its own logs',
    path(`${FUNCTION}/ServiceRole/Resource`, `${DEPLOYMENT}/ServiceRole/Resource`),
  ],
  // the only grants on `*`: each in a policy of its own (infra/constructs/wildcard-grants.ts), never in a role's default policy
  [
    /^AwsSolutions-IAM5\[Resource::\*\]$/,
    'X-Ray PutTraceSegments and PutTelemetryRecords take no resource-level permission',
    path('Offboard/FunctionTracing/Resource'),
  ],
  [
    /^AwsSolutions-IAM5\[Resource::\*\]$/,
    "a state machine's X-Ray actions and CloudWatch Logs log-delivery actions take no resource-level permission",
    path('Offboard/StateMachineObservability/Resource'),
  ],
  [
    /^AwsSolutions-IAM5\[Resource::\*\]$/,
    "CDK's BucketDeployment grants CloudFront invalidation on * (its construct, not ours) to invalidate the console's distribution after a deployment",
    path(`${DEPLOYMENT}/ServiceRole/DefaultPolicy/Resource`),
  ],
  [
    /^AwsSolutions-IAM5\[Resource::<DataTable\w+\.Arn>\/index\/\*\]$/,
    'queries on GSI1 need the table’s index ARN',
    path(`${FUNCTION}/ServiceRole/DefaultPolicy/Resource`),
  ],
  [
    /^AwsSolutions-IAM5\[Resource::<DataExports\w+\.Arn>\/exports\/\*\]$/,
    "X4: archive keys are exports/{operation}/part-N.zip; the export step writes and reads back any operation's parts, the Exports function signs links to them (s3:PutObject, s3:GetObject only)",
    path('Offboard/Steps/ExportFiles/ServiceRole/DefaultPolicy/Resource', 'Offboard/Api/Exports/ServiceRole/DefaultPolicy/Resource'),
  ],
  [
    /^AwsSolutions-IAM5\[Resource::<DataFiles\w+\.Arn>\/chats\/\*\]$/,
    'file keys are chats/{chat}/files/{file}; deletion (F2–F4) reaches any chat, and only s3:DeleteObject is granted',
    path(`${FUNCTION}/ServiceRole/DefaultPolicy/Resource`),
  ],
  [
    /^AwsSolutions-IAM5\[Resource::<(Steps|BillingRunSteps|PlanningWorkflow)\w+\.Arn>:\*\]$/,
    "CDK's LambdaInvoke grants lambda:InvokeFunction on the step's function and on its versions and aliases (ARN:*); that one function only",
    path(
      String.raw`Offboard/(TransferWorkflow|DeletionWorkflow|PlanningWorkflow)/StateMachine/Role/DefaultPolicy/Resource`,
      'Offboard/Billing/CancellationStateMachine/Role/DefaultPolicy/Resource',
    ),
  ],
  [
    execution('BillingCancellationStateMachine'),
    "a resumption of a failed billing run asks states:DescribeExecution of the run's last execution, named after the run only at run time",
    path('Offboard/Api/BillingRuns/ServiceRole/DefaultPolicy/Resource'),
  ],
  [
    execution('DeletionWorkflowStateMachine'),
    "D7: an undo (Deletions; a SCIM re-activation, Scim) and B1 (DeleteBatch) stop a deletion waiting for its purge date (states:StopExecution); a resumption (Transfers, Deletions) asks states:DescribeExecution of the operation's last execution; executions are named after operations, known only at run time",
    path(
      'Offboard/Api/(Transfers|Deletions|Scim)/ServiceRole/DefaultPolicy/Resource',
      'Offboard/Billing/RunSteps/DeleteBatch/ServiceRole/DefaultPolicy/Resource',
    ),
  ],
  [
    execution('PlanningWorkflowStateMachine'),
    "a resumption asks states:DescribeExecution of an operation's planning execution (CONTRACT.md planning), named after the operation at run time",
    path('Offboard/Api/(Transfers|Deletions)/ServiceRole/DefaultPolicy/Resource'),
  ],
  [
    execution('PlanningWorkflowStateMachine', String.raw`(/\*)?`),
    "services/sliced-planning.ts: the planning workflow's Distributed Map runs each slice as a child execution of a map run Step Functions names at run time; CDK's DistributedMap grants the machine's own role the actions on them (states:DescribeExecution, states:StopExecution)",
    path('Offboard/PlanningWorkflow/StateMachine/DistributedMapPolicy/Resource'),
  ],
  [
    execution('TransferWorkflowStateMachine'),
    "a resumption asks states:DescribeExecution of the operation's last execution, named after the operation at run time",
    path('Offboard/Api/(Transfers|Deletions)/ServiceRole/DefaultPolicy/Resource'),
  ],
  [/^AwsSolutions-SQS3$/, 'the billing dead-letter queue is itself the dead-letter queue', path('Offboard/Billing/DeadLetters/Resource')],
  [
    /^AwsSolutions-APIG4$/,
    'GET /health is public by contract; every other route has the JWT authorizer',
    path('Offboard/Api/Http/GET--health/Resource'),
  ],
  [
    /^AwsSolutions-APIG4$/,
    "SCIM 2.0 (RFC 7644): the identity provider presents the organization's SCIM bearer token, no JWT; the function checks it against its stored SHA-256 (services/scim.ts authenticate)",
    path(String.raw`Offboard/Api/Http/(GET|PATCH|DELETE)--scim--v2--\w+(--\{id\})?/Resource`),
  ],
  [
    /^AwsSolutions-COG8$/,
    'Cognito threat protection (Plus tier) is a cost decision for the deployer; MFA is required',
    path('Offboard/Api/Users/Resource'),
  ],
  [
    /^AwsSolutions-CFR1$/,
    "the admin console is used wherever an organization has administrators; restricting countries is the deployer's call",
    path('Offboard/Console/Distribution/Resource'),
  ],
  [
    /^AwsSolutions-CFR2$/,
    'the distribution serves static files only; the API it calls checks a JWT on every route; WAF is a cost decision for the deployer',
    path('Offboard/Console/Distribution/Resource'),
  ],
  [
    /^AwsSolutions-CFR4$/,
    'the default *.cloudfront.net certificate fixes its own minimum protocol; with a custom domain the distribution asks TLS 1.2 (minimumProtocolVersion)',
    path('Offboard/Console/Distribution/Resource'),
  ],
  [
    /^AwsSolutions-IAM5\[(Action::s3:(GetObject|GetBucket|List|DeleteObject|Abort)\*|Resource::arn:<AWS::Partition>:s3:::cdk-[a-z0-9]+-assets-<AWS::AccountId>-<AWS::Region>\/\*)\]$/,
    "CDK's BucketDeployment copies the built console from the asset bucket into the console bucket and prunes old files there; it touches no file bytes of people",
    path(`${DEPLOYMENT}/ServiceRole/DefaultPolicy/Resource`),
  ],
  [
    /^AwsSolutions-IAM5\[Resource::<ConsoleApp[0-9A-F]+\.Arn>\/\*\]$/,
    "the same deployment writes and prunes the console's own bucket (the built app only)",
    path(`${DEPLOYMENT}/ServiceRole/DefaultPolicy/Resource`),
  ],
];

function findingsOf(stack: OffboardStack) {
  const report = new AwsSolutionsChecks().validateScope(stack);
  return report.violations.flatMap((v) =>
    v.violatingResources.map((r) => ({ rule: v.ruleName, path: r.constructPath ?? '', severity: v.severity })),
  );
}
const unacceptedOf = (findings: ReturnType<typeof findingsOf>) =>
  findings.filter((f) => !ACCEPTED.some(([pattern, , where]) => pattern.test(f.rule) && where.test(f.path)));

describe('cdk-nag AWS Solutions checks', () => {
  const synth = () => new OffboardStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Offboard');
  const findings = findingsOf(synth());

  it('every finding is fixed or accepted with a reason, at the path it is accepted for', () => {
    expect(unacceptedOf(findings)).toEqual([]);
  });

  it('every accepted finding still occurs (no acceptance outlives its reason)', () => {
    const unused = ACCEPTED.filter(([pattern, , where]) => !findings.some((f) => pattern.test(f.rule) && where.test(f.path))).map(
      ([, reason]) => reason,
    );
    expect(unused).toEqual([]);
  });

  it('issue 17: a grant on Resource * added to any role fails cdk-nag', () => {
    const stack = synth();
    const fn = stack.node.findChild('Steps').node.findChild('Finalize') as OffboardFunction;
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:Scan'], resources: ['*'] }));
    expect(unacceptedOf(findingsOf(stack)).map(({ rule, path }) => ({ rule, path }))).toEqual([
      { rule: 'AwsSolutions-IAM5[Resource::*]', path: 'Offboard/Steps/Finalize/ServiceRole/DefaultPolicy/Resource' },
    ]);
  });

  it("issue 17: the only statements on Resource * are the two observability policies and CDK's console deployment, with actions that take no resource", () => {
    const template = Template.fromStack(synth());
    const wildcard = Object.entries<any>(template.findResources('AWS::IAM::Policy')).flatMap(([id, p]) =>
      p.Properties.PolicyDocument.Statement.filter((s: any) => [s.Resource].flat().includes('*')).map((s: any) => [
        id.replace(/[0-9A-F]{8}$/, ''),
        [s.Action].flat(),
      ]),
    );
    expect(wildcard.map(([id]) => id).sort()).toEqual([
      'CustomCDKBucketDeployment8693BB64968944B69AAFB0CC9EB8756C512MiBServiceRoleDefaultPolicy',
      'FunctionTracing',
      'StateMachineObservability',
      'StateMachineObservability',
    ]);
    const actions = wildcard.flatMap(([, a]) => a);
    expect(
      actions.filter(
        (a: string) =>
          !/^(xray:(PutTraceSegments|PutTelemetryRecords|GetSamplingRules|GetSamplingTargets)|logs:\w+LogDeliver(y|ies)|logs:(PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups)|cloudfront:(GetInvalidation|CreateInvalidation))$/.test(
            a,
          ),
      ),
    ).toEqual([]);
    // every function and state machine role has them (tracing and logs work on AWS)
    const attached = (id: string) =>
      Object.entries<any>(template.findResources('AWS::IAM::Policy')).find(([pid]) => pid.startsWith(id))![1].Properties.Roles.length;
    const ours = Object.values<any>(template.findResources('AWS::Lambda::Function')).filter((f) => f.Metadata?.['offboard:entry']).length;
    expect(ours).toBeGreaterThan(20);
    expect(attached('FunctionTracing')).toBe(ours);
    expect(attached('StateMachineObservability')).toBe(4);
  });

  it('no function can read file bytes or write them: the workflows only list and delete (least privilege)', () => {
    // the console's deployment copies the built app between its own buckets (accepted above, by path)
    const denied = findings.filter(
      (f) => /s3:(GetObject|PutObject|\*)/.test(f.rule) && !/\/Custom::CDKBucketDeployment/.test(f.path ?? ''),
    );
    expect(denied).toEqual([]);
  });
});
