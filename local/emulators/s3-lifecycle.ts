import { DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { LocalNames } from '../template.js';
import { resourcesOfType } from '../template.js';

/**
 * The S3 emulator keeps objects forever; AWS deletes them by the bucket's lifecycle rules. When the embedded stack's
 * clock moves (PUT /_local/clock), every bucket of the template with an expiration rule drops the objects older than
 * its days at the new time, as S3 would have by then (X4: an export archive is gone after 7 days). The rule's
 * prefix, if any, is honoured; S3's rounding to the next midnight is not (it only ever deletes later).
 */
export async function applyLifecycleExpiry(names: LocalNames, s3Endpoint: string, nowMs: number): Promise<number> {
  const s3 = new S3Client({
    endpoint: s3Endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    forcePathStyle: true,
  });
  let deleted = 0;
  try {
    for (const [id, r] of resourcesOfType(names.template, 'AWS::S3::Bucket')) {
      for (const rule of r.Properties?.LifecycleConfiguration?.Rules ?? []) {
        if (rule.Status !== 'Enabled' || !rule.ExpirationInDays) continue;
        const cutoff = nowMs - rule.ExpirationInDays * 24 * 3600 * 1000;
        const Bucket = names.physicalName(id);
        let token: string | undefined;
        do {
          const page = await s3.send(
            new ListObjectsV2Command({ Bucket, Prefix: rule.Prefix ?? rule.Filter?.Prefix, ContinuationToken: token }),
          );
          const old = (page.Contents ?? [])
            .filter((o) => o.LastModified && o.LastModified.getTime() <= cutoff)
            .map((o) => ({ Key: o.Key! }));
          if (old.length) await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: old } }));
          deleted += old.length;
          token = page.NextContinuationToken;
        } while (token);
      }
    }
  } finally {
    s3.destroy();
  }
  return deleted;
}
