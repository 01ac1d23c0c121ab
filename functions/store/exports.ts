import { createHash } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, NotFound as S3NotFound, NoSuchKey } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import archiver from 'archiver';
import yauzl from 'yauzl';
import { archivePaths, isOrganizationsFile } from '../domain/export.js';
import { displayName } from '../domain/display-names.js';
import { requireEnv } from '../shared/config.js';
import { queryAll } from './batch.js';
import { ddb, s3 } from './clients.js';
import { conditionFailed } from './conditions.js';
import { exportObjectKey, fileObjectKey, keys } from './keys.js';
import type { PlanEntry } from './plans.js';
import { toFile, toUser } from './records.js';
import { batchGet, bucketName, tableName } from './table.js';

/**
 * X4: the export's storage. Archive parts are zips streamed by `archiver` (zip-stream underneath) straight into a
 * multipart upload (`@aws-sdk/lib-storage`), each file's bytes streamed from the files bucket once; each part is
 * then read back through `yauzl` over ranged GETs and checked entry by entry against its manifest (size, SHA-256).
 * Download links are signed by `@aws-sdk/s3-request-presigner`. The export bucket expires objects after 7 days.
 */
export const exportBucketName = (): string => requireEnv('EXPORT_BUCKET_NAME');

export interface ManifestEntry {
  fileId: string;
  name: string;
  /** Where it is in the archive. */
  path: string;
  chatId: string;
  chatName: string;
  uploaderId: string;
  uploaderName: string;
  size: number;
  sha256: string;
}

export interface ExportState {
  operationId: string;
  organizationId: string;
  status: 'preparing' | 'ready' | 'expired';
  files: number;
  bytes: number;
  parts: number;
  createdAt: string;
  expiresAt?: string;
  /** The organization's files the plan deletes and their bytes, counted at the export's first invocation (progress). */
  toExport?: { files: number; bytes: number };
}

/** One file to export, with what its manifest entry says. */
export type ExportFile = Omit<ManifestEntry, 'path' | 'sha256'> & { chatLabel: string };

/**
 * The organization's files among these plan entries (file-deleted effects), with their names, chats and
 * uploaders: 3 BatchGetItem rounds for the page, whatever its size.
 */
export async function organizationsFiles(entries: readonly PlanEntry[], organizationId: string): Promise<ExportFile[]> {
  const located = entries.filter((e) => e.effect.kind === 'file-deleted' && e.chatId);
  const records = (await batchGet(located.map((e) => keys.file(e.chatId!, (e.effect as { fileId: string }).fileId)))).map(toFile);
  const [chats, uploaders] = await Promise.all([
    batchGet([...new Set(records.map((f) => f.chatId))].map((c) => keys.chat(c))),
    batchGet([...new Set(records.map((f) => f.uploaderId))].map((u) => keys.user(u))),
  ]);
  const chatName = new Map(chats.map((c) => [c.id as string, (c.name as string | undefined) ?? '']));
  const users = new Map(uploaders.map((u) => [u.id as string, toUser(u)]));
  const byId = new Map(records.map((f) => [f.id, f]));
  // in plan order (a record gone since planning is not exported: its bytes went with it)
  return located
    .map((e) => byId.get((e.effect as { fileId: string }).fileId))
    .filter((f): f is NonNullable<typeof f> => f !== undefined && isOrganizationsFile(f, users.get(f.uploaderId), organizationId))
    .map((f) => {
      const uploader = users.get(f.uploaderId);
      return {
        fileId: f.id,
        name: f.name,
        chatId: f.chatId,
        chatName: chatName.get(f.chatId) ?? '',
        chatLabel: chatName.get(f.chatId) || f.chatId,
        uploaderId: f.uploaderId,
        uploaderName: uploader ? displayName(uploader) : f.uploaderId,
        size: f.size,
      };
    });
}

const ZIP32_LIMIT = 0xffffffff;

/**
 * Writes archive part `part`: every file streamed from the files bucket into the zip (stored, not compressed: chat
 * files are mostly compressed already, and the CPU is the Lambda's), hashed on the way, then `manifest.json`. Zip64
 * where a file or the part reaches 4 GiB. A file whose bytes are gone (F4) is listed with `sha256: null`, not faked.
 */
export async function writeArchivePart(
  operationId: string,
  part: number,
  files: readonly ExportFile[],
  header: Record<string, unknown>,
): Promise<ManifestEntry[]> {
  const key = exportObjectKey(operationId, part);
  const total = files.reduce((n, f) => n + f.size, 0);
  const zip = archiver('zip', { store: true, forceZip64: total >= ZIP32_LIMIT || files.some((f) => f.size >= ZIP32_LIMIT) });
  // archiver's streams are readable-stream's, not node's: lib-storage wants a node Readable
  const body = zip.pipe(new PassThrough());
  const upload = new Upload({
    client: s3,
    params: { Bucket: exportBucketName(), Key: key, Body: body, ContentType: 'application/zip' },
    queueSize: 4,
    partSize: 8 * 1024 * 1024,
  });
  const uploaded = upload.done();
  const failed = new Promise<never>((_, reject) => zip.on('error', reject));
  uploaded.catch(() => undefined);
  failed.catch(() => undefined);
  const paths = archivePaths(files);
  const manifest: ManifestEntry[] = [];
  for (const [i, f] of files.entries()) {
    const source = await readFile(f.chatId, f.fileId);
    const { chatLabel, ...entry } = f;
    if (!source) {
      manifest.push({ ...entry, path: '', sha256: null as unknown as string });
      continue;
    }
    const hash = createHash('sha256');
    const through = new PassThrough();
    source.on('data', (chunk: Buffer) => hash.update(chunk));
    source.on('error', (e) => through.destroy(e));
    source.pipe(through);
    const added = new Promise((resolve) => zip.once('entry', resolve));
    zip.append(through, { name: paths[i]!, date: new Date(0) });
    await Promise.race([added, failed, uploaded.then(() => Promise.reject(new Error('the upload ended before the archive did')))]);
    manifest.push({ ...entry, path: paths[i]!, sha256: hash.digest('hex') });
  }
  zip.append(JSON.stringify({ ...header, part, files: manifest }, null, 2), { name: 'manifest.json', date: new Date(0) });
  await Promise.race([zip.finalize(), failed]);
  await Promise.race([uploaded, failed]);
  return manifest;
}

async function readFile(chatId: string, fileId: string): Promise<Readable | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucketName(), Key: fileObjectKey(chatId, fileId) }));
    return out.Body as Readable;
  } catch (error) {
    if (error instanceof NoSuchKey || (error as Error).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

/** What a verification reads at once: yauzl's many small reads (headers, small entries) come from one GET. */
const READ_BLOCK = 8 * 1024 * 1024;

/**
 * A zip in the export bucket, read by yauzl through ranged GETs: reads of up to READ_BLOCK bytes are served from one
 * block of the archive read at once (the last one kept), so a part of small files is read back in a few GETs, not
 * two per entry; a larger entry is streamed by its own GET. Memory: one block and the entry in flight.
 */
class S3RangeReader extends yauzl.RandomAccessReader {
  private block?: { start: number; data: Buffer };
  constructor(
    private readonly key: string,
    private readonly size: number,
  ) {
    super();
  }
  override _readStreamForRange(start: number, end: number): Readable {
    const out = new PassThrough();
    const cached = this.block;
    if (cached && start >= cached.start && end <= cached.start + cached.data.length)
      return out.end(cached.data.subarray(start - cached.start, end - cached.start));
    const large = end - start > READ_BLOCK;
    const blockEnd = large ? end : Math.min(this.size, start + READ_BLOCK);
    s3.send(new GetObjectCommand({ Bucket: exportBucketName(), Key: this.key, Range: `bytes=${start}-${blockEnd - 1}` }))
      .then(async (r) => {
        const body = r.Body as Readable;
        if (!large) {
          const data = Buffer.from(await (r.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
          this.block = { start, data };
          return void out.end(data.subarray(0, end - start));
        }
        body.on('error', (e) => out.destroy(e)).pipe(out);
      })
      .catch((e) => out.destroy(e));
    return out;
  }
}

/**
 * X4: the stored part read back and checked against its manifest: the same set of entries, each with the manifest's
 * size and SHA-256, and the manifest inside equal to it. Answers what is wrong, or undefined when it holds.
 */
export async function verifyArchivePart(
  operationId: string,
  part: number,
  manifest: readonly ManifestEntry[],
): Promise<string | undefined> {
  const key = exportObjectKey(operationId, part);
  const head = await s3.send(new HeadObjectCommand({ Bucket: exportBucketName(), Key: key }));
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.fromRandomAccessReader(
      new S3RangeReader(key, Number(head.ContentLength ?? 0)),
      Number(head.ContentLength ?? 0),
      { lazyEntries: true, autoClose: false },
      (e, z) => (e ? reject(e) : resolve(z!)),
    ),
  );
  const expected = new Map(manifest.filter((m) => m.sha256).map((m) => [m.path, m]));
  const seen = new Set<string>();
  let problem: string | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('error', reject);
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e);
          const hash = createHash('sha256');
          const chunks: Buffer[] = [];
          let size = 0;
          stream.on('data', (c: Buffer) => {
            hash.update(c);
            size += c.length;
            if (entry.fileName === 'manifest.json') chunks.push(c);
          });
          stream.on('error', reject);
          stream.on('end', () => {
            seen.add(entry.fileName);
            if (entry.fileName === 'manifest.json') {
              const inside = JSON.parse(Buffer.concat(chunks).toString('utf8')).files;
              if (JSON.stringify(inside) !== JSON.stringify(manifest)) problem ??= 'manifest.json differs from the manifest written';
            } else {
              const m = expected.get(entry.fileName);
              if (!m) problem ??= `${entry.fileName} is not in the manifest`;
              else if (m.size !== size || m.sha256 !== hash.digest('hex'))
                problem ??= `${entry.fileName} (${m.fileId}) does not match its size and SHA-256`;
            }
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
  for (const path of expected.keys()) if (!seen.has(path)) problem ??= `${path} is missing from the archive`;
  if (!seen.has('manifest.json')) problem ??= 'manifest.json is missing from the archive';
  return problem;
}

/** The export's state (undefined: not started). */
export async function readExport(operationId: string): Promise<ExportState | undefined> {
  const out = await ddb.send(new GetCommand({ TableName: tableName(), Key: keys.exportArchive(operationId), ConsistentRead: true }));
  if (!out.Item) return undefined;
  const { PK, SK, type, ...state } = out.Item;
  return state as ExportState;
}

/** Starts the export's record once (a retried first step finds it). */
export async function startExport(state: ExportState): Promise<void> {
  try {
    await ddb.send(
      new PutCommand({
        TableName: tableName(),
        Item: { ...keys.exportArchive(state.operationId), type: 'export', ...state },
        ConditionExpression: 'attribute_not_exists(PK)',
      }),
    );
  } catch (error) {
    if (!conditionFailed(error)) throw error;
  }
}

/** What the export is to hold, recorded once (a retried first invocation counts the same plan again). */
export async function setToExport(operationId: string, toExport: { files: number; bytes: number }): Promise<void> {
  await ddb.send(
    new UpdateCommand({
      TableName: tableName(),
      Key: keys.exportArchive(operationId),
      UpdateExpression: 'SET toExport = if_not_exists(toExport, :t)',
      ExpressionAttributeValues: { ':t': toExport },
    }),
  );
}

/** A part written and verified: recorded, with its counts (rewriting the same part is harmless). */
export async function recordPart(operationId: string, part: number, files: number, bytes: number): Promise<void> {
  await ddb.send(
    new PutCommand({
      TableName: tableName(),
      Item: { ...keys.exportPart(operationId, part), type: 'export-part', part, key: exportObjectKey(operationId, part), files, bytes },
    }),
  );
}

export async function readParts(operationId: string): Promise<{ part: number; key: string; files: number; bytes: number }[]> {
  const pk = keys.exportArchive(operationId).PK;
  const items = await queryAll({
    TableName: tableName(),
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :p)',
    ExpressionAttributeValues: { ':pk': pk, ':p': 'EXPORT#PART#' },
  });
  return items.map((i) => ({ part: Number(i.part), key: String(i.key), files: Number(i.files), bytes: Number(i.bytes) }));
}

/** The export's status moves (preparing → ready → expired), with its totals; answers false when it had moved already. */
export async function setExportStatus(
  operationId: string,
  from: ExportState['status'],
  to: ExportState['status'],
  set: Partial<ExportState> = {},
): Promise<boolean> {
  const fields = Object.entries(set);
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: keys.exportArchive(operationId),
        UpdateExpression: `SET #status = :to${fields.map((_, i) => `, #f${i} = :v${i}`).join('')}`,
        ConditionExpression: '#status = :from',
        ExpressionAttributeNames: { '#status': 'status', ...Object.fromEntries(fields.map(([k], i) => [`#f${i}`, k])) },
        ExpressionAttributeValues: { ':to': to, ':from': from, ...Object.fromEntries(fields.map(([, v], i) => [`:v${i}`, v])) },
      }),
    );
    return true;
  } catch (error) {
    if (conditionFailed(error)) return false;
    throw error;
  }
}

/** Whether the part is still in the export bucket (its lifecycle rule deletes it after 7 days). */
export async function partStored(key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: exportBucketName(), Key: key }));
    return true;
  } catch (error) {
    if (
      error instanceof S3NotFound ||
      (error as Error).name === 'NotFound' ||
      (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404
    )
      return false;
    throw error;
  }
}

/** A download link of a part, valid for `seconds`, saved under a readable name. */
export function downloadUrl(key: string, fileName: string, seconds: number): Promise<string> {
  return getSignedUrl(
    s3,
    new GetObjectCommand({
      Bucket: exportBucketName(),
      Key: key,
      ResponseContentDisposition: `attachment; filename="${fileName.replace(/[^\w.-]/g, '_')}"`,
    }),
    { expiresIn: seconds },
  );
}
