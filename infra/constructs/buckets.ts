import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';

/**
 * A bucket of server access logs (and CloudFront standard logs, written with ACLs: BUCKET_OWNER_PREFERRED): who
 * read or deleted which object, kept a year.
 */
export function accessLogBucket(scope: Construct, id: string, removalPolicy: RemovalPolicy): s3.Bucket {
  return new s3.Bucket(scope, id, {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
    removalPolicy,
    lifecycleRules: [{ expiration: Duration.days(365) }],
  });
}

/**
 * Private, encrypted, TLS only, its access logged under `logPrefix`, and not versioned: a deleted file's bytes must
 * really be gone (F4, D7).
 */
export const privateBucketProps = (accessLogs: s3.IBucket, logPrefix: string, removalPolicy: RemovalPolicy): s3.BucketProps => ({
  serverAccessLogsBucket: accessLogs,
  serverAccessLogsPrefix: logPrefix,
  encryption: s3.BucketEncryption.S3_MANAGED,
  blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  enforceSSL: true,
  versioned: false,
  objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
  removalPolicy,
  autoDeleteObjects: false,
});
