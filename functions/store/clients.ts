import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { withChaos } from './chaos.js';

/**
 * One client of each kind per process. Endpoints come from the standard variables (AWS_ENDPOINT_URL_DYNAMODB,
 * AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_SFN), so the same code runs on AWS, LocalStack and the embedded stack.
 */
const requestCounts = new Map<string, number>();

function counted<T extends { middlewareStack: { add: (...args: any[]) => void } }>(service: string, client: T): T {
  client.middlewareStack.add(
    (next: any, context: any) => async (args: any) => {
      const key = `${service}.${String(context.commandName ?? 'unknown').replace(/Command$/, '')}`;
      requestCounts.set(key, (requestCounts.get(key) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'offboardRequestCounter' },
  );
  return client;
}

/** Requests made by this process since the last reset, by service and operation (benchmarks and notes). */
export function takeRequestCounts(): Record<string, number> {
  const out = Object.fromEntries([...requestCounts.entries()].sort());
  requestCounts.clear();
  return out;
}

const retry = { maxAttempts: 6 } as const;

// withChaos: throttling and partial failures, off unless the embedded stack turns them on (store/chaos.ts).
export const dynamodb = withChaos('DynamoDB', counted('DynamoDB', new DynamoDBClient({ ...retry })));
export const ddb = DynamoDBDocumentClient.from(dynamodb, {
  marshallOptions: { removeUndefinedValues: true },
});

export const s3 = withChaos('S3', counted(
  'S3',
  new S3Client({
    ...retry,
    // Emulators (and LocalStack) serve path-style URLs; AWS itself uses virtual-hosted style.
    forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  }),
));

export const sfn = counted('StepFunctions', new SFNClient({ ...retry }));
