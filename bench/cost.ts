/**
 * What an operation costs at on-demand prices in us-east-1 (US East, N. Virginia), from what the benchmark measured.
 * Pure. The price table is a constant (README "Benchmark" repeats it); change it here and only here.
 */
export const PRICES = {
  region: 'us-east-1',
  /** When these prices were read, and where. */
  asOf: '2026-12-01',
  sources: {
    dynamodb: 'https://aws.amazon.com/dynamodb/pricing/on-demand/ (on-demand throughput halved from 2024-11-01)',
    stepFunctions: 'https://aws.amazon.com/step-functions/pricing/',
    lambda: 'https://aws.amazon.com/lambda/pricing/',
    s3: 'https://aws.amazon.com/s3/pricing/ (S3 Standard requests)',
    apiGateway: 'https://aws.amazon.com/api-gateway/pricing/ (HTTP APIs, first 300 million)',
  },
  /** Dollars per one million write / read request units. */
  dynamodbWruPerMillion: 0.625,
  dynamodbRruPerMillion: 0.125,
  /** Standard workflows, dollars per 1,000 state transitions. */
  stepFunctionsPerThousandTransitions: 0.025,
  /** Dollars per GB-second by architecture (first 6 billion GB-s a month), and per one million requests. */
  lambdaPerGbSecond: { arm64: 0.0000133334, x86_64: 0.0000166667 } as Record<string, number>,
  lambdaPerMillionRequests: 0.2,
  /** S3 Standard: PUT, COPY, POST, LIST per 1,000; GET, SELECT and all other requests per 1,000; DELETE free. */
  s3PutClassPerThousand: 0.005,
  s3GetClassPerThousand: 0.0004,
  /** HTTP API, dollars per one million requests. */
  apiGatewayHttpPerMillion: 1.0,
} as const;

/** S3 request classes as billed: PUT/COPY/POST/LIST, GET (and every other), DELETE (free; DeleteObjects too). */
export type S3Class = 'put' | 'get' | 'delete';
const S3_PUT_CLASS = new Set([
  'PutObject',
  'CopyObject',
  'CreateMultipartUpload',
  'UploadPart',
  'UploadPartCopy',
  'CompleteMultipartUpload',
  'ListObjects',
  'ListObjectsV2',
  'ListObjectVersions',
  'ListBuckets',
  'ListMultipartUploads',
  'ListParts',
  'PutObjectTagging',
  'PutBucketPolicy',
  'CreateBucket',
  'PutObjectAcl',
  'RestoreObject',
]);
const S3_DELETE_CLASS = new Set(['DeleteObject', 'DeleteObjects', 'AbortMultipartUpload', 'DeleteBucket']);
export function s3ClassOf(op: string): S3Class {
  if (S3_DELETE_CLASS.has(op)) return 'delete';
  if (S3_PUT_CLASS.has(op)) return 'put';
  return 'get';
}

export interface Usage {
  wru: number;
  rru: number;
  stateTransitions: number;
  /** Lambda invocations and GB-seconds, by architecture (`arm64`, `x86_64`). */
  lambda: Record<string, { invocations: number; gbSeconds: number }>;
  s3: Record<S3Class, number>;
  apiRequests: number;
}

export interface Cost {
  dynamodb: number;
  stepFunctions: number;
  lambda: number;
  s3: number;
  apiGateway: number;
  total: number;
}

/** Dollars for a usage, by service (unrounded). An unknown Lambda architecture is an error, not a guess. */
export function costOf(u: Usage, prices = PRICES): Cost {
  for (const [name, v] of Object.entries({
    wru: u.wru,
    rru: u.rru,
    stateTransitions: u.stateTransitions,
    apiRequests: u.apiRequests,
    ...u.s3,
  })) {
    if (!Number.isFinite(v) || v < 0) throw new Error(`costOf: ${name} must be a number ≥ 0, got ${v}`);
  }
  const dynamodb = (u.wru * prices.dynamodbWruPerMillion + u.rru * prices.dynamodbRruPerMillion) / 1e6;
  const stepFunctions = (u.stateTransitions * prices.stepFunctionsPerThousandTransitions) / 1000;
  let lambda = 0;
  for (const [arch, l] of Object.entries(u.lambda)) {
    const perGbS = prices.lambdaPerGbSecond[arch];
    if (perGbS === undefined) throw new Error(`costOf: no Lambda price for architecture ${arch}`);
    lambda += l.gbSeconds * perGbS + (l.invocations * prices.lambdaPerMillionRequests) / 1e6;
  }
  const s3 = (u.s3.put * prices.s3PutClassPerThousand + u.s3.get * prices.s3GetClassPerThousand) / 1000;
  const apiGateway = (u.apiRequests * prices.apiGatewayHttpPerMillion) / 1e6;
  return { dynamodb, stepFunctions, lambda, s3, apiGateway, total: dynamodb + stepFunctions + lambda + s3 + apiGateway };
}
