import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CfnResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { functionTracingPolicy } from './wildcard-grants.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The template metadata key naming a function's handler module, so the embedded stack can run the real module. */
export const ENTRY_METADATA = 'offboard:entry';

/** How every function is bundled (esbuild); test/infra/bundles.test.ts bundles each entry the same way. */
export const BUNDLING: BundlingOptions & { format: OutputFormat; target: string; externalModules: string[] } = {
  format: OutputFormat.CJS,
  target: 'node22',
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  // The SDK v3 ships in the Node.js 22 runtime: leaving it out keeps bundles small and cold starts short.
  externalModules: ['@aws-sdk/*'],
};

/**
 * Memory and timeout by the kind of work a function does (issue 17). Lambda gives CPU in proportion to memory
 * (1,769 MB is one vCPU), so only CPU-bound work (planning) gets more than 512 MB; timeouts bound the work a function
 * is given, with room for the store's backoff under throttling (8 attempts a batch, 5 s at most between them).
 */
export const SIZES = {
  /** GET /health: no store access. */
  trivial: { memorySize: 128, timeout: Duration.seconds(3) },
  /** An API route that reads a page or writes a few items: a page of members at 10,000 is one Query. */
  read: { memorySize: 512, timeout: Duration.seconds(10) },
  /**
   * An API route that plans (previews, requests, approvals, resumptions): 14–18 s for a 10,000-chat user on the
   * embedded stack. Under API Gateway's 30 s integration limit, with 5 s left for a cold start and the gateway.
   */
  planningApi: { memorySize: 1769, timeout: Duration.seconds(25) },
  /** A workflow step with a few reads and writes (eligibility, purge start, waiting for a seat, marking failed). */
  small: { memorySize: 512, timeout: Duration.seconds(30) },
  /** PlanImpact: the same planning as the API's, and its plan stored (about 100 items for 100,000 effects). */
  planning: { memorySize: 1769, timeout: Duration.minutes(2) },
  /** Plan (CONTRACT.md `planning`): a plan too large for its API request, computed in the planning workflow. */
  backgroundPlanning: { memorySize: 1769, timeout: Duration.minutes(15) },
  /** An applying step: at most 4,000 item writes and their object deletes per invocation (longest measured: 1.5 s). */
  apply: { memorySize: 512, timeout: Duration.minutes(2) },
  /** A billing event's target: updates an organization, then starts or cancels the operations waiting on it (B1–B3). */
  event: { memorySize: 512, timeout: Duration.minutes(1) },
  /** The outbox sweeper (docs/EVENTS.md): at most 500 operations' events, 25 a publish, every minute. */
  sweep: { memorySize: 512, timeout: Duration.seconds(50) },
  /** A bulk batch (B1): up to 500 members or 20,000 planned effects planned and applied (500 members: 3.7 s). */
  bulk: { memorySize: 1769, timeout: Duration.minutes(5) },
} as const satisfies Record<string, { memorySize: number; timeout: Duration }>;

export type FunctionSize = keyof typeof SIZES;

/** The DynamoDB actions a function may be granted on the table (bindTable). */
export type TableAction =
  | 'GetItem'
  | 'BatchGetItem'
  | 'Query'
  | 'PutItem'
  | 'UpdateItem'
  | 'DeleteItem'
  | 'BatchWriteItem'
  | 'ConditionCheckItem'
  | 'PartiQLUpdate';

export interface OffboardFunctionProps {
  /** Handler module, relative to the repository root, e.g. `functions/handlers/steps/finalize.ts`. */
  entry: string;
  description: string;
  /** Memory and timeout for the kind of work (default `read`: 512 MB, 10 s); `timeout`/`memorySize` override. */
  size?: FunctionSize;
  timeout?: Duration;
  memorySize?: number;
  /** Executions set aside for this function, and its ceiling: a runaway caller cannot take the account's (issue 17). */
  reservedConcurrentExecutions?: number;
  environment?: Record<string, string>;
}

/** The in-house function: Node.js 22 on arm64, esbuild-bundled, X-Ray tracing, JSON logs kept a month. Defaults set once. */
export class OffboardFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: OffboardFunctionProps) {
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    super(scope, id, {
      entry: path.join(REPO_ROOT, props.entry),
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? SIZES[props.size ?? 'read'].memorySize,
      timeout: props.timeout ?? SIZES[props.size ?? 'read'].timeout,
      ...(props.reservedConcurrentExecutions !== undefined ? { reservedConcurrentExecutions: props.reservedConcurrentExecutions } : {}),
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'offboard',
        ...props.environment,
      },
      bundling: BUNDLING,
    });
    const cfn = this.node.defaultChild as lambda.CfnFunction;
    cfn.addMetadata(ENTRY_METADATA, props.entry);
    // X-Ray active, its grant on `*` in the one policy of such grants (wildcard-grants.ts), not in the role's own
    cfn.tracingConfig = { mode: lambda.Tracing.ACTIVE };
    const tracing = functionTracingPolicy(this);
    tracing.attachToRole(this.role!);
    cfn.addResourceDependency(tracing.node.defaultChild as CfnResource); // the function, not its role (which the policy names)
  }

  /**
   * Grants the table actions the function's code makes, and no more (measured by the embedded stack's IAM enforcement:
   * test/least-privilege/), and tells the function the table's name, together. `index`: the actions it makes on the
   * table's indexes (Query on GSI1). A conditional update batch (BatchExecuteStatement of PartiQL UPDATEs) is
   * `PartiQLUpdate`, which no grantReadWriteData includes.
   */
  bindTable(table: dynamodb.ITable, actions: readonly TableAction[], index: readonly TableAction[] = []): this {
    if (actions.length)
      this.addToRolePolicy(new iam.PolicyStatement({ actions: actions.map((a) => `dynamodb:${a}`), resources: [table.tableArn] }));
    if (index.length)
      this.addToRolePolicy(
        new iam.PolicyStatement({ actions: index.map((a) => `dynamodb:${a}`), resources: [`${table.tableArn}/index/*`] }),
      );
    this.addEnvironment('TABLE_NAME', table.tableName);
    return this;
  }

  /**
   * Tells the function the bucket's name; `deleteFiles` grants what deleting file bytes takes (F2, F3, F4): s3:DeleteObject
   * under chats/ (DeleteObjects is authorized key by key), and nothing else. No function lists or reads the bucket.
   */
  bindBucket(bucket: s3.IBucket, access: { deleteFiles: boolean }): this {
    if (access.deleteFiles)
      this.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:DeleteObject'], resources: [bucket.arnForObjects('chats/*')] }));
    this.addEnvironment('BUCKET_NAME', bucket.bucketName);
    return this;
  }
}
