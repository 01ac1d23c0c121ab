import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { generateKeyPair, SignJWT } from 'jose';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { startDynamoDbLocal, type RunningEmulator } from './emulators/dynamodb-local.js';
import { startS3Local } from './emulators/s3-local.js';
import { currentFunction, LocalLambda, watchWrites } from './functions.js';
import { iamEnforcedByDefault, IamEnforcer } from './iam/enforce.js';
import type { ClientMiddleware } from '../functions/store/clients.js';
import { LocalHttpApi, requestUrl, type JwtSettings } from './gateway.js';
import { startEdge, type Edge } from './edge.js';
import { LocalStepFunctions } from './sfn-service.js';
import { localFunctions, LocalNames, REGION, resourcesOfType, synthesizeTemplate, type Template } from './template.js';
import { serveConsole } from './console-files.js';
import { LocalEventBus } from './event-bus.js';
import { chaosMiddleware, parseChaos, setChaos } from './chaos.js';
import { countRequests } from './request-counts.js';
import { controlRoutes } from './control-routes.js';

/** The IAM check of the stack started last in this process (local/iam/enforce.ts), installed once on every client. */
let activeIam: IamEnforcer | undefined;
const IAM_SERVICE: Record<string, 'DynamoDB' | 'S3' | 'SFN' | 'EventBridge'> = {
  DynamoDB: 'DynamoDB',
  S3: 'S3',
  StepFunctions: 'SFN',
  EventBridge: 'EventBridge',
};
const iamMiddleware: ClientMiddleware = (client, service) => {
  const checked = IAM_SERVICE[service];
  if (!checked) return;
  client.middlewareStack.add(
    (next: (args: any) => Promise<any>, context: { commandName?: string }) => (args: any) =>
      activeIam ? activeIam.middleware(checked, currentFunction)(next, context)(args) : next(args),
    { step: 'initialize', priority: 'high', name: 'offboardIamEnforcement' },
  );
};

export interface EmbeddedStackOptions {
  port?: number;
  /** A world to load at start (parsed World JSON). */
  world?: unknown;
  /** Endpoints of already running emulators (tests share one); started here when absent. */
  dynamodbEndpoint?: string;
  s3Endpoint?: string;
  /** Keeps several stacks apart on shared emulators. */
  prefix?: string;
  /**
   * Also serve one endpoint for every service, as LocalStack's edge port does (local/edge.ts); the handlers then
   * reach every service through it (`AWS_ENDPOINT_URL`), as deployed functions do on LocalStack.
   */
  edge?: boolean;
  /** The name the edge's CloudFormation answers to (default `Offboard`). */
  stackName?: string;
  /** `none`: the stack as `-c offboard:api=none` deploys it, without the HTTP API. */
  api?: 'http' | 'none';
  /**
   * Another identity provider for the API's JWT authorizer and the console's sign-in (as a deployed stack is
   * configured with `offboard:jwtIssuer`): the console's `/config.json` and the key, issuer and audience tokens are
   * checked against. Without it the stack is its own issuer and the console signs in locally.
   */
  identity?: { jwt: JwtSettings; consoleConfig?: unknown };
  /** B4: the stack's confirmation threshold (as `-c offboard:confirmationThreshold`; default 500 members). */
  confirmationThreshold?: number;
  /**
   * The template's IAM and resource policies enforced as AWS would (local/iam/enforce.ts): on unless `false` or
   * `OFFBOARD_IAM=off`, for experiments.
   */
  iam?: boolean;
}

/**
 * The platform operator of the local sign-in: a real user of the loaded world (the demo world's `platform-operator`,
 * a personal account), whose local token carries the scope `offboard/operator`. Offered only while it is active.
 */
export { LOCAL_OPERATOR_ID } from './control-routes.js';

export interface EmbeddedStack {
  url: string;
  template: Template;
  names: LocalNames;
  lambda: LocalLambda;
  stepFunctions: LocalStepFunctions;
  eventBus: LocalEventBus;
  /** The IAM enforcement: its denials and what each function used (absent when turned off). */
  iam?: IamEnforcer;
  /** The edge endpoint (with `edge: true`). */
  edgeUrl?: string;
  stackName: string;
  token(userId: string, scopes?: string[], claims?: TokenClaims): Promise<string>;
  stop(): Promise<void>;
}

/** Claims a test may set otherwise than a good token has them: the issuer, audience and expiry the authorizer checks. */
export interface TokenClaims {
  iss?: string;
  aud?: string;
  /** Expiry, seconds since the epoch. */
  exp?: number;
}

const LOCAL_ISSUER = 'http://127.0.0.1/local-idp';
const LOCAL_AUDIENCE = 'offboard-local';

async function createResources(names: LocalNames, dynamodbEndpoint: string, s3Endpoint: string): Promise<void> {
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  const ddb = new DynamoDBClient({ endpoint: dynamodbEndpoint, region: REGION, credentials });
  for (const [id, r] of resourcesOfType(names.template, 'AWS::DynamoDB::Table')) {
    const p = r.Properties;
    await ddb.send(
      new CreateTableCommand({
        TableName: names.physicalName(id),
        KeySchema: p.KeySchema,
        AttributeDefinitions: p.AttributeDefinitions,
        BillingMode: 'PAY_PER_REQUEST',
        GlobalSecondaryIndexes: p.GlobalSecondaryIndexes?.map((g: any) => ({
          IndexName: g.IndexName,
          KeySchema: g.KeySchema,
          Projection: g.Projection,
        })),
      }),
    );
  }
  ddb.destroy();
  const s3 = new S3Client({ endpoint: s3Endpoint, region: REGION, credentials, forcePathStyle: true });
  for (const [id] of resourcesOfType(names.template, 'AWS::S3::Bucket')) {
    await s3.send(new CreateBucketCommand({ Bucket: names.physicalName(id) }));
  }
  s3.destroy();
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const send = (res: ServerResponse, status: number, body: unknown): void =>
  void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

/**
 * The embedded stack: DynamoDB Local and an in-memory S3, the state machines as synthesized by CDK run by
 * aws-local-stepfunctions, the HTTP API as API Gateway would serve it, all with the real handler modules.
 */
export async function startEmbeddedStack(options: EmbeddedStackOptions = {}): Promise<EmbeddedStack> {
  const owned: RunningEmulator[] = [];
  try {
    return await start(options, owned);
  } catch (error) {
    for (const e of owned) await e.stop().catch(() => undefined);
    throw error;
  }
}

async function start(options: EmbeddedStackOptions, owned: RunningEmulator[]): Promise<EmbeddedStack> {
  // read before anything starts, so a malformed value stops here with its name
  const chaosAtStart = parseChaos(process.env.OFFBOARD_CHAOS);
  const dynamodbEndpoint = options.dynamodbEndpoint ?? owned[owned.push(await startDynamoDbLocal()) - 1]!.endpoint;
  const s3Endpoint = options.s3Endpoint ?? owned[owned.push(await startS3Local()) - 1]!.endpoint;
  const template = synthesizeTemplate({
    api: options.api,
    ...(options.confirmationThreshold === undefined ? {} : { confirmationThreshold: options.confirmationThreshold }),
  });
  const names = new LocalNames(template, options.prefix ?? 'offboard');
  await createResources(names, dynamodbEndpoint, s3Endpoint);

  const functions = localFunctions(names);
  const lambda = new LocalLambda(functions);
  const iam = (options.iam ?? iamEnforcedByDefault()) ? new IamEnforcer(names) : undefined;
  if (iam) lambda.authorizeInvoke = (f, caller) => iam.checkInvoke(f, caller);
  const stepFunctions = new LocalStepFunctions(lambda);
  for (const [id, r] of resourcesOfType(template, 'AWS::StepFunctions::StateMachine')) {
    stepFunctions.register(names.arn(id), JSON.parse(names.resolve(r.Properties.DefinitionString)));
  }
  const sfnEndpoint = await stepFunctions.listen();
  // fauxqs serves SQS beside S3: the billing dead-letter queue lives there.
  const eventBus = new LocalEventBus(names, lambda, s3Endpoint);
  await eventBus.createQueues();
  if (iam) eventBus.authorizeDestination = (f, queueArn) => iam.checkRequest(f, { action: 'sqs:SendMessage', resource: queueArn });
  // the functions' PutEvents (docs/EVENTS.md) reach the same buses, recorded for /_local/events
  const eventsEndpoint = await eventBus.listen();

  // The handlers' environment, as Lambda would set it, plus the emulators' endpoints for the SDK.
  Object.assign(process.env, {
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: dynamodbEndpoint,
    AWS_ENDPOINT_URL_S3: s3Endpoint,
    AWS_ENDPOINT_URL_SFN: sfnEndpoint,
    AWS_ENDPOINT_URL_EVENTBRIDGE: eventsEndpoint,
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
    ...Object.assign({}, ...functions.map((f) => f.environment)),
  });

  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const api = new LocalHttpApi(names, lambda, options.identity?.jwt ?? { key: publicKey, issuer: LOCAL_ISSUER, audience: LOCAL_AUDIENCE });
  const stackName = options.stackName ?? 'Offboard';
  let edge: Edge | undefined;
  if (options.edge) {
    edge = await startEdge({
      stackName,
      names,
      lambda,
      eventBus,
      api: api.routes.length ? api : undefined,
      backends: { dynamodb: dynamodbEndpoint, s3: s3Endpoint, sqs: s3Endpoint, states: sfnEndpoint },
    });
    // As LocalStack sets it in a function's environment: one endpoint, no per-service ones.
    for (const service of ['DYNAMODB', 'S3', 'SFN', 'EVENTBRIDGE']) delete process.env[`AWS_ENDPOINT_URL_${service}`];
    process.env.AWS_ENDPOINT_URL = edge.url;
  }
  const token = (userId: string, scopes: string[] = [], claims: TokenClaims = {}) =>
    new SignJWT(scopes.length ? { scope: scopes.join(' ') } : {})
      .setProtectedHeader({ alg: 'RS256' })
      .setSubject(userId)
      .setIssuer(claims.iss ?? LOCAL_ISSUER)
      .setAudience(claims.aud ?? LOCAL_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(claims.exp ?? '12h')
      .sign(privateKey);
  // Loaded after the environment is set: the store's clients read their endpoints when created.
  const worldStore = await import('./world/world-store.js');
  const clock = await import('../functions/shared/clock.js');
  // The harness reaches the functions' SDK clients through the store's one hook (functions/store/clients.ts):
  // request counts (bench, scale tests), each invocation's writes (a `mid` fault stops one part way,
  // local/functions.ts), throttling and partial failures (local/chaos.ts, off until set), and the IAM check of every
  // request a function makes against its role and the resource's policy, as on AWS (local/iam/enforce.ts).
  const { registerClientMiddleware } = await import('../functions/store/clients.js');
  registerClientMiddleware(countRequests);
  registerClientMiddleware(watchWrites);
  registerClientMiddleware(chaosMiddleware);
  registerClientMiddleware(iamMiddleware);
  activeIam = iam; // a second stack in this process checks with its own policies
  if (chaosAtStart) setChaos(chaosAtStart);
  const worldCheck = await import('./world/check.js');
  const { getUser } = await import('../functions/store/table.js');

  const routes = controlRoutes({ names, s3Endpoint, lambda, stepFunctions, eventBus, worldStore, worldCheck, clock, getUser, token });
  const control = async (req: IncomingMessage, res: ServerResponse, path: string, body: string): Promise<void> => {
    const route = routes[`${req.method} ${path}`];
    if (!route) return send(res, 404, { error: { code: 'not-found', message: `no local route ${req.method} ${path}` } });
    const { status, body: answer } = await route(req, body);
    send(res, status, answer);
  };

  const server: Server = createServer(async (req, res) => {
    try {
      const body = await readBody(req);
      const path = requestUrl(req).pathname;
      if (path.startsWith('/_local/')) return await control(req, res, path, body);
      if (serveConsole(req.method ?? 'GET', path, res, options.identity?.consoleConfig)) return;
      if (await api.handle(req, res, body)) return;
      send(res, 404, { error: { code: 'not-found', message: `no route ${req.method} ${path}` } });
    } catch (error) {
      send(res, 500, { error: { code: 'internal', message: (error as Error).message } });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const url = `http://127.0.0.1:${(server.address() as any).port}`;
  if (options.world !== undefined) await worldStore.loadWorld(options.world);

  return {
    url,
    template,
    names,
    lambda,
    stepFunctions,
    eventBus,
    iam,
    edgeUrl: edge?.url,
    stackName,
    token,
    async stop() {
      await edge?.idle();
      await edge?.close();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      stepFunctions.stopWaiting(); // deletions waiting for a purge date (D7) end with the stack
      await stepFunctions.idle().catch(() => undefined);
      await stepFunctions.close();
      await eventBus.close();
      for (const e of owned) await e.stop();
    },
  };
}
