import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { accessLogBucket, privateBucketProps } from './buckets.js';

export interface DataProps {
  /** Keep the table and bucket when the stack is deleted (default true: people's data). */
  retain?: boolean;
}

/** The store: one DynamoDB table (single-table design, see functions/store/keys.ts) and the bucket of file bytes. */
export class Data extends Construct {
  readonly table: dynamodb.Table;
  readonly bucket: s3.Bucket;
  /** X4: archives of files exported before a deletion, downloadable for 7 days. */
  readonly exports: s3.Bucket;

  constructor(scope: Construct, id: string, props: DataProps = {}) {
    super(scope, id);
    const removalPolicy = props.retain === false ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    // AWS::DynamoDB::Table rather than GlobalTable: LocalStack and every emulator understand it.
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'PK', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'SK', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: props.retain !== false,
      removalPolicy,
      // billing event ids are kept for deduplication, then expire
      timeToLiveAttribute: 'expiresAt',
    });
    this.table.addGlobalSecondaryIndex({
      indexName: 'GSI1',
      partitionKey: { name: 'GSI1PK', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'GSI1SK', type: dynamodb.AttributeType.STRING },
    });
    // docs/EVENTS.md, the outbox sweeper: sparse, only operations and billing runs with outbox entries carry its keys
    // (functions/store/keys.ts); their own GSI1 keys are lists already. The sweeper reads the item itself (its claim).
    this.table.addGlobalSecondaryIndex({
      indexName: 'GSI2',
      partitionKey: { name: 'GSI2PK', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'GSI2SK', type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.INCLUDE,
      nonKeyAttributes: ['id'],
    });
    // functions/store/keys.ts, GSI3: a user's uploads (sparse: file items only), keys that never change and no owner,
    // so an F1 hand-over (ownerOrganizationId) changes no index entry
    this.table.addGlobalSecondaryIndex({
      indexName: 'GSI3',
      partitionKey: { name: 'GSI3PK', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'GSI3SK', type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.INCLUDE,
      nonKeyAttributes: ['id', 'chatId'],
    });
    // who read or deleted which file
    const accessLogs = accessLogBucket(this, 'AccessLogs', removalPolicy);
    const privateBucket = (logPrefix: string) => privateBucketProps(accessLogs, logPrefix, removalPolicy);
    // Incomplete multipart uploads hold bytes nobody can see; drop them after a day.
    this.bucket = new s3.Bucket(this, 'Files', {
      ...privateBucket('files/'),
      lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    });
    // X4: a bucket of its own, every archive deleted 7 days after it was written (F4 applies to it too); downloads
    // are in the access logs as well as the audit trail.
    this.exports = new s3.Bucket(this, 'Exports', {
      ...privateBucket('exports/'),
      lifecycleRules: [{ expiration: Duration.days(7), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    });
  }
}
