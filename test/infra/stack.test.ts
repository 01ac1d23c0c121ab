import { beforeAll, describe, expect, it } from 'vitest';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { allStates, definitions, synthesize } from './template.js';
import { SCIM_ROUTES } from '../../infra/constructs/api.js';

let template: Template;
let machines: Record<string, any>;
beforeAll(() => {
  template = synthesize();
  machines = definitions(template);
});

const byId = (prefix: string) => Object.entries(machines).find(([id]) => id.startsWith(prefix))![1];

describe('functions', () => {
  it('every function runs Node.js 22 on arm64 with tracing and JSON logs', () => {
    const fns = template.findResources('AWS::Lambda::Function');
    const ours = Object.values<any>(fns).filter((f) => f.Metadata?.['offboard:entry']);
    expect(ours.length).toBe(32); // Planner, SlicePlanner, PlanMerger and PlanningFailureRecorder (CONTRACT.md planning), 7 operation steps (StartPurge D7, PlanImpact, ExportFiles X4, Apply, Finalize, MarkFailed, AwaitSeat), 10 API (Exports X4, Scim issue 22), 4 billing targets (B4: Contract Reinstated), 6 bulk-run steps, the outbox sweeper (docs/EVENTS.md)
    for (const f of ours) {
      expect(f.Properties.Runtime).toBe('nodejs22.x');
      expect(f.Properties.Architectures).toEqual(['arm64']);
      expect(f.Properties.TracingConfig).toEqual({ Mode: 'Active' });
      expect(f.Properties.LoggingConfig.LogFormat).toBe('JSON');
    }
  });
  it('workflow functions know the table and the bucket; API functions, the planning steps and the outbox sweeper know the table only (they never touch file bytes)', () => {
    const fns = Object.values<any>(template.findResources('AWS::Lambda::Function')).filter(
      (f) => f.Metadata?.['offboard:entry'] && !f.Metadata['offboard:entry'].endsWith('health.ts'),
    );
    for (const f of fns) {
      const env = Object.keys(f.Properties.Environment.Variables);
      expect(env).toContain('TABLE_NAME');
      if (/\/api\/|steps\/plan(-failed|-slice|-merge)?\.ts$|scheduled\/sweep-outbox\.ts$/.test(f.Metadata['offboard:entry']))
        expect(env).not.toContain('BUCKET_NAME');
      else expect(env).toContain('BUCKET_NAME');
    }
  });
});

describe('state machines', () => {
  it('four Standard state machines (transfer, deletion, contract cancellation, planning), in JSONPath, with logging and tracing', () => {
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 4);
    template.allResourcesProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
    });
    for (const d of Object.values(machines)) expect(d.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
  });

  it('the transfer machine runs the steps in order', () => {
    const names = allStates(byId('TransferWorkflow')).map(([n]) => n);
    expect(names).toEqual(expect.arrayContaining(['PlanImpact', 'Apply', 'ApplyHasMore', 'Finalize', 'MarkFailed', 'AwaitSeat']));
    expect(byId('TransferWorkflow').StartAt).toBe('AlreadyPlanned');
    const states = Object.fromEntries(allStates(byId('TransferWorkflow')));
    // X1: a run whose plan was stored for it at the approval goes straight to Apply
    expect(states.AlreadyPlanned.Choices[0].Next).toBe('ExportRequested');
    expect(states.AlreadyPlanned.Default).toBe('PlanImpact');
    // X4: an export requested is written and verified before the first effect
    expect(states.ExportRequested.Choices[0].Next).toBe('ExportFiles');
    expect([states.ExportRequested.Default, states.ExportFiles.Next, states.ExportFilesHasMore.Default]).toEqual([
      'Apply',
      'ExportFilesHasMore',
      'Apply',
    ]);
    expect([states.PlanImpact.Next, states.Apply.Next, states.ApplyHasMore.Default, states.Finalize.Next]).toEqual([
      'ExportRequested',
      'ApplyHasMore',
      'Finalize',
      'OperationSucceeded',
    ]);
  });

  it('CONTRACT.md planning: a user too large for one invocation is planned by a Distributed Map over its slices, then Merge; every step fails to PlanFailed', () => {
    const states = Object.fromEntries(allStates(byId('PlanningWorkflow')));
    expect(byId('PlanningWorkflow').StartAt).toBe('Plan');
    expect(states.Plan.Next).toBe('Sliced?');
    expect(states['Sliced?'].Choices[0]).toMatchObject({ Variable: '$.slices', IsPresent: true, Next: 'PlanSlices' });
    expect(states['Sliced?'].Default).toBe('Planned');
    const map = states.PlanSlices;
    expect(map).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.slices',
      ItemSelector: { 'planId.$': '$.planId', 'slice.$': '$$.Map.Item.Value' },
      MaxConcurrency: 8,
      ResultPath: null, // the children's entries are stored, not returned (no payload limit binds them)
      Next: 'Merge',
    });
    expect(map.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
    expect(Object.keys(map.ItemProcessor.States)).toEqual(['PlanSlice']);
    expect(states.Merge.Next).toBe('Planned');
    for (const name of ['Plan', 'PlanSlices', 'Merge'])
      expect(states[name].Catch, name).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'PlanFailed' }]);
  });

  it('the deletion machine applies its plan in the same steps, with no seat to wait for', () => {
    const names = allStates(byId('DeletionWorkflow')).map(([n]) => n);
    expect(names).toEqual(expect.arrayContaining(['PlanImpact', 'Apply', 'ApplyHasMore', 'Finalize', 'MarkFailed']));
    expect(names).not.toContain('AwaitSeat');
  });

  it('D7: a deletion with a purge date waits in a Wait state until it, then StartPurge; without one it runs at once', () => {
    const d = byId('DeletionWorkflow');
    const states = Object.fromEntries(allStates(d));
    expect(d.StartAt).toBe('GracePeriod');
    expect(states.GracePeriod.Choices[0]).toMatchObject({ Variable: '$.purgeAt', IsPresent: true, Next: 'WaitUntilPurge' });
    expect(states.GracePeriod.Default).toBe('AlreadyPlanned');
    expect(states.WaitUntilPurge).toMatchObject({ Type: 'Wait', TimestampPath: '$.purgeAt', Next: 'StartPurge' });
    expect(states.PurgeStarted.Choices[0]).toMatchObject({ Variable: '$.purge', BooleanEquals: false, Next: 'NotPurged' });
    expect(states.PurgeStarted.Default).toBe('AlreadyPlanned');
    // the longest grace period (30 days) and a run fit in the execution's timeout; the transfer machine keeps 6 hours
    expect(d.TimeoutSeconds).toBeGreaterThanOrEqual(30 * 86400 + 6 * 3600);
    expect(byId('TransferWorkflow').TimeoutSeconds).toBe(6 * 3600);
    expect(allStates(byId('TransferWorkflow')).some(([, s]) => s.Type === 'Wait')).toBe(false);
  });

  it('every Task has a Retry on Lambda service errors and throttling, with backoff and full jitter, and a comment', () => {
    for (const d of Object.values(machines)) {
      for (const [name, s] of allStates(d).filter(([, s]) => s.Type === 'Task')) {
        const lambdaRetry = s.Retry?.find((r: any) => r.ErrorEquals.includes('Lambda.ServiceException'));
        expect(lambdaRetry, name).toBeDefined();
        expect(lambdaRetry.ErrorEquals).toEqual(expect.arrayContaining(['Lambda.TooManyRequestsException', 'Lambda.SdkClientException']));
        expect(lambdaRetry.BackoffRate).toBeGreaterThan(1);
        expect(lambdaRetry.JitterStrategy).toBe('FULL');
        expect(s.Comment, name).toBeTruthy();
      }
    }
  });

  it('every data-changing Task has a Catch that ends the operation failed (MarkFailed)', () => {
    for (const d of [byId('TransferWorkflow'), byId('DeletionWorkflow')]) {
      for (const [name, s] of allStates(d).filter(([n, s]) => s.Type === 'Task' && n !== 'MarkFailed')) {
        const all = s.Catch?.find((c: any) => c.ErrorEquals.includes('States.ALL'));
        expect(all?.Next, name).toBe('MarkFailed');
        expect(all.ResultPath).toBe('$.error');
      }
    }
  });

  it('T4: a NoFreeSeat error sends the transfer to AwaitSeat, before the catch-all', () => {
    const apply = allStates(byId('TransferWorkflow')).find(([n]) => n === 'Apply')![1];
    expect(apply.Catch[0]).toMatchObject({ ErrorEquals: ['NoFreeSeat'], Next: 'AwaitSeat' });
  });

  it('paged steps loop on a cursor, so no payload carries an unbounded list', () => {
    const states = Object.fromEntries(allStates(byId('DeletionWorkflow')));
    for (const step of ['Apply']) {
      expect(states[step].Next).toBe(`${step}HasMore`);
      expect(states[`${step}HasMore`].Choices[0]).toMatchObject({ Variable: '$.cursor', IsPresent: true, Next: step });
    }
  });
});

describe('data', () => {
  it('the table: on-demand, encrypted, point-in-time recovery, deletion protection, GSI1, the sparse outbox index GSI2 and the uploads index GSI3', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
      GlobalSecondaryIndexes: [
        Match.objectLike({ IndexName: 'GSI1' }),
        // docs/EVENTS.md, the outbox sweeper: the operation's id beside the keys, nothing of its outbox entries
        Match.objectLike({
          IndexName: 'GSI2',
          KeySchema: [
            { AttributeName: 'GSI2PK', KeyType: 'HASH' },
            { AttributeName: 'GSI2SK', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['id'] },
        }),
        // functions/store/keys.ts, GSI3: a user's uploads; their owner (F1) in no index
        Match.objectLike({
          IndexName: 'GSI3',
          KeySchema: [
            { AttributeName: 'GSI3PK', KeyType: 'HASH' },
            { AttributeName: 'GSI3SK', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['id', 'chatId'] },
        }),
      ],
    });
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' });
  });
  it('the files bucket: encrypted, public access blocked, not versioned (F4: deleted bytes are gone), retained, access-logged', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    const files = Object.entries<any>(template.findResources('AWS::S3::Bucket')).find(([id]) => id.startsWith('DataFiles'))![1];
    expect(files.Properties.VersioningConfiguration).toBeUndefined();
    expect(files.DeletionPolicy).toBe('Retain');
    expect(files.Properties.LoggingConfiguration.LogFilePrefix).toBe('files/'); // who read or deleted which file
  });
  it('the bucket policy refuses any request without TLS', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
});

describe('admin console hosting (issue 9)', () => {
  it('serves a private bucket through CloudFront with origin access control, security headers and HTTPS only', () => {
    template.resourceCountIs('AWS::CloudFront::Distribution', 1);
    template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    const [dist] = Object.values<any>(template.findResources('AWS::CloudFront::Distribution'));
    const config = dist.Properties.DistributionConfig;
    expect(config.DefaultRootObject).toBe('index.html');
    expect(config.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('redirect-to-https');
    expect(config.Origins[0].OriginAccessControlId).toBeDefined();
    expect(config.CustomErrorResponses.map((e: any) => [e.ErrorCode, e.ResponseCode, e.ResponsePagePath])).toEqual([
      [403, 200, '/index.html'],
      [404, 200, '/index.html'],
    ]);
    const [policy] = Object.values<any>(template.findResources('AWS::CloudFront::ResponseHeadersPolicy'));
    const headers = policy.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig;
    expect(headers.FrameOptions.FrameOption).toBe('DENY');
    expect(headers.StrictTransportSecurity.AccessControlMaxAgeSec).toBeGreaterThanOrEqual(31_536_000);
    expect(JSON.stringify(headers.ContentSecurityPolicy)).toContain('connect-src');
    const apps = Object.entries<any>(template.findResources('AWS::S3::Bucket')).filter(([id]) => id.startsWith('ConsoleApp'));
    expect(apps).toHaveLength(1);
    expect(apps[0]![1].Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
  });
  it('deploys a generated config.json naming the API and the OpenID Connect sign-in (code flow with PKCE, no client secret)', () => {
    const deployments = Object.values<any>(template.findResources('Custom::CDKBucketDeployment'));
    expect(deployments).toHaveLength(1);
    const clients = Object.values<any>(template.findResources('AWS::Cognito::UserPoolClient'));
    expect(clients).toHaveLength(1);
    expect(clients[0].Properties.AllowedOAuthFlows).toEqual(['code']);
    expect(clients[0].Properties.GenerateSecret).toBe(false);
    template.resourceCountIs('AWS::Cognito::UserPoolDomain', 1);
    expect(Object.keys(template.toJSON().Outputs)).toContain('ConsoleUrl');
  });
});

describe('API', () => {
  it('every route but GET /health and the SCIM routes (their token is checked by the function) has the JWT authorizer', () => {
    const routes = Object.values<any>(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties);
    expect(routes.map((r) => r.RouteKey).sort()).toEqual(
      [
        'GET /billing-runs',
        'GET /billing-runs/{id}',
        'GET /me',
        'GET /organizations',
        'GET /organizations/{id}/deletions',
        'GET /organizations/{id}/members',
        'GET /organizations/{id}/transfers',
        'POST /billing-runs/{id}/resumption',
        'POST /billing-runs/{id}/confirmation',
        'POST /billing-runs/{id}/cancellation',
        'POST /deletions/{id}/resumption',
        'POST /deletions/{id}/cancellation',
        'POST /transfers/{id}/resumption',
        'GET /deletions/{id}',
        'GET /deletions/{id}/effects',
        'GET /deletions/{id}/export',
        'GET /transfers/{id}/export',
        'GET /operations/{id}/audit',
        'GET /health',
        'GET /previews/{id}',
        'GET /previews/{id}/effects',
        'GET /transfers/{id}',
        'GET /transfers/{id}/effects',
        'POST /deletions',
        'POST /deletions/{id}/undo',
        'GET /organizations/{id}/settings',
        'PUT /organizations/{id}/settings',
        'POST /previews',
        'POST /transfers',
        'POST /transfers/{id}/approval',
        'POST /transfers/{id}/cancellation',
        'POST /organizations/{id}/scim-tokens',
        'GET /organizations/{id}/scim-tokens',
        'DELETE /organizations/{id}/scim-tokens/{tokenId}',
        ...SCIM_ROUTES.map(([method, path]) => `${method} ${path}`),
      ].sort(),
    );
    for (const r of routes) {
      if (r.RouteKey === 'GET /health' || r.RouteKey.includes(' /scim/v2/')) expect(r.AuthorizationType ?? 'NONE', r.RouteKey).toBe('NONE');
      else expect(r.AuthorizationType, r.RouteKey).toBe('JWT');
    }
    template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
    });
  });
  it('a given identity provider replaces the default Cognito user pool', () => {
    const t = synthesize({ jwtIssuer: 'https://id.example.com', jwtAudience: ['chat'] });
    t.resourceCountIs('AWS::Cognito::UserPool', 0);
    t.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      JwtConfiguration: { Issuer: 'https://id.example.com', Audience: ['chat'] },
    });
  });
  it('the Cognito pool’s issuer is AWS’s, or the base given for LocalStack’s Cognito ({base}/{poolId})', () => {
    const issuerOf = (t: Template) =>
      JSON.stringify(Object.values<any>(t.findResources('AWS::ApiGatewayV2::Authorizer'))[0].Properties.JwtConfiguration.Issuer);
    expect(issuerOf(template)).toMatch(
      /"https:\/\/cognito-idp\.",\{"Ref":"AWS::Region"\},"\.amazonaws\.com\/",\{"Ref":"ApiUsers[0-9A-F]+"\}/,
    );
    expect(issuerOf(synthesize({ cognitoIssuerBase: 'http://localhost:4566/' }))).toMatch(
      /"http:\/\/localhost:4566\/",\{"Ref":"ApiUsers[0-9A-F]+"\}/,
    );
  });
  it('api=none (LocalStack free tier) leaves out the HTTP API, its authorizer, Cognito and the API URL, and keeps every function, machine, table, bucket, bus, queue and alarm under the same ids', () => {
    const t = synthesize({ api: 'none' });
    for (const type of [
      'AWS::ApiGatewayV2::Api',
      'AWS::ApiGatewayV2::Route',
      'AWS::ApiGatewayV2::Authorizer',
      'AWS::ApiGatewayV2::Stage',
      'AWS::Cognito::UserPool',
    ]) {
      t.resourceCountIs(type, 0);
    }
    expect(Object.keys(t.toJSON().Outputs)).not.toContain('ApiUrl');
    // and what browsers reach: the console's distribution, its buckets and their deployment
    t.resourceCountIs('AWS::CloudFront::Distribution', 0);
    expect(Object.keys(t.toJSON().Outputs)).not.toContain('ConsoleUrl');
    const ofConsole = (id: string) => id.startsWith('Console') || id.startsWith('CustomCDKBucketDeployment');
    const kept = [
      'AWS::Lambda::Function',
      'AWS::StepFunctions::StateMachine',
      'AWS::DynamoDB::Table',
      'AWS::S3::Bucket',
      'AWS::Events::EventBus',
      'AWS::Events::Rule',
      'AWS::SQS::Queue',
      'AWS::CloudWatch::Alarm',
    ];
    for (const type of kept) {
      // the local gateway maps routes of the full template onto these functions by logical id
      expect(Object.keys(t.findResources(type)).sort(), type).toEqual(
        Object.keys(template.findResources(type))
          .filter((id) => !ofConsole(id))
          .sort(),
      );
    }
    expect(Object.keys(t.findResources('AWS::Lambda::Function')).filter((id) => id.startsWith('Api')).length).toBe(10);
  });
  it('only the functions that start operations may start executions', () => {
    const policies = Object.values<any>(template.findResources('AWS::IAM::Policy'));
    const starters = policies.filter((p) => JSON.stringify(p.Properties.PolicyDocument).includes('states:StartExecution'));
    expect(starters.length).toBe(14); // previews, the Planner, Merge and PlanFailed (CONTRACT.md planning), the planning machine itself (its Distributed Map's children, services/sliced-planning.ts), transfers, deletions, SCIM (a deprovisioning requests a deletion), the B1 and B2 billing targets (B3 only cancels), Apply (finalizing a run it applied whole), Finalize and MarkFailed (a freed seat resumes a waiting transfer, B2), and billing runs (a failed run is resumed)
  });
});

describe('billing (B1–B3)', () => {
  it('a custom event bus with one rule per detail-type, each matching source "billing" (and the operation bus, docs/EVENTS.md, with no rules of its own)', () => {
    template.resourceCountIs('AWS::Events::EventBus', 2);
    const rules = Object.values<any>(template.findResources('AWS::Events::Rule'))
      .map((r) => r.Properties)
      .filter((r) => !r.ScheduleExpression);
    expect(rules.map((r) => r.EventPattern['detail-type'][0]).sort()).toEqual([
      'Contract Cancelled',
      'Contract Reinstated',
      'Plan Changed',
      'Seats Changed',
    ]);
    for (const r of rules) {
      expect(r.EventBusName).toBeDefined();
      expect(r.EventPattern.source).toEqual(['billing']);
    }
  });
  it('every target has a dead-letter queue and a retry policy', () => {
    for (const r of Object.values<any>(template.findResources('AWS::Events::Rule')).filter((r) => !r.Properties.ScheduleExpression)) {
      for (const t of r.Properties.Targets) {
        expect(t.DeadLetterConfig.Arn).toBeDefined();
        expect(t.RetryPolicy).toMatchObject({ MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 86400 });
      }
    }
  });
  it('rejected events reach the same queue with their error: each target function has an on-failure destination', () => {
    const configs = Object.values<any>(template.findResources('AWS::Lambda::EventInvokeConfig'))
      .map((c) => c.Properties)
      .filter((c) => c.MaximumRetryAttempts !== 0); // the outbox sweeper's: its next run is its retry
    expect(configs.length).toBe(4);
    for (const c of configs) {
      expect(c.MaximumRetryAttempts).toBe(2);
      expect(c.DestinationConfig.OnFailure.Destination).toBeDefined();
    }
  });
  it('the dead-letter queue is encrypted, TLS-only, and alarmed', () => {
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });
  it('B1: members are deleted batch by batch, a failed batch counted and the run going on', () => {
    const d = byId('BillingCancellationStateMachine');
    const states = Object.fromEntries(allStates(d));
    expect(d.StartAt).toBe('StartRun');
    expect(states.StartRun.Next).toBe('RunGoesOn');
    expect(states.RunGoesOn).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.batch.stopped', IsPresent: true, Next: 'FinishRun' }],
      Default: 'DeleteBatch',
    });
    expect(states.DeleteBatch.Catch[0].Next).toBe('RecordBatchFailed');
    // B4: a cancelled run stops before its next batch
    expect(states.MoreMembers.Choices[0]).toMatchObject({ Variable: '$.batch.stopped', IsPresent: true, Next: 'FinishRun' });
    expect(states.MoreMembers.Choices[1]).toMatchObject({ Variable: '$.batch.cursor', IsPresent: true, Next: 'DeleteBatch' });
    expect(states.MoreMembers.Default).toBe('StartOwnedFiles');
    expect(Object.values<any>(states).some((s) => s.Type === 'Map')).toBe(false); // no child execution per member
    for (const [name, s] of allStates(d).filter(([, s]) => s.Type === 'Task')) {
      expect(
        s.Retry?.some((r: any) => r.ErrorEquals.includes('Lambda.ServiceException')),
        name,
      ).toBe(true);
    }
  });
});

describe('B4 — the brake and the billing bus', () => {
  const busPolicies = (t: Template) =>
    Object.values<any>(t.findResources('AWS::Events::EventBusPolicy')).flatMap((p) =>
      p.Properties.Statement ? [p.Properties.Statement] : (p.Properties.Policy?.Statement ?? []),
    );
  it('B4: the billing bus lets only the named principals put events: an Allow for them, a Deny for every other principal', () => {
    const named = synthesize({ billingPublishers: ['111122223333', 'arn:aws:iam::444455556666:role/billing-publisher'] });
    const statements = busPolicies(named);
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Sid: 'cdk-NamedPublishersPutEvents', Effect: 'Allow', Action: 'events:PutEvents' }),
        expect.objectContaining({
          Sid: 'cdk-OnlyNamedPublishers',
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: 'events:PutEvents',
          Condition: {
            StringNotEquals: {
              'aws:PrincipalAccount': ['111122223333'],
              'aws:PrincipalArn': ['arn:aws:iam::444455556666:role/billing-publisher'],
            },
          },
        }),
      ]),
    );
    const allow = statements.find((s: any) => s.Sid === 'cdk-NamedPublishersPutEvents');
    expect(JSON.stringify(allow.Principal)).toContain('111122223333');
    expect(JSON.stringify(allow.Principal)).toContain('arn:aws:iam::444455556666:role/billing-publisher');
    // without the setting: the stack's own account only
    const deny = busPolicies(template).find((s: any) => s.Sid === 'cdk-OnlyNamedPublishers');
    expect(deny.Condition.StringNotEquals['aws:PrincipalAccount']).toEqual([{ Ref: 'AWS::AccountId' }]);
  });
  it('B4: a publisher that is neither an account id nor a principal ARN is refused at synthesis', () => {
    expect(() => synthesize({ billingPublishers: ['everyone'] })).toThrow(/offboard:billingPublishers: "everyone"/);
  });
  it('B4: the contract-cancellation target gets the confirmation threshold (default 500, or the stack setting)', () => {
    const threshold = (t: Template) =>
      Object.values<any>(t.findResources('AWS::Lambda::Function'))
        .map((f) => f.Properties.Environment?.Variables?.CONFIRMATION_THRESHOLD)
        .filter(Boolean);
    expect(threshold(template)).toEqual(['500']);
    expect(threshold(synthesize({ confirmationThreshold: 2000 }))).toEqual(['2000']);
  });
  it('operator: the operator routes require the scope offboard/operator at the gateway; the others do not', () => {
    const routes = Object.values<any>(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties);
    const scoped = routes.filter((r) => r.AuthorizationScopes).map((r) => [r.RouteKey, r.AuthorizationScopes]);
    expect(scoped.sort()).toEqual([
      ['POST /billing-runs/{id}/cancellation', ['offboard/operator']],
      ['POST /billing-runs/{id}/confirmation', ['offboard/operator']],
      ['POST /billing-runs/{id}/resumption', ['offboard/operator']],
    ]);
  });
});

describe('the outbox sweeper (docs/EVENTS.md)', () => {
  const sweeper = () => {
    const [id, fn] = Object.entries<any>(template.findResources('AWS::Lambda::Function')).find(
      ([, f]) => f.Metadata?.['offboard:entry'] === 'functions/handlers/scheduled/sweep-outbox.ts',
    )!;
    return { id, fn };
  };
  it('runs every minute from a scheduled rule, invoked by that rule only, with no retries of its own (the next run is the retry)', () => {
    const { id, fn } = sweeper();
    const rules = Object.entries<any>(template.findResources('AWS::Events::Rule')).filter(([, r]) => r.Properties.ScheduleExpression);
    expect(rules.length).toBe(1);
    const [ruleId, rule] = rules[0]!;
    expect(rule.Properties).toMatchObject({ ScheduleExpression: 'rate(1 minute)', State: 'ENABLED' });
    expect(rule.Properties.Targets).toEqual([
      expect.objectContaining({
        Arn: { 'Fn::GetAtt': [id, 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
      }),
    ]);
    template.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: { 'Fn::GetAtt': [id, 'Arn'] },
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: id }, MaximumRetryAttempts: 0 });
    expect(fn.Properties.Timeout).toBeLessThan(60); // one sweep ends before the next starts
    expect(Object.keys(fn.Properties.Environment.Variables)).toEqual(expect.arrayContaining(['TABLE_NAME', 'OPERATION_EVENT_BUS_NAME']));
  });
  it('least privilege: Query on the outbox index only, GetItem, BatchGetItem and UpdateItem on the table, PutEvents on the operation bus', () => {
    const { fn } = sweeper();
    const role = fn.Properties.Role['Fn::GetAtt'][0];
    // the role's own policy (the X-Ray grant on * is the one policy of such grants every function shares)
    const statements = Object.values<any>(template.findResources('AWS::IAM::Policy'))
      .filter((p) => p.Properties.Roles.some((r: any) => r.Ref === role))
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .map((s: any) => ({ actions: [s.Action].flat().sort(), resource: s.Resource }))
      .filter((s: any) => !s.actions[0].startsWith('xray:'));
    expect(statements).toEqual(
      expect.arrayContaining([
        {
          actions: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
          resource: { 'Fn::GetAtt': [expect.stringMatching(/^DataTable/), 'Arn'] },
        },
        {
          actions: ['dynamodb:Query'],
          resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^DataTable/), 'Arn'] }, '/index/GSI2']] },
        },
        { actions: ['events:PutEvents'], resource: { 'Fn::GetAtt': [expect.stringMatching(/^OperationEventsBus/), 'Arn'] } },
      ]),
    );
    expect(statements.length).toBe(3);
  });
});

describe('limits (issue 17)', () => {
  const ours = (t: Template) =>
    Object.entries<any>(t.findResources('AWS::Lambda::Function'))
      .filter(([, f]) => f.Metadata?.['offboard:entry'])
      .map(([id, f]) => ({ id, entry: f.Metadata['offboard:entry'] as string, ...f.Properties }));
  const byEntry = (entry: string) => ours(template).find((f) => f.entry.endsWith(`/${entry}.ts`))!;

  it('the HTTP API throttles every route at 100 requests/s (burst 200) and the routes that plan at 10/s (burst 20)', () => {
    const [stage] = Object.values<any>(template.findResources('AWS::ApiGatewayV2::Stage'));
    expect(stage.Properties.DefaultRouteSettings).toMatchObject({ ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 });
    const planning = ['POST /previews', 'POST /transfers', 'POST /transfers/{id}/approval', 'POST /deletions'];
    expect(Object.keys(stage.Properties.RouteSettings).sort()).toEqual([...planning].sort());
    for (const key of planning) expect(stage.Properties.RouteSettings[key]).toEqual({ ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 });
    // each route named exists, and the stage is created after it (CloudFormation refuses settings for an unknown route)
    const routes = template.findResources('AWS::ApiGatewayV2::Route');
    const keyOf = Object.fromEntries(Object.entries<any>(routes).map(([id, r]) => [r.Properties.RouteKey, id]));
    for (const key of planning) expect(stage.DependsOn, key).toContain(keyOf[key]);
  });

  it("API functions end before API Gateway's 30 s integration limit; the planning ones get a whole vCPU", () => {
    const api = ours(template).filter((f) => f.entry.includes('/handlers/api/'));
    expect(api.length).toBe(10);
    for (const f of api) expect(f.Timeout, f.id).toBeLessThanOrEqual(25);
    for (const i of Object.values<any>(template.findResources('AWS::ApiGatewayV2::Integration')))
      expect(i.Properties.TimeoutInMillis ?? 30_000).toBe(30_000);
    for (const name of ['previews', 'transfers', 'deletions', 'scim'])
      expect(byEntry(name)).toMatchObject({ Timeout: 25, MemorySize: 1769 });
    expect(byEntry('health')).toMatchObject({ Timeout: 3, MemorySize: 128 });
  });

  it('only planning gets more than 512 MB; steps that only read and write get 512 MB and at most 2 minutes', () => {
    const large = ours(template)
      .filter((f) => f.MemorySize > 512)
      .map((f) => f.entry.replace(/^functions\/handlers\//, ''))
      .sort();
    expect(large).toEqual([
      'api/deletions.ts',
      'api/previews.ts',
      'api/scim.ts',
      'api/transfers.ts',
      'bulk/delete-batch.ts',
      'steps/plan-impact.ts',
      'steps/plan-merge.ts',
      'steps/plan-slice.ts',
      'steps/plan.ts',
    ]);
    for (const f of ours(template).filter(
      (f) => /\/(steps|billing)\//.test(f.entry) && !/plan(-impact|-slice|-merge)?\.ts$/.test(f.entry),
    )) {
      expect(f.MemorySize, f.id).toBe(512);
      expect(f.Timeout, f.id).toBeLessThanOrEqual(120);
    }
    expect(byEntry('plan-impact')).toMatchObject({ MemorySize: 1769, Timeout: 120 });
    expect(byEntry('delete-batch')).toMatchObject({ MemorySize: 1769, Timeout: 300 });
    // CONTRACT.md planning: Plan reads a user's index whole; a slice (services/sliced-planning.ts, at most 5,000 chats)
    // and Merge (the rest, and every slice's entries streamed) are bounded, with the same room
    for (const step of ['steps/plan', 'steps/plan-slice', 'steps/plan-merge'])
      expect(byEntry(step)).toMatchObject({ MemorySize: 1769, Timeout: 900 });
    expect(
      Math.max(
        ...ours(template)
          .filter((f) => !/steps\/plan(-slice|-merge)?\.ts$/.test(f.entry))
          .map((f) => f.Timeout),
      ),
    ).toBeLessThanOrEqual(300);
  });

  it('each planning API function reserves 20 executions, 80 in all (SCIM deprovisioning plans a deletion): a default account (1,000) keeps 920 unreserved', () => {
    const reserved = ours(template).filter((f) => f.ReservedConcurrentExecutions !== undefined);
    expect(reserved.map((f) => f.entry).sort()).toEqual([
      'functions/handlers/api/deletions.ts',
      'functions/handlers/api/previews.ts',
      'functions/handlers/api/scim.ts',
      'functions/handlers/api/transfers.ts',
    ]);
    for (const f of reserved) expect(f.ReservedConcurrentExecutions).toBe(20);
    const total = reserved.reduce((n, f) => n + f.ReservedConcurrentExecutions, 0);
    expect(1000 - total).toBeGreaterThanOrEqual(100); // Lambda refuses a reservation that leaves fewer than 100 unreserved
    // an account with a lower limit deploys with -c offboard:reservedConcurrency=false
    expect(ours(synthesize({ reservedConcurrency: false })).some((f) => f.ReservedConcurrentExecutions !== undefined)).toBe(false);
  });
});
