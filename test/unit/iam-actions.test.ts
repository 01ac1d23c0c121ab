import { describe, expect, it } from 'vitest';
import { ACTIONS, authorizationsFor, partiqlAuthorization } from '../../local/iam/actions.js';

// What AWS authorizes for each SDK command (Service Authorization Reference), one test per row of local/iam/actions.ts.
const T = 'arn:aws:dynamodb:us-east-1:000000000000:table/tbl';
const B = 'arn:aws:s3:::bkt';
const SM = 'arn:aws:states:us-east-1:000000000000:stateMachine:m';
const EX = 'arn:aws:states:us-east-1:000000000000:execution:m:e1';

const rows: [string, unknown, { action: string; resource: string; context?: Record<string, string>; part?: number }[]][] = [
  ['DynamoDB:GetItem', { TableName: 'tbl', Key: {} }, [{ action: 'dynamodb:GetItem', resource: T }]],
  ['DynamoDB:PutItem', { TableName: 'tbl', Item: {} }, [{ action: 'dynamodb:PutItem', resource: T }]],
  ['DynamoDB:UpdateItem', { TableName: 'tbl', Key: {} }, [{ action: 'dynamodb:UpdateItem', resource: T }]],
  ['DynamoDB:DeleteItem', { TableName: 'tbl', Key: {} }, [{ action: 'dynamodb:DeleteItem', resource: T }]],
  ['DynamoDB:Query', { TableName: 'tbl', IndexName: 'GSI1' }, [{ action: 'dynamodb:Query', resource: `${T}/index/GSI1` }]],
  ['DynamoDB:Scan', { TableName: 'tbl' }, [{ action: 'dynamodb:Scan', resource: T }]],
  [
    'DynamoDB:BatchGetItem',
    { RequestItems: { tbl: { Keys: [] }, other: { Keys: [] } } },
    [
      { action: 'dynamodb:BatchGetItem', resource: T },
      { action: 'dynamodb:BatchGetItem', resource: 'arn:aws:dynamodb:us-east-1:000000000000:table/other' },
    ],
  ],
  [
    'DynamoDB:BatchWriteItem',
    { RequestItems: { tbl: [{ PutRequest: {} }, { DeleteRequest: {} }] } },
    [{ action: 'dynamodb:BatchWriteItem', resource: T }],
  ],
  [
    'DynamoDB:TransactWriteItems',
    {
      TransactItems: [
        { Put: { TableName: 'tbl' } },
        { Update: { TableName: 'tbl' } },
        { Delete: { TableName: 'tbl' } },
        { ConditionCheck: { TableName: 'tbl' } },
      ],
    },
    [
      { action: 'dynamodb:PutItem', resource: T },
      { action: 'dynamodb:UpdateItem', resource: T },
      { action: 'dynamodb:DeleteItem', resource: T },
      { action: 'dynamodb:ConditionCheckItem', resource: T },
    ],
  ],
  ['DynamoDB:TransactGetItems', { TransactItems: [{ Get: { TableName: 'tbl' } }] }, [{ action: 'dynamodb:GetItem', resource: T }]],
  [
    'DynamoDB:ExecuteStatement',
    { Statement: 'SELECT * FROM "tbl"."GSI1" WHERE "GSI1PK" = ?' },
    [{ action: 'dynamodb:PartiQLSelect', resource: `${T}/index/GSI1` }],
  ],
  [
    'DynamoDB:BatchExecuteStatement',
    {
      Statements: [
        { Statement: 'UPDATE "tbl" SET "a" = ? WHERE "PK" = ? AND "SK" = ?' },
        { Statement: 'INSERT INTO "tbl" VALUE {\'PK\': ?}' },
        { Statement: 'DELETE FROM "tbl" WHERE "PK" = ?' },
        { Statement: 'select * from tbl where PK = ?' },
      ],
    },
    [
      { action: 'dynamodb:PartiQLUpdate', resource: T, part: 0 },
      { action: 'dynamodb:PartiQLInsert', resource: T, part: 1 },
      { action: 'dynamodb:PartiQLDelete', resource: T, part: 2 },
      { action: 'dynamodb:PartiQLSelect', resource: T, part: 3 },
    ],
  ],
  [
    'DynamoDB:ExecuteTransaction',
    { TransactStatements: [{ Statement: 'UPDATE "tbl" SET "a" = ? WHERE "PK" = ?' }] },
    [{ action: 'dynamodb:PartiQLUpdate', resource: T }],
  ],
  ['DynamoDB:DescribeTable', { TableName: 'tbl' }, [{ action: 'dynamodb:DescribeTable', resource: T }]],
  ['S3:GetObject', { Bucket: 'bkt', Key: 'chats/c/files/f' }, [{ action: 's3:GetObject', resource: `${B}/chats/c/files/f` }]],
  ['S3:HeadObject', { Bucket: 'bkt', Key: 'k' }, [{ action: 's3:GetObject', resource: `${B}/k` }]],
  ['S3:PutObject', { Bucket: 'bkt', Key: 'k' }, [{ action: 's3:PutObject', resource: `${B}/k` }]],
  // X4: a multipart upload is authorized as s3:PutObject at each step; only its abort has an action of its own
  ['S3:CreateMultipartUpload', { Bucket: 'bkt', Key: 'k' }, [{ action: 's3:PutObject', resource: `${B}/k` }]],
  ['S3:UploadPart', { Bucket: 'bkt', Key: 'k', UploadId: 'u', PartNumber: 1 }, [{ action: 's3:PutObject', resource: `${B}/k` }]],
  ['S3:CompleteMultipartUpload', { Bucket: 'bkt', Key: 'k', UploadId: 'u' }, [{ action: 's3:PutObject', resource: `${B}/k` }]],
  ['S3:AbortMultipartUpload', { Bucket: 'bkt', Key: 'k', UploadId: 'u' }, [{ action: 's3:AbortMultipartUpload', resource: `${B}/k` }]],
  [
    'S3:CopyObject',
    { Bucket: 'bkt', Key: 'to', CopySource: 'src/from%20here' },
    [
      { action: 's3:GetObject', resource: 'arn:aws:s3:::src/from here' },
      { action: 's3:PutObject', resource: `${B}/to` },
    ],
  ],
  ['S3:DeleteObject', { Bucket: 'bkt', Key: 'k' }, [{ action: 's3:DeleteObject', resource: `${B}/k` }]],
  [
    'S3:DeleteObjects',
    { Bucket: 'bkt', Delete: { Objects: [{ Key: 'a' }, { Key: 'b' }] } },
    [
      { action: 's3:DeleteObject', resource: `${B}/a`, part: 0 },
      { action: 's3:DeleteObject', resource: `${B}/b`, part: 1 },
    ],
  ],
  [
    'S3:ListObjectsV2',
    { Bucket: 'bkt', Prefix: 'chats/c/' },
    [{ action: 's3:ListBucket', resource: B, context: { 's3:prefix': 'chats/c/' } }],
  ],
  ['S3:ListObjects', { Bucket: 'bkt' }, [{ action: 's3:ListBucket', resource: B, context: {} }]],
  ['S3:HeadBucket', { Bucket: 'bkt' }, [{ action: 's3:ListBucket', resource: B }]],
  ['SFN:StartExecution', { stateMachineArn: SM, name: 'e1' }, [{ action: 'states:StartExecution', resource: SM }]],
  ['SFN:StopExecution', { executionArn: EX }, [{ action: 'states:StopExecution', resource: EX }]],
  ['SFN:DescribeExecution', { executionArn: EX }, [{ action: 'states:DescribeExecution', resource: EX }]],
  ['SFN:ListExecutions', { stateMachineArn: SM }, [{ action: 'states:ListExecutions', resource: SM }]],
  ['SFN:GetExecutionHistory', { executionArn: EX }, [{ action: 'states:GetExecutionHistory', resource: EX }]],
  [
    'EventBridge:PutEvents',
    { Entries: [{ EventBusName: 'billing' }, { EventBusName: 'billing' }, {}] },
    [
      { action: 'events:PutEvents', resource: 'arn:aws:events:us-east-1:000000000000:event-bus/billing' },
      { action: 'events:PutEvents', resource: 'arn:aws:events:us-east-1:000000000000:event-bus/default' },
    ],
  ],
  [
    'SQS:SendMessage',
    { QueueUrl: 'http://127.0.0.1:4566/000000000000/dlq' },
    [{ action: 'sqs:SendMessage', resource: 'arn:aws:sqs:us-east-1:000000000000:dlq' }],
  ],
  [
    'SQS:SendMessageBatch',
    { QueueUrl: 'https://sqs.us-east-1.amazonaws.com/000000000000/dlq' },
    [{ action: 'sqs:SendMessage', resource: 'arn:aws:sqs:us-east-1:000000000000:dlq' }],
  ],
  [
    'SQS:ReceiveMessage',
    { QueueUrl: 'http://h/000000000000/dlq' },
    [{ action: 'sqs:ReceiveMessage', resource: 'arn:aws:sqs:us-east-1:000000000000:dlq' }],
  ],
  [
    'SQS:DeleteMessage',
    { QueueUrl: 'http://h/000000000000/dlq' },
    [{ action: 'sqs:DeleteMessage', resource: 'arn:aws:sqs:us-east-1:000000000000:dlq' }],
  ],
  [
    'Lambda:Invoke',
    { FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:fn:$LATEST' },
    [{ action: 'lambda:InvokeFunction', resource: 'arn:aws:lambda:us-east-1:000000000000:function:fn' }],
  ],
];

describe('IAM actions AWS authorizes per SDK command (local/iam/actions.ts)', () => {
  it('every row of the table has its test here, and every test names a row', () => {
    expect(rows.map(([k]) => k).sort()).toEqual(Object.keys(ACTIONS).sort());
  });

  for (const [key, input, expected] of rows) {
    it(`${key} → ${[...new Set(expected.map((e) => e.action))].join(', ')}`, () => {
      const [service, command] = key.split(':') as [string, string];
      expect(authorizationsFor(service, `${command}Command`, input)).toEqual(expected);
    });
  }

  it('a command with no row is refused by name, not allowed silently', () => {
    expect(() => authorizationsFor('DynamoDB', 'RestoreTableFromBackupCommand', {})).toThrow(
      /no row for DynamoDB RestoreTableFromBackupCommand/,
    );
  });

  it('a PartiQL statement of an unknown kind, or without a table, is refused by name', () => {
    expect(() => partiqlAuthorization('EXISTS(SELECT * FROM "t")')).toThrow(/not a PartiQL statement/);
    expect(() => partiqlAuthorization('UPDATE SET a = 1')).toThrow(/no table in the PartiQL statement/);
  });

  it('the statements the store sends (functions/store/apply.ts) are PartiQLUpdate on the table', () => {
    expect(
      partiqlAuthorization('UPDATE "offboard-DataTable" SET "status" = ? WHERE "PK" = ? AND "SK" = ? AND attribute_exists("PK")'),
    ).toEqual({
      action: 'dynamodb:PartiQLUpdate',
      resource: 'arn:aws:dynamodb:us-east-1:000000000000:table/offboard-DataTable',
    });
  });
});
