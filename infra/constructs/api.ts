import { Aws, CfnOutput, Duration, Fn, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { ConsoleSignIn } from './console-hosting.js';
import { OffboardFunction, type FunctionSize } from './offboard-function.js';

export interface ApiProps {
  table: dynamodb.ITable;
  /** X4: the export bucket (its archives' download links are signed by the Exports function). */
  exports: s3.IBucket;
  transferStateMachine: sfn.IStateMachine;
  deletionStateMachine: sfn.IStateMachine;
  /** The bulk contract-cancellation run (B1): a failed run is resumed through the API. */
  cancellationStateMachine: sfn.IStateMachine;
  /** CONTRACT.md `planning`: computes the plans too large for a request. */
  planningStateMachine: sfn.IStateMachine;
  /** The identity provider that issues the chat service's tokens. Absent: a Cognito user pool is created. */
  jwtIssuer?: string;
  jwtAudience?: string[];
  /** The token claim that names the chat-service user (default `sub`). */
  userIdClaim?: string;
  /**
   * Where the Cognito pool's tokens say they come from, when not `https://cognito-idp.{region}.amazonaws.com`:
   * LocalStack's Cognito issues `{base}/{poolId}` with base `http://localhost:4566` (`-c offboard:cognitoIssuerBase=…`).
   */
  cognitoIssuerBase?: string;
  /**
   * false: only the API's functions, without the HTTP API, its authorizer, the Cognito pool or the access logs
   * (`-c offboard:api=none`, for LocalStack's free tier, which has no API Gateway v2 or Cognito). Callers then reach
   * the functions through the project's own gateway in front of lambda:Invoke (local/deployed-stack.ts).
   */
  http?: boolean;
  /** With `jwtIssuer`: the console's OpenID Connect client (default: the first audience) and scopes (default `openid profile`). */
  oidcClientId?: string;
  oidcScope?: string;
  /** Without `jwtIssuer`: the Cognito hosted sign-in domain prefix (default `offboard-ACCOUNT`). */
  signInDomainPrefix?: string;
  /**
   * The OAuth scope the gateway requires on operator-only routes (route authorization scopes of the JWT authorizer),
   * default `offboard/operator`; `none` leaves them to the handlers (an identity provider that issues no such scope).
   * The handlers check it again, and that the caller is an active user (CONTRACT.md "operator").
   */
  operatorScope?: string;
  /**
   * false: no reserved concurrency on the planning functions (`-c offboard:reservedConcurrency=false`), for an account
   * whose concurrency limit is below the 1,000 of a default one (Lambda keeps 100 unreserved).
   */
  reservedConcurrency?: boolean;
}

/** SCIM 2.0 (RFC 7644) at /scim/v2: authorized by the organization's SCIM bearer token in the function, not by the JWT authorizer. */
export const SCIM_ROUTES: [apigw.HttpMethod, string][] = [
  [apigw.HttpMethod.GET, '/scim/v2/ServiceProviderConfig'],
  [apigw.HttpMethod.GET, '/scim/v2/ResourceTypes'],
  [apigw.HttpMethod.GET, '/scim/v2/ResourceTypes/{id}'],
  [apigw.HttpMethod.GET, '/scim/v2/Schemas'],
  [apigw.HttpMethod.GET, '/scim/v2/Schemas/{id}'],
  [apigw.HttpMethod.GET, '/scim/v2/Users'],
  [apigw.HttpMethod.GET, '/scim/v2/Users/{id}'],
  [apigw.HttpMethod.PATCH, '/scim/v2/Users/{id}'],
  [apigw.HttpMethod.DELETE, '/scim/v2/Users/{id}'],
];

/** CONTRACT.md: the routes only an operator may call (B4, O2); the gateway requires the operator scope on them. */
export const OPERATOR_ROUTES = [
  'POST /billing-runs/{id}/confirmation',
  'POST /billing-runs/{id}/cancellation',
  'POST /billing-runs/{id}/resumption',
] as const;
export const DEFAULT_OPERATOR_SCOPE = 'offboard/operator';

/**
 * Throttling of the HTTP API's default stage (issue 17), in requests per second (steady) and burst. Every route: the
 * console polls a running operation once a second, so 100 per second serves a hundred open progress screens at once.
 * Routes that plan (up to 18 s of reads and planning each, a stored plan each) get 10 per second.
 */
export const API_THROTTLE = { rateLimit: 100, burstLimit: 200 } as const;
export const PLANNING_THROTTLE = { rateLimit: 10, burstLimit: 20 } as const;
export const PLANNING_ROUTES = ['POST /previews', 'POST /transfers', 'POST /transfers/{id}/approval', 'POST /deletions'] as const;
/**
 * Concurrent executions reserved for each planning function (Previews, Transfers, Deletions): at most 20 plans at
 * once each, so a caller looping POST /previews holds at most 20 of the account's executions, and these routes keep
 * 20 whatever else runs. 60 in all: a default account (1,000) keeps 940 unreserved (Lambda requires 100).
 */
export const PLANNING_CONCURRENCY = 20;

/** CONTRACT.md's HTTP API: an HTTP API with a JWT authorizer on every route but /health. */
export class Api extends Construct {
  readonly httpApi?: apigw.HttpApi;
  readonly functions: Record<string, OffboardFunction> = {};
  /** How the admin console signs people in (the identity provider that issues the API's tokens). */
  readonly signIn?: ConsoleSignIn;
  /** Where the admin console is served: sign-in returns there (and nowhere else). */
  private readonly consoleUrls: string[] = [];

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const fn = (name: string, entry: string, description: string, size: FunctionSize = 'read') => {
      const planning = size === 'planningApi';
      const f = new OffboardFunction(this, name, {
        entry: `functions/handlers/api/${entry}.ts`,
        description,
        size,
        ...(planning && props.reservedConcurrency !== false ? { reservedConcurrentExecutions: PLANNING_CONCURRENCY } : {}),
        environment: { USER_ID_CLAIM: props.userIdClaim ?? 'sub' },
      });
      this.functions[name] = f;
      return f;
    };
    const health = fn('Health', 'health', 'GET /health', 'trivial');
    // The API plans and records operations; it never touches file bytes, so it gets no bucket permission. Each gets
    // the table actions its code makes (test/least-privilege/), Query on GSI1 where it reads by organization.
    const previews = fn('Previews', 'previews', '/previews routes: saved previews (X1)', 'planningApi').bindTable(
      props.table,
      ['GetItem', 'BatchGetItem', 'Query', 'BatchWriteItem'],
      ['Query'],
    );
    const operationWrites = ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'] as const;
    const transfers = fn('Transfers', 'transfers', '/transfers routes (T3, T4)', 'planningApi').bindTable(props.table, operationWrites, [
      'Query',
    ]);
    const deletions = fn('Deletions', 'deletions', '/deletions routes (D1)', 'planningApi').bindTable(props.table, operationWrites, [
      'Query',
    ]);
    const billingRuns = fn(
      'BillingRuns',
      'billing-runs',
      '/billing-runs routes (B1 progress; B4 confirmation, cancellation; O2 resumption)',
    ).bindTable(props.table, ['GetItem', 'PutItem', 'UpdateItem'], ['Query']);
    const settings = fn('OrganizationSettings', 'organization-settings', '/organizations/{id}/settings (D7 grace period)').bindTable(
      props.table,
      ['GetItem', 'UpdateItem'],
    );
    // D7: an undo stops the deletion's execution waiting for its purge date
    props.deletionStateMachine.grantExecution(deletions, 'states:StopExecution');
    props.cancellationStateMachine.grantStartExecution(billingRuns);
    props.cancellationStateMachine.grantExecution(billingRuns, 'states:DescribeExecution');
    billingRuns.addEnvironment('CANCELLATION_STATE_MACHINE_ARN', props.cancellationStateMachine.stateMachineArn);
    // X4: signs download links (a link acts with this function's s3:GetObject) and checks the archive is still there
    const exportLinks = fn('Exports', 'exports', 'GET /transfers/{id}/export, GET /deletions/{id}/export (X4)').bindTable(props.table, [
      'GetItem',
      'Query',
      'PutItem',
      'UpdateItem',
    ]);
    exportLinks.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [props.exports.arnForObjects('exports/*')] }),
    );
    exportLinks.addEnvironment('EXPORT_BUCKET_NAME', props.exports.bucketName);
    // SCIM 2.0 (README "SCIM"): deprovisioning requests a deletion (D1, D7) as the token's administrator would, so
    // the same table actions and executions as Deletions; the tokens and the SCIM calls' trail are table items too
    const scim = fn(
      'Scim',
      'scim',
      '/scim/v2 (SCIM 2.0 users, deprovisioning) and /organizations/{id}/scim-tokens',
      'planningApi',
    ).bindTable(props.table, operationWrites, ['Query']);
    props.deletionStateMachine.grantStartExecution(scim);
    props.deletionStateMachine.grantExecution(scim, 'states:StopExecution');
    scim.addEnvironment('DELETION_STATE_MACHINE_ARN', props.deletionStateMachine.stateMachineArn);
    const audit = fn('Audit', 'audit', 'GET /operations/{id}/audit (X2)').bindTable(props.table, ['GetItem', 'BatchGetItem', 'Query']);
    const organizations = fn(
      'Organizations',
      'organizations',
      "the console's reads: GET /me, /organizations, members, transfers and deletions by organization",
    ).bindTable(props.table, ['GetItem', 'BatchGetItem', 'Query'], ['Query']);
    // each starts its own workflow; a resumption asks whether the operation's last execution ended without recording its outcome
    props.transferStateMachine.grantStartExecution(transfers);
    props.transferStateMachine.grantExecution(transfers, 'states:DescribeExecution');
    props.deletionStateMachine.grantStartExecution(deletions);
    props.deletionStateMachine.grantExecution(deletions, 'states:DescribeExecution');
    for (const f of [transfers, deletions]) {
      f.addEnvironment('TRANSFER_STATE_MACHINE_ARN', props.transferStateMachine.stateMachineArn);
      f.addEnvironment('DELETION_STATE_MACHINE_ARN', props.deletionStateMachine.stateMachineArn);
    }
    // CONTRACT.md `planning`: a plan too large for the request is computed by the planning workflow
    for (const f of [previews, transfers, deletions, scim]) {
      props.planningStateMachine.grantStartExecution(f);
      f.addEnvironment('PLANNING_STATE_MACHINE_ARN', props.planningStateMachine.stateMachineArn);
    }
    // a resumption asks whether an operation left `planning` by a planning execution that ended (PlanFailed failed)
    for (const f of [transfers, deletions]) props.planningStateMachine.grantExecution(f, 'states:DescribeExecution');

    if (props.http === false) return;

    let issuer = props.jwtIssuer;
    let audience = props.jwtAudience;
    if (!issuer || !audience?.length) {
      // Administrators sign in here: no self sign-up, strong passwords, a second factor.
      const pool = new cognito.UserPool(this, 'Users', {
        selfSignUpEnabled: false,
        signInAliases: { username: true },
        passwordPolicy: {
          minLength: 12,
          requireDigits: true,
          requireLowercase: true,
          requireUppercase: true,
          requireSymbols: true,
          tempPasswordValidity: Duration.days(3),
        },
        mfa: cognito.Mfa.REQUIRED,
        mfaSecondFactor: { otp: true, sms: false },
        removalPolicy: RemovalPolicy.RETAIN,
      });
      // The hosted sign-in pages; the prefix must be unique in the region (default: offboard-ACCOUNT).
      const domain = pool.addDomain('SignIn', {
        cognitoDomain: { domainPrefix: props.signInDomainPrefix ?? Fn.join('-', ['offboard', Aws.ACCOUNT_ID]) },
      });
      // The admin console's client: authorization code with PKCE, no secret (a browser keeps none), back to the console only.
      const client = pool.addClient('AdminConsole', {
        generateSecret: false,
        // SRP for sign-in from a terminal (LocalStack's Cognito, by hand); the console uses the code flow
        authFlows: { userSrp: true },
        preventUserExistenceErrors: true,
        supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
        oAuth: {
          flows: { authorizationCodeGrant: true, implicitCodeGrant: false, clientCredentials: false },
          scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.PROFILE],
          callbackUrls: Lazy.list({ produce: () => this.consoleUrls }),
          logoutUrls: Lazy.list({ produce: () => this.consoleUrls }),
        },
      });
      const base = props.cognitoIssuerBase?.replace(/\/+$/, '') ?? `https://cognito-idp.${Stack.of(this).region}.amazonaws.com`;
      issuer = `${base}/${pool.userPoolId}`;
      audience = [client.userPoolClientId];
      this.signIn = {
        authority: issuer,
        clientId: client.userPoolClientId,
        scope: 'openid profile',
        tokenType: 'access',
        connectOrigins: [base, domain.baseUrl()],
      };
    } else {
      this.signIn = {
        authority: issuer,
        clientId: props.oidcClientId ?? audience[0]!,
        scope: props.oidcScope ?? 'openid profile',
        connectOrigins: [new URL(issuer).origin],
      };
    }
    const authorizer = new HttpJwtAuthorizer('Jwt', issuer, { jwtAudience: audience, identitySource: ['$request.header.Authorization'] });

    const httpApi = new apigw.HttpApi(this, 'Http', {
      description: 'offboard: previews, transfers and deletions of chat-service users',
      createDefaultStage: true,
      // The admin console calls from its own origin. Any origin may, since the API takes bearer tokens in the
      // Authorization header, never cookies: a page elsewhere gains nothing without a token. (Naming the console's
      // origin would make the API and the distribution depend on each other: its CSP names the API.)
      corsPreflight: {
        allowOrigins: ['*'],
        allowHeaders: ['authorization', 'content-type'],
        allowMethods: [apigw.CorsHttpMethod.GET, apigw.CorsHttpMethod.POST, apigw.CorsHttpMethod.PUT],
        maxAge: Duration.hours(1),
      },
    });

    // Who called what, and the answer: one JSON line per request.
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const stage = httpApi.defaultStage!.node.defaultChild as apigw.CfnStage;
    stage.defaultRouteSettings = { throttlingRateLimit: API_THROTTLE.rateLimit, throttlingBurstLimit: API_THROTTLE.burstLimit };
    stage.accessLogSettings = {
      destinationArn: accessLogs.logGroupArn,
      format: JSON.stringify({
        requestId: '$context.requestId',
        time: '$context.requestTime',
        route: '$context.routeKey',
        status: '$context.status',
        caller: '$context.authorizer.claims.sub',
        latencyMs: '$context.responseLatency',
        error: '$context.authorizer.error',
      }),
    };

    this.httpApi = httpApi;

    const integrations = new Map<OffboardFunction, HttpLambdaIntegration>();
    const integration = (f: OffboardFunction) => {
      if (!integrations.has(f)) integrations.set(f, new HttpLambdaIntegration(`${f.node.id}Integration`, f));
      return integrations.get(f)!;
    };
    const routes: [apigw.HttpMethod, string, OffboardFunction][] = [
      [apigw.HttpMethod.POST, '/previews', previews],
      [apigw.HttpMethod.GET, '/previews/{id}', previews],
      [apigw.HttpMethod.GET, '/previews/{id}/effects', previews],
      [apigw.HttpMethod.GET, '/transfers/{id}/effects', transfers],
      [apigw.HttpMethod.GET, '/deletions/{id}/effects', deletions],
      [apigw.HttpMethod.POST, '/transfers', transfers],
      [apigw.HttpMethod.POST, '/transfers/{id}/approval', transfers],
      [apigw.HttpMethod.POST, '/transfers/{id}/cancellation', transfers],
      [apigw.HttpMethod.POST, '/transfers/{id}/resumption', transfers],
      [apigw.HttpMethod.GET, '/transfers/{id}', transfers],
      [apigw.HttpMethod.POST, '/deletions', deletions],
      [apigw.HttpMethod.POST, '/deletions/{id}/resumption', deletions],
      [apigw.HttpMethod.POST, '/deletions/{id}/cancellation', deletions],
      [apigw.HttpMethod.GET, '/deletions/{id}', deletions],
      [apigw.HttpMethod.POST, '/deletions/{id}/undo', deletions],
      [apigw.HttpMethod.GET, '/transfers/{id}/export', exportLinks],
      [apigw.HttpMethod.GET, '/deletions/{id}/export', exportLinks],
      [apigw.HttpMethod.GET, '/organizations/{id}/settings', settings],
      [apigw.HttpMethod.PUT, '/organizations/{id}/settings', settings],
      [apigw.HttpMethod.GET, '/billing-runs/{id}', billingRuns],
      [apigw.HttpMethod.GET, '/billing-runs', billingRuns],
      [apigw.HttpMethod.GET, '/me', organizations],
      [apigw.HttpMethod.GET, '/organizations', organizations],
      [apigw.HttpMethod.GET, '/organizations/{id}/members', organizations],
      [apigw.HttpMethod.GET, '/organizations/{id}/transfers', organizations],
      [apigw.HttpMethod.GET, '/organizations/{id}/deletions', organizations],
      [apigw.HttpMethod.POST, '/billing-runs/{id}/resumption', billingRuns],
      [apigw.HttpMethod.POST, '/billing-runs/{id}/confirmation', billingRuns],
      [apigw.HttpMethod.POST, '/billing-runs/{id}/cancellation', billingRuns],
      [apigw.HttpMethod.GET, '/operations/{id}/audit', audit],
      [apigw.HttpMethod.POST, '/organizations/{id}/scim-tokens', scim],
      [apigw.HttpMethod.GET, '/organizations/{id}/scim-tokens', scim],
      [apigw.HttpMethod.DELETE, '/organizations/{id}/scim-tokens/{tokenId}', scim],
    ];
    httpApi.addRoutes({ path: '/health', methods: [apigw.HttpMethod.GET], integration: integration(health) });
    // SCIM: the identity provider presents the organization's SCIM token (no JWT); the function checks it (services/scim.ts)
    for (const [method, path] of SCIM_ROUTES) httpApi.addRoutes({ path, methods: [method], integration: integration(scim) });
    const operatorScope = props.operatorScope ?? DEFAULT_OPERATOR_SCOPE;
    for (const [method, path, f] of routes) {
      const operatorOnly = operatorScope !== 'none' && (OPERATOR_ROUTES as readonly string[]).includes(`${method} ${path}`);
      const [route] = httpApi.addRoutes({
        path,
        methods: [method],
        integration: integration(f),
        authorizer,
        ...(operatorOnly ? { authorizationScopes: [operatorScope] } : {}),
      });
      // a stage's route settings name routes that must exist first
      if ((PLANNING_ROUTES as readonly string[]).includes(`${method} ${path}`)) stage.node.addDependency(route!);
    }
    // a JSON map passed to CloudFormation as it is: property names as CloudFormation spells them
    stage.routeSettings = Object.fromEntries(
      PLANNING_ROUTES.map((route) => [
        route,
        { ThrottlingRateLimit: PLANNING_THROTTLE.rateLimit, ThrottlingBurstLimit: PLANNING_THROTTLE.burstLimit },
      ]),
    );
    new CfnOutput(scope, 'ApiUrl', { value: httpApi.apiEndpoint, description: 'Base URL of the HTTP API' });
  }

  /** The admin console is served at `url`: Cognito's sign-in may return there. */
  allowConsole(url: string): void {
    this.consoleUrls.push(url);
  }
}
