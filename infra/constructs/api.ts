import { CfnOutput, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { OffboardFunction } from './offboard-function.js';

export interface ApiProps {
  table: dynamodb.ITable;
  bucket: s3.IBucket;
  transferStateMachine: sfn.IStateMachine;
  deletionStateMachine: sfn.IStateMachine;
  /** The identity provider that issues the chat service's tokens. Absent: a Cognito user pool is created. */
  jwtIssuer?: string;
  jwtAudience?: string[];
  /** The token claim that names the chat-service user (default `sub`). */
  userIdClaim?: string;
}

/** CONTRACT.md's HTTP API: an HTTP API with a JWT authorizer on every route but /health. */
export class Api extends Construct {
  readonly httpApi: apigw.HttpApi;
  readonly functions: Record<string, OffboardFunction> = {};

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    let issuer = props.jwtIssuer;
    let audience = props.jwtAudience;
    if (!issuer || !audience?.length) {
      const pool = new cognito.UserPool(this, 'Users', { selfSignUpEnabled: false, signInAliases: { username: true } });
      const client = pool.addClient('AdminConsole', { authFlows: { userSrp: true } });
      issuer = `https://cognito-idp.${Stack.of(this).region}.amazonaws.com/${pool.userPoolId}`;
      audience = [client.userPoolClientId];
    }
    const authorizer = new HttpJwtAuthorizer('Jwt', issuer, { jwtAudience: audience, identitySource: ['$request.header.Authorization'] });

    this.httpApi = new apigw.HttpApi(this, 'Http', {
      description: 'offboard: previews, transfers and deletions of chat-service users',
      createDefaultStage: true,
    });

    const fn = (name: string, entry: string, description: string) => {
      const f = new OffboardFunction(this, name, {
        entry: `functions/handlers/api/${entry}.ts`,
        description,
        environment: { USER_ID_CLAIM: props.userIdClaim ?? 'sub' },
      });
      this.functions[name] = f;
      return f;
    };
    const health = fn('Health', 'health', 'GET /health');
    const previews = fn('Previews', 'previews', 'POST /previews (X1)').bindTable(props.table).bindBucket(props.bucket);
    const transfers = fn('Transfers', 'transfers', '/transfers routes (T3, T4)').bindTable(props.table).bindBucket(props.bucket);
    const deletions = fn('Deletions', 'deletions', '/deletions routes (D1)').bindTable(props.table).bindBucket(props.bucket);
    const billingRuns = fn('BillingRuns', 'billing-runs', 'GET /billing-runs/{id} (B1 progress)').bindTable(props.table).bindBucket(props.bucket);
    for (const f of [transfers, deletions]) {
      props.transferStateMachine.grantStartExecution(f);
      props.deletionStateMachine.grantStartExecution(f);
      f.addEnvironment('TRANSFER_STATE_MACHINE_ARN', props.transferStateMachine.stateMachineArn);
      f.addEnvironment('DELETION_STATE_MACHINE_ARN', props.deletionStateMachine.stateMachineArn);
    }

    const integrations = new Map<OffboardFunction, HttpLambdaIntegration>();
    const integration = (f: OffboardFunction) => {
      if (!integrations.has(f)) integrations.set(f, new HttpLambdaIntegration(`${f.node.id}Integration`, f));
      return integrations.get(f)!;
    };
    const routes: [apigw.HttpMethod, string, OffboardFunction][] = [
      [apigw.HttpMethod.POST, '/previews', previews],
      [apigw.HttpMethod.POST, '/transfers', transfers],
      [apigw.HttpMethod.POST, '/transfers/{id}/approval', transfers],
      [apigw.HttpMethod.POST, '/transfers/{id}/cancellation', transfers],
      [apigw.HttpMethod.GET, '/transfers/{id}', transfers],
      [apigw.HttpMethod.POST, '/deletions', deletions],
      [apigw.HttpMethod.GET, '/deletions/{id}', deletions],
      [apigw.HttpMethod.GET, '/billing-runs/{id}', billingRuns],
    ];
    this.httpApi.addRoutes({ path: '/health', methods: [apigw.HttpMethod.GET], integration: integration(health) });
    for (const [method, path, f] of routes) {
      this.httpApi.addRoutes({ path, methods: [method], integration: integration(f), authorizer });
    }
    new CfnOutput(scope, 'ApiUrl', { value: this.httpApi.apiEndpoint, description: 'Base URL of the HTTP API' });
  }
}
