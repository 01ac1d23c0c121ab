import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';

/** What a middleware installer gets of an SDK client: its middleware stack. */
export interface HookedClient {
  middlewareStack: { add: (...args: any[]) => void; addRelativeTo: (...args: any[]) => void };
}

/** Adds middleware to one SDK client; `service` names it (`DynamoDB`, `S3`, `StepFunctions`, …). */
export type ClientMiddleware = (client: HookedClient, service: string) => void;

const installers: ClientMiddleware[] = [];
const hookedClients: { service: string; client: HookedClient }[] = [];
/** Which installers a middleware stack already has (the DynamoDB document client shares its raw client's stack). */
const installed = new WeakMap<object, Set<ClientMiddleware>>();

function install(installer: ClientMiddleware, service: string, client: HookedClient): void {
  const done = installed.get(client.middlewareStack) ?? new Set<ClientMiddleware>();
  if (done.has(installer)) return;
  done.add(installer);
  installed.set(client.middlewareStack, done);
  installer(client, service);
}

/**
 * The one hook for code that is not the product (the embedded stack and the benchmark: fault and throttle injection,
 * request counters, write watching, IAM checks): `installer` runs on every SDK client the functions create, those
 * already created and those created later, once per middleware stack. Nothing in `functions/` calls it, so on AWS
 * the clients carry only the SDK's own middleware.
 */
export function registerClientMiddleware(installer: ClientMiddleware): void {
  if (installers.includes(installer)) return;
  installers.push(installer);
  for (const { service, client } of hookedClients) install(installer, service, client);
}

/** Every SDK client of the functions is created through here, so that registered middleware reaches it. */
export function hooked<T extends HookedClient>(service: string, client: T): T {
  hookedClients.push({ service, client });
  for (const installer of installers) install(installer, service, client);
  return client;
}

/**
 * One client of each kind per process. Endpoints come from the standard variables (AWS_ENDPOINT_URL_DYNAMODB,
 * AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_SFN), so the same code runs on AWS, LocalStack and the embedded stack.
 */
const retry = { maxAttempts: 6 } as const;

export const dynamodb = hooked('DynamoDB', new DynamoDBClient({ ...retry }));
export const ddb = hooked(
  'DynamoDB',
  DynamoDBDocumentClient.from(dynamodb, {
    marshallOptions: { removeUndefinedValues: true },
  }),
);

export const s3 = hooked(
  'S3',
  new S3Client({
    ...retry,
    // Emulators (and LocalStack) serve path-style URLs; AWS itself uses virtual-hosted style.
    forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  }),
);

export const sfn = hooked('StepFunctions', new SFNClient({ ...retry }));
