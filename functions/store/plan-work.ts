import { gunzipSync, gzipSync } from 'node:zlib';
import { nowMs } from '../shared/clock.js';
import { batchWrite, put, queryAll } from './batch.js';
import { keys } from './keys.js';
import { decodePage, paginate, type PlanEntry } from './plans.js';
import { getItem, tableName } from './table.js';

/**
 * CONTRACT.md `planning`: what the planning workflow's steps hand each other while a large plan is computed as a Map
 * over slices of the user's chats (services/sliced-planning.ts): the request and the slices of the user's index that
 * Plan read, each child's entries and findings. Stored under the plan's own partition beside its pages (keys.planWork),
 * gzip-compressed, split in parts under DynamoDB's 400 KB; expired by TTL a day later (nothing reads them once the
 * plan's header is written, which is read by its own key). Steps are retried: each write says how many parts it
 * wrote, and a read takes exactly those, so a retry that wrote fewer is never read with what an earlier attempt left.
 */

const WORK_TTL_SECONDS = 24 * 3600;
/** Bytes of compressed data per item: under DynamoDB's 400 KB with the keys beside it. */
const PART_BYTES = 350_000;

const ttl = () => Math.floor(nowMs() / 1000) + WORK_TTL_SECONDS;

/** Stores `value` (JSON) as `name` of the plan's work: its parts, the first saying how many. */
export async function writeWork(planId: string, name: string, value: unknown): Promise<void> {
  const data = gzipSync(JSON.stringify(value));
  const parts = Math.max(1, Math.ceil(data.length / PART_BYTES));
  const expiresAt = ttl();
  const items = Array.from({ length: parts }, (_, n) => ({
    ...keys.planWork(planId, name, n),
    type: 'plan-work',
    data: data.subarray(n * PART_BYTES, (n + 1) * PART_BYTES),
    ...(n === 0 ? { parts } : {}),
    expiresAt,
  }));
  await batchWrite(tableName(), items.map(put));
}

/** `name` of the plan's work, as written last; an error if it is missing (its writer never ran). */
export async function readWork<T>(planId: string, name: string): Promise<T> {
  const first = keys.planWork(planId, name, 0);
  const items = await queryAll({
    TableName: tableName(),
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :name)',
    ExpressionAttributeValues: { ':pk': first.PK, ':name': first.SK.slice(0, first.SK.lastIndexOf('#') + 1) },
    ConsistentRead: true,
  });
  const parts = items[0]?.SK === first.SK ? Number(items[0].parts) : 0;
  if (!parts || items.length < parts) throw new Error(`plan ${planId}: its work ${name} is missing (${items.length} of ${parts} parts)`);
  const data = Buffer.concat(items.slice(0, parts).map((i) => Buffer.from(i.data as Uint8Array)));
  return JSON.parse(gunzipSync(data).toString('utf8')) as T;
}

/** The same for several names of one plan's work, in the order asked. */
export const readWorks = <T>(planId: string, names: readonly string[]): Promise<T[]> =>
  Promise.all(names.map((name) => readWork<T>(planId, name)));

/** A Map child's entries (in impact order, unique) as pages of run `name`; how many pages it wrote. */
export async function writeRun(planId: string, name: string, entries: readonly PlanEntry[]): Promise<number> {
  const pages = paginate(entries);
  const expiresAt = ttl();
  await batchWrite(
    tableName(),
    pages.map((page, n) => put({ ...keys.planWork(planId, name, n), type: 'plan-work', data: gzipSync(JSON.stringify(page)), expiresAt })),
  );
  return pages.length;
}

/** Run `name`'s `pages` pages, one page held at a time, entry by entry (the merge's input). */
export async function* readRun(planId: string, name: string, pages: number): AsyncGenerator<PlanEntry> {
  for (let n = 0; n < pages; n++) {
    const item = await getItem(keys.planWork(planId, name, n));
    if (!item) throw new Error(`plan ${planId}: page ${n} of its run ${name} is missing`);
    yield* decodePage(item);
  }
}
