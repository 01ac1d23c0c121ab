import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The template metadata key naming a function's handler module, so the embedded stack can run the real module. */
export const ENTRY_METADATA = 'offboard:entry';

/** The DynamoDB actions a function may be granted on the table (bindTable). */
export type TableAction = 'GetItem' | 'BatchGetItem' | 'Query' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'BatchWriteItem' | 'ConditionCheckItem' | 'PartiQLUpdate';

export interface OffboardFunctionProps {
  /** Handler module, relative to the repository root, e.g. `functions/handlers/steps/finalize.ts`. */
  entry: string;
  description: string;
  timeout?: Duration;
  memorySize?: number;
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
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(60),
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'offboard',
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.CJS,
        target: 'node22',
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // The SDK v3 ships in the Node.js 22 runtime: leaving it out keeps bundles small and cold starts short.
        externalModules: ['@aws-sdk/*'],
      },
    });
    (this.node.defaultChild as lambda.CfnFunction).addMetadata(ENTRY_METADATA, props.entry);
  }

  /**
   * Grants the table actions the function's code makes, and no more (measured by the embedded stack's IAM enforcement:
   * test/least-privilege/), and tells the function the table's name, together. `index`: the actions it makes on the
   * table's indexes (Query on GSI1). A conditional update batch (BatchExecuteStatement of PartiQL UPDATEs) is
   * `PartiQLUpdate`, which no grantReadWriteData includes.
   */
  bindTable(table: dynamodb.ITable, actions: readonly TableAction[], index: readonly TableAction[] = []): this {
    if (actions.length) this.addToRolePolicy(new iam.PolicyStatement({ actions: actions.map((a) => `dynamodb:${a}`), resources: [table.tableArn] }));
    if (index.length) this.addToRolePolicy(new iam.PolicyStatement({ actions: index.map((a) => `dynamodb:${a}`), resources: [`${table.tableArn}/index/*`] }));
    this.addEnvironment('TABLE_NAME', table.tableName);
    return this;
  }

  /**
   * Tells the function the bucket's name; `deleteFiles` grants what deleting file bytes takes (F2, F3, F4): s3:DeleteObject
   * under chats/ (DeleteObjects is authorized key by key), and nothing else. No function lists or reads the bucket.
   */
  bindBucket(bucket: s3.IBucket, access: { deleteFiles: boolean }): this {
    if (access.deleteFiles) this.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:DeleteObject'], resources: [bucket.arnForObjects('chats/*')] }));
    this.addEnvironment('BUCKET_NAME', bucket.bucketName);
    return this;
  }
}
