import { ACCOUNT, REGION } from '../template.js';

/**
 * What AWS authorizes for one SDK command: each IAM action on each resource, with the condition keys the request
 * sets. From AWS's Service Authorization Reference (docs.aws.amazon.com/service-authorization/latest/reference/):
 * "Actions defined by Amazon DynamoDB", "… Amazon S3", "… AWS Step Functions", "… Amazon EventBridge", "… Amazon SQS",
 * "… AWS Lambda". A command that authorizes per part (a PartiQL batch per statement, DeleteObjects per key) names the
 * part (`part`: its index in the request), so a denied part fails alone, as AWS answers it.
 */
export interface Authorization {
  action: string;
  resource: string;
  /** Condition keys the request sets (e.g. `s3:prefix` of a ListObjectsV2). */
  context?: Record<string, string>;
  /** The statement or key this authorization is for, where AWS authorizes part by part. */
  part?: number;
}

type Mapper = (input: any) => Authorization[];

const tableArn = (name: string) => (name.startsWith('arn:') ? name : `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`);
const tableOrIndex = (input: { TableName: string; IndexName?: string }) =>
  input.IndexName ? `${tableArn(input.TableName)}/index/${input.IndexName}` : tableArn(input.TableName);
const bucketArn = (bucket: string) => `arn:aws:s3:::${bucket}`;
const objectArn = (bucket: string, key: string) => `arn:aws:s3:::${bucket}/${key}`;
const queueArn = (queueUrl: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${queueUrl.replace(/\/+$/, '').split('/').pop()}`;
const functionArn = (nameOrArn: string) =>
  nameOrArn.startsWith('arn:') ? nameOrArn.replace(/:(\$LATEST|\d+)$/, '') : `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${nameOrArn}`;

const listContext = (i: { Prefix?: string }): Record<string, string> => (i.Prefix !== undefined ? { 's3:prefix': i.Prefix } : {});

const PARTIQL: Record<string, string> = {
  SELECT: 'dynamodb:PartiQLSelect',
  INSERT: 'dynamodb:PartiQLInsert',
  UPDATE: 'dynamodb:PartiQLUpdate',
  DELETE: 'dynamodb:PartiQLDelete',
};

/**
 * One PartiQL statement: its action by kind (SELECT, INSERT, UPDATE, DELETE) on the table it names (`FROM`, `INTO`,
 * `UPDATE`), or on the index for `SELECT … FROM "table"."index"`.
 */
export function partiqlAuthorization(statement: string): { action: string; resource: string } {
  const text = statement.trim();
  const kind = /^(\w+)/.exec(text)?.[1]?.toUpperCase() ?? '';
  const action = PARTIQL[kind];
  if (!action) throw new Error(`not a PartiQL statement this table knows: ${JSON.stringify(text.slice(0, 40))}`);
  const name = '(?:"((?:[^"]|"")+)"|([A-Za-z0-9_.-]+))';
  const where =
    kind === 'UPDATE'
      ? `^UPDATE\\s+${name}\\s+(?:SET|REMOVE)\\b`
      : kind === 'INSERT'
        ? `\\bINTO\\s+${name}`
        : `\\bFROM\\s+${name}(?:\\.${name})?`;
  const m = new RegExp(where, 'i').exec(text);
  if (!m) throw new Error(`no table in the PartiQL statement ${JSON.stringify(text.slice(0, 60))}`);
  const table = (m[1] ?? m[2])!.replace(/""/g, '"');
  const index = m[3] ?? m[4];
  return { action, resource: index ? `${tableArn(table)}/index/${index}` : tableArn(table) };
}

const statements = (list: { Statement: string }[] = []) => list.map((s, part) => ({ ...partiqlAuthorization(s.Statement), part }));

const TRANSACT_WRITE: Record<string, string> = {
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
};

/** `service:Command` (the SDK client's service id and the command's name without `Command`) → what AWS authorizes. */
export const ACTIONS: Record<string, Mapper> = {
  // DynamoDB
  'DynamoDB:GetItem': (i) => [{ action: 'dynamodb:GetItem', resource: tableArn(i.TableName) }],
  'DynamoDB:PutItem': (i) => [{ action: 'dynamodb:PutItem', resource: tableArn(i.TableName) }],
  'DynamoDB:UpdateItem': (i) => [{ action: 'dynamodb:UpdateItem', resource: tableArn(i.TableName) }],
  'DynamoDB:DeleteItem': (i) => [{ action: 'dynamodb:DeleteItem', resource: tableArn(i.TableName) }],
  'DynamoDB:Query': (i) => [{ action: 'dynamodb:Query', resource: tableOrIndex(i) }],
  'DynamoDB:Scan': (i) => [{ action: 'dynamodb:Scan', resource: tableOrIndex(i) }],
  // BatchGetItem and BatchWriteItem are actions of their own in the reference (a grant of PutItem alone does not allow
  // BatchWriteItem, nor does denying it deny BatchWriteItem), one authorization per table named
  'DynamoDB:BatchGetItem': (i) =>
    Object.keys(i.RequestItems ?? {}).map((t) => ({ action: 'dynamodb:BatchGetItem', resource: tableArn(t) })),
  'DynamoDB:BatchWriteItem': (i) =>
    Object.keys(i.RequestItems ?? {}).map((t) => ({ action: 'dynamodb:BatchWriteItem', resource: tableArn(t) })),
  // transactions have no action of their own: each item is authorized as the single-item action it is
  'DynamoDB:TransactWriteItems': (i) =>
    (i.TransactItems ?? []).map((item: Record<string, { TableName: string }>) => {
      const [kind, op] = Object.entries(item).find(([k]) => k in TRANSACT_WRITE)!;
      return { action: TRANSACT_WRITE[kind]!, resource: tableArn(op.TableName) };
    }),
  'DynamoDB:TransactGetItems': (i) =>
    (i.TransactItems ?? []).map((item: { Get: { TableName: string } }) => ({
      action: 'dynamodb:GetItem',
      resource: tableArn(item.Get.TableName),
    })),
  'DynamoDB:ExecuteStatement': (i) => [partiqlAuthorization(i.Statement)],
  // per statement: a denied statement answers `AccessDenied` in its response, the others run
  'DynamoDB:BatchExecuteStatement': (i) => statements(i.Statements),
  'DynamoDB:ExecuteTransaction': (i) => statements(i.TransactStatements).map(({ part: _, ...a }) => a),
  'DynamoDB:DescribeTable': (i) => [{ action: 'dynamodb:DescribeTable', resource: tableArn(i.TableName) }],
  // S3
  'S3:GetObject': (i) => [{ action: 's3:GetObject', resource: objectArn(i.Bucket, i.Key) }],
  'S3:HeadObject': (i) => [{ action: 's3:GetObject', resource: objectArn(i.Bucket, i.Key) }],
  'S3:PutObject': (i) => [{ action: 's3:PutObject', resource: objectArn(i.Bucket, i.Key) }],
  // a multipart upload (lib-storage's Upload) is authorized as s3:PutObject, step by step; its abort is s3:AbortMultipartUpload
  'S3:CreateMultipartUpload': (i) => [{ action: 's3:PutObject', resource: objectArn(i.Bucket, i.Key) }],
  'S3:UploadPart': (i) => [{ action: 's3:PutObject', resource: objectArn(i.Bucket, i.Key) }],
  'S3:CompleteMultipartUpload': (i) => [{ action: 's3:PutObject', resource: objectArn(i.Bucket, i.Key) }],
  'S3:AbortMultipartUpload': (i) => [{ action: 's3:AbortMultipartUpload', resource: objectArn(i.Bucket, i.Key) }],
  'S3:CopyObject': (i) => {
    const source = decodeURIComponent(String(i.CopySource).replace(/^\//, '').replace(/\?.*$/, ''));
    const slash = source.indexOf('/');
    return [
      { action: 's3:GetObject', resource: objectArn(source.slice(0, slash), source.slice(slash + 1)) },
      { action: 's3:PutObject', resource: objectArn(i.Bucket, i.Key) },
    ];
  },
  'S3:DeleteObject': (i) => [{ action: 's3:DeleteObject', resource: objectArn(i.Bucket, i.Key) }],
  // per key: a denied key is reported in `Errors` as `AccessDenied`, the others are deleted
  'S3:DeleteObjects': (i) =>
    (i.Delete?.Objects ?? []).map((o: { Key: string }, part: number) => ({
      action: 's3:DeleteObject',
      resource: objectArn(i.Bucket, o.Key),
      part,
    })),
  // the prefix asked for is the condition key s3:prefix (a grant may allow listing under one prefix only)
  'S3:ListObjectsV2': (i) => [{ action: 's3:ListBucket', resource: bucketArn(i.Bucket), context: listContext(i) }],
  'S3:ListObjects': (i) => [{ action: 's3:ListBucket', resource: bucketArn(i.Bucket), context: listContext(i) }],
  'S3:HeadBucket': (i) => [{ action: 's3:ListBucket', resource: bucketArn(i.Bucket) }],
  // Step Functions
  'SFN:StartExecution': (i) => [{ action: 'states:StartExecution', resource: i.stateMachineArn }],
  'SFN:StopExecution': (i) => [{ action: 'states:StopExecution', resource: i.executionArn }],
  'SFN:DescribeExecution': (i) => [{ action: 'states:DescribeExecution', resource: i.executionArn }],
  'SFN:ListExecutions': (i) => [{ action: 'states:ListExecutions', resource: i.stateMachineArn }],
  'SFN:GetExecutionHistory': (i) => [{ action: 'states:GetExecutionHistory', resource: i.executionArn }],
  // EventBridge: the bus named, or the account's default bus
  'EventBridge:PutEvents': (i) =>
    [...new Set((i.Entries ?? []).map((e: { EventBusName?: string }) => e.EventBusName ?? 'default'))].map((bus) => ({
      action: 'events:PutEvents',
      resource: String(bus).startsWith('arn:') ? String(bus) : `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${bus}`,
    })),
  // SQS: the queue its URL names
  'SQS:SendMessage': (i) => [{ action: 'sqs:SendMessage', resource: queueArn(i.QueueUrl) }],
  'SQS:SendMessageBatch': (i) => [{ action: 'sqs:SendMessage', resource: queueArn(i.QueueUrl) }],
  'SQS:ReceiveMessage': (i) => [{ action: 'sqs:ReceiveMessage', resource: queueArn(i.QueueUrl) }],
  'SQS:DeleteMessage': (i) => [{ action: 'sqs:DeleteMessage', resource: queueArn(i.QueueUrl) }],
  // Lambda
  'Lambda:Invoke': (i) => [{ action: 'lambda:InvokeFunction', resource: functionArn(i.FunctionName) }],
};

/**
 * What AWS authorizes for `command` of `service` with `input`. A command missing from the table is an error: the
 * embedded stack cannot tell whether AWS would allow it, so it is added here first.
 */
export function authorizationsFor(service: string, command: string, input: unknown): Authorization[] {
  const mapper = ACTIONS[`${service}:${command.replace(/Command$/, '')}`];
  if (!mapper) throw new Error(`local/iam/actions.ts has no row for ${service} ${command}: add what AWS authorizes for it`);
  return mapper(input ?? {});
}
