import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { AsyncLocalStorage } from 'node:async_hooks';
import { ddb } from './clients.js';
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { nowMs } from '../shared/clock.js';
import { canonicalEffect, type Effect, type EffectInChat, type EffectKind, type Operation } from '../domain/impact.js';
import { BATCH_WRITE_LIMIT, batchWrite, del, put } from './batch.js';
import { keys } from './keys.js';
import { batchGet, getItem, tableName } from './table.js';

/**
 * A plan (X1) is stored once per decision point as a header and pages of at most 1,000 effects, each page one
 * gzip-compressed item. Writing a plan of 100,000 effects takes about 100 items (4 BatchWriteItem requests), not
 * 100,000 puts; a step reads only the pages that hold its kinds; the API serves page n as the impact's page n.
 * Pages are sorted as the impact is (kind, then ids), so a page read alone is already in impact order.
 */
export const PLAN_PAGE_SIZE = 1000;
/** A page is closed early past this many bytes of JSON, so even 256-character ids keep an item under DynamoDB's 400 KB. */
const PAGE_BYTES = 300_000;

/** One planned effect and, for a file or task, the chat it lives in (effects name only ids; the store needs the key). */
export type PlanEntry = EffectInChat;

export interface SummaryRow {
  kind: EffectKind;
  rule: string;
  count: number;
}

export interface PlanHeader {
  id: string;
  operation: Operation;
  userId: string;
  effectCount: number;
  /** Counts by kind and rule, sorted by kind then rule (CONTRACT.md Impact). */
  summary: SummaryRow[];
  /** SHA-256 of the effects in impact order: two plans are the same plan exactly when these are equal (X1). */
  fingerprint: string;
  /**
   * The organizations of every user the plan read (the subject, its contacts and co-members, the destination): a run
   * in none of their journals since `readAt` means nothing it read has changed, and the plan still holds
   * (store/operations.ts `otherRunsOverlapped`).
   */
  organizations?: string[];
  /** When the plan's reads began: a run that overlapped from then on may have changed what it read (lifecycle.finalize). */
  readAt?: string;
  /** Per page, how many effects of each kind it holds: a step reads only the pages it needs. */
  pages: Partial<Record<EffectKind, number>>[];
  createdAt: string;
  /** Saved previews only: when the preview is forgotten (ISO time; the item expires by TTL a little later). */
  expiresAt?: string;
  /** Saved previews only: what was previewed, and by whom. */
  destinationOrganizationId?: string;
  requestedBy?: string;
  /** Saved previews only: the user's organization when previewed (its administrators may read the preview). */
  organizationId?: string;
  /** Saved previews only: X3, the successor previewed with. */
  successorId?: string;
  /**
   * Saved previews only (CONTRACT.md `planning`): being computed in the background (no pages yet), or that
   * computation refused (its error, as the API answers it). Absent: the plan is complete.
   */
  status?: 'planning' | 'failed';
  error?: { code: string; message: string; rule?: string; reasons?: { rule: string; message: string; code?: string }[] };
}

/**
 * An operation's plan is written once under its id (`<operation>.<n>`, a new id for every plan) and never changed:
 * within one invocation (a step, an API request) its header and pages, once read or written, are not read again
 * (the request, its transition's events and its answer each wanted the header). Saved previews (`pv-…`) change
 * (planning → ready, failed) and are never kept.
 */
interface PlanCache {
  headers: Map<string, PlanHeader>;
  pages: Map<string, PlanEntry[]>;
}
const cache = new AsyncLocalStorage<PlanCache>();
export function withPlanCache<R>(run: () => Promise<R>): Promise<R> {
  return cache.getStore() ? run() : cache.run({ headers: new Map(), pages: new Map() }, run);
}
const cacheable = (planId: string) => !planId.startsWith('pv-');
const pageKey = (planId: string, n: number) => `${planId}\u0000${n}`;
function keepHeader(header: PlanHeader): void {
  if (cacheable(header.id)) cache.getStore()?.headers.set(header.id, header);
}
function keepPage(planId: string, n: number, entries: PlanEntry[]): void {
  if (cacheable(planId)) cache.getStore()?.pages.set(pageKey(planId, n), entries);
}
const cachedHeader = (planId: string) => cache.getStore()?.headers.get(planId);
const cachedPage = (planId: string, n: number) => cache.getStore()?.pages.get(pageKey(planId, n));

/** Pages of entries, closed by count and by size, as entries come (in impact order). */
class Pager {
  private page: PlanEntry[] = [];
  private bytes = 0;

  /** Adds an entry: the page it closed, if it closed one. */
  add(entry: PlanEntry): PlanEntry[] | undefined {
    const size = Buffer.byteLength(JSON.stringify(entry)) + 1; // and its comma
    let closed: PlanEntry[] | undefined;
    if (this.page.length > 0 && (this.page.length >= PLAN_PAGE_SIZE || this.bytes + size + 1 > PAGE_BYTES)) closed = this.end();
    this.page.push(entry);
    this.bytes += size;
    return closed;
  }

  /** The page being filled, closed (undefined if empty). */
  end(): PlanEntry[] | undefined {
    const page = this.page.length > 0 ? this.page : undefined;
    this.page = [];
    this.bytes = 0;
    return page;
  }
}

/** Sorted, deduplicated entries → pages of entries (by count and by size). */
export function paginate(entries: readonly PlanEntry[]): PlanEntry[][] {
  const pager = new Pager();
  const pages: PlanEntry[][] = [];
  for (const e of entries) {
    const closed = pager.add(e);
    if (closed) pages.push(closed);
  }
  const last = pager.end();
  if (last) pages.push(last);
  return pages;
}

/** Counts by kind and rule, sorted by kind then rule, as effects come. */
class Summary {
  private readonly counts = new Map<string, SummaryRow>();
  add(e: Effect): void {
    const key = `${e.kind}\u0000${e.rule}`;
    const row = this.counts.get(key) ?? { kind: e.kind, rule: e.rule, count: 0 };
    row.count++;
    this.counts.set(key, row);
  }
  rows(): SummaryRow[] {
    return [...this.counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
  }
}

export function summarize(effects: Iterable<Effect>): SummaryRow[] {
  const summary = new Summary();
  for (const e of effects) summary.add(e);
  return summary.rows();
}

const hashEffect = (hash: ReturnType<typeof createHash>, e: Effect) => hash.update(`${JSON.stringify(canonicalEffect(e))}\n`);

export function fingerprint(effects: Iterable<Effect>): string {
  const hash = createHash('sha256');
  for (const e of effects) hashEffect(hash, e);
  return hash.digest('base64url');
}

type HeaderFields = Pick<
  PlanHeader,
  'id' | 'operation' | 'userId' | 'destinationOrganizationId' | 'requestedBy' | 'organizationId' | 'organizations' | 'readAt'
>;
type StoreOptions = { ttlSeconds?: number; now?: Date };

/**
 * A plan built as its entries come, in impact order (unique, see `mergeEffects`): its pages as they close, then its
 * header (count, summary, fingerprint, each page's kinds). What planRecord builds from entries at hand, and what the
 * planning workflow's merge builds from a stream it never holds whole.
 */
class PlanBuilder {
  private readonly pager = new Pager();
  private readonly summary = new Summary();
  private readonly hash = createHash('sha256');
  private readonly kinds: Partial<Record<EffectKind, number>>[] = [];
  private count = 0;
  private readonly at: Date;
  private readonly expiry: Date | undefined;
  /** TTL (the table's `expiresAt`, epoch seconds) removes an expired preview's items; reads check the ISO time too. */
  private readonly ttl: { expiresAt?: number };

  constructor(
    private readonly fields: HeaderFields,
    options: StoreOptions,
  ) {
    this.at = options.now ?? new Date(nowMs());
    this.expiry = options.ttlSeconds ? new Date(this.at.getTime() + options.ttlSeconds * 1000) : undefined;
    this.ttl = this.expiry ? { expiresAt: Math.floor(this.expiry.getTime() / 1000) + 3600 } : {};
  }

  /** Adds an entry: the item of the page it closed, if it closed one. */
  add(entry: PlanEntry): Record<string, unknown> | undefined {
    this.count++;
    this.summary.add(entry.effect);
    hashEffect(this.hash, entry.effect);
    const closed = this.pager.add(entry);
    return closed ? this.pageItem(closed) : undefined;
  }

  /** The last page's item (if any) and the header, once every entry was added. */
  end(): { last?: Record<string, unknown>; plan: PlanHeader; headerItem: Record<string, unknown> } {
    const page = this.pager.end();
    const last = page ? this.pageItem(page) : undefined;
    const plan: PlanHeader = {
      ...this.fields,
      effectCount: this.count,
      summary: this.summary.rows(),
      fingerprint: this.hash.digest('base64url'),
      pages: this.kinds,
      createdAt: this.at.toISOString(),
      ...(this.expiry ? { expiresAt: this.expiry.toISOString() } : {}),
    };
    const headerItem = { ...keys.plan(plan.id), type: 'plan', header: JSON.stringify(plan), ...this.ttl };
    return { ...(last ? { last } : {}), plan, headerItem };
  }

  private pageItem(page: PlanEntry[]): Record<string, unknown> {
    const kinds: Partial<Record<EffectKind, number>> = {};
    for (const { effect } of page) kinds[effect.kind] = (kinds[effect.kind] ?? 0) + 1;
    const n = this.kinds.push(kinds) - 1;
    return {
      ...keys.planPage(this.fields.id, n),
      type: 'plan-page',
      planId: this.fields.id,
      count: page.length,
      data: gzipSync(JSON.stringify(page)),
      ...this.ttl,
    };
  }
}

/** A plan's header and its table items (pages and header), for a write or a transaction. */
export function planRecord(
  header: HeaderFields,
  entries: readonly PlanEntry[],
  options: StoreOptions = {},
): { plan: PlanHeader; items: Record<string, unknown>[] } {
  const builder = new PlanBuilder(header, options);
  const items: Record<string, unknown>[] = [];
  for (const e of entries) {
    const closed = builder.add(e);
    if (closed) items.push(closed);
  }
  const { last, plan, headerItem } = builder.end();
  if (last) items.push(last);
  return { plan, items: [...items, headerItem] };
}

/**
 * A plan stored from a stream of its entries (in impact order, unique), never held whole: its pages written as they
 * close, 25 at a time, then (once `accept` passed it, if given: X1, the plan a request named) its header. A plan
 * `accept` refuses is not stored: its pages are deleted again, and the refusal thrown.
 */
export async function writePlanFrom(
  header: HeaderFields,
  entries: AsyncIterable<PlanEntry>,
  options: StoreOptions & { accept?: (plan: PlanHeader) => void } = {},
): Promise<PlanHeader> {
  const builder = new PlanBuilder(header, options);
  let pending: Record<string, unknown>[] = [];
  for await (const entry of entries) {
    const page = builder.add(entry);
    if (page) pending.push(page);
    if (pending.length === BATCH_WRITE_LIMIT) {
      await batchWrite(tableName(), pending.map(put));
      pending = [];
    }
  }
  const { last, plan, headerItem } = builder.end();
  if (last) pending.push(last);
  await batchWrite(tableName(), pending.map(put));
  try {
    options.accept?.(plan);
  } catch (error) {
    // refused: its pages go too (nothing would read them without a header)
    await batchWrite(
      tableName(),
      plan.pages.map((_, n) => del(keys.planPage(plan.id, n))),
    );
    throw error;
  }
  await put1(headerItem);
  keepHeader(plan);
  return plan;
}

/** A plan just stored (its write succeeded): kept for the rest of the invocation, header and pages. */
export function keepPlan(plan: PlanHeader, entries: readonly PlanEntry[]): void {
  keepHeader(plan);
  paginate(entries).forEach((page, n) => keepPage(plan.id, n, page));
}

/** Pages a plan may have to be stored in its operation's creating transaction (DynamoDB: 100 items, 4 MB). */
export const PAGES_IN_TRANSACTION = 8;

/**
 * Stores a plan: entries must be in impact order and unique (see `mergeEffects`). `ttlSeconds` makes it expire
 * (saved previews); an operation's plan is kept with the operation.
 */
export async function writePlan(header: HeaderFields, entries: readonly PlanEntry[], options: StoreOptions = {}): Promise<PlanHeader> {
  const { plan, items } = planRecord(header, entries, options);
  await batchWrite(tableName(), items.map(put));
  keepPlan(plan, entries);
  return plan;
}

/**
 * A saved preview's plan stored as an operation's (X1: the preview still holds): its pages copied as they are, still
 * compressed (one BatchGetItem per 100, BatchWriteItem of 25), without its expiry, under `header`'s id, then its
 * header. What a plan of the same data computed again would store, without reading that data again.
 */
export async function copyPlan(
  preview: PlanHeader,
  header: Pick<PlanHeader, 'id' | 'operation' | 'userId' | 'organizations' | 'readAt'>,
): Promise<PlanHeader> {
  const pages = await batchGet(preview.pages.map((_, n) => keys.planPage(preview.id, n)));
  if (pages.length !== preview.pages.length)
    throw new Error(`preview ${preview.id} has ${pages.length} of its ${preview.pages.length} pages`);
  const plan: PlanHeader = {
    ...header,
    effectCount: preview.effectCount,
    summary: preview.summary,
    fingerprint: preview.fingerprint,
    pages: preview.pages,
    createdAt: new Date(nowMs()).toISOString(),
  };
  // the same page numbers (sort keys) under the operation's plan
  const copied = pages.map(({ PK, expiresAt, ...page }) => ({ ...page, PK: keys.plan(plan.id).PK, planId: plan.id }));
  await batchWrite(tableName(), copied.map(put));
  await put1({ ...keys.plan(plan.id), type: 'plan', header: JSON.stringify(plan) });
  keepHeader(plan);
  return plan;
}

/** A saved preview whose plan is computed in the background: its header alone, `planning`, expiring as any preview. */
export async function writePendingPreview(
  header: Pick<PlanHeader, 'id' | 'operation' | 'userId' | 'destinationOrganizationId' | 'requestedBy' | 'organizationId' | 'successorId'>,
  ttlSeconds: number,
): Promise<PlanHeader> {
  const { plan, items } = planRecord(header, [], { ttlSeconds });
  const pending: PlanHeader = { ...plan, pages: [], status: 'planning' };
  await put1({ ...items[items.length - 1]!, header: JSON.stringify(pending) });
  return pending;
}

/** The background computation of a saved preview refused it: the header keeps the refusal (the API answers it). */
export async function markPreviewFailed(pending: PlanHeader, error: NonNullable<PlanHeader['error']>): Promise<void> {
  const ttl = Math.floor(Date.parse(pending.expiresAt!) / 1000) + 3600;
  const Item = { ...keys.plan(pending.id), type: 'plan', header: JSON.stringify({ ...pending, status: 'failed', error }), expiresAt: ttl };
  await ddb.send(new PutCommand({ TableName: tableName(), Item }));
}

const put1 = (item: Record<string, unknown>) => batchWrite(tableName(), [put(item)]);

export async function readPlanHeader(planId: string): Promise<PlanHeader | undefined> {
  const known = cachedHeader(planId);
  if (known) return known;
  const item = await getItem(keys.plan(planId));
  const header = item ? (JSON.parse(item.header) as PlanHeader) : undefined;
  if (header) keepHeader(header);
  return header;
}

/** Headers by plan id (one BatchGetItem per 100): what the console's lists sum up. */
export async function readPlanHeaders(planIds: readonly string[]): Promise<Map<string, PlanHeader>> {
  const items = await batchGet(planIds.map((id) => keys.plan(id)));
  return new Map(items.map((i) => JSON.parse(i.header) as PlanHeader).map((h) => [h.id, h]));
}

/** A stored page's entries (also a planning workflow's run page, store/plan-work.ts). */
export const decodePage = (item: Record<string, any>): PlanEntry[] =>
  (JSON.parse(gunzipSync(Buffer.from(item.data as Uint8Array)).toString('utf8')) as PlanEntry[]).map((e) => ({
    ...e,
    effect: canonicalEffect(e.effect),
  }));

/** Pages by number, in the order asked (one BatchGetItem per 100 pages). */
export async function readPlanPages(planId: string, pageNumbers: readonly number[]): Promise<PlanEntry[][]> {
  if (pageNumbers.length === 0) return [];
  const missing = pageNumbers.filter((n) => !cachedPage(planId, n));
  const items = missing.length ? await batchGet(missing.map((n) => keys.planPage(planId, n))) : [];
  const bySK = new Map(items.map((i) => [i.SK as string, i]));
  return pageNumbers.map((n) => {
    const known = cachedPage(planId, n);
    if (known) return known;
    const item = bySK.get(keys.planPage(planId, n).SK);
    if (!item) throw new Error(`plan ${planId} has no page ${n}`);
    const entries = decodePage(item);
    keepPage(planId, n, entries);
    return entries;
  });
}

/**
 * The keys of a plan's header and first page, and what a BatchGetItem found of them kept for the invocation: a step
 * given its plan's id (a hint in its state) reads them with its operation in one request.
 */
export const planHeadKeys = (planId: string) => [keys.plan(planId), keys.planPage(planId, 0)];
export function keepPlanHead(planId: string, items: readonly Record<string, any>[]): void {
  const headerItem = items.find((i) => i.PK === keys.plan(planId).PK && i.SK === 'META');
  if (!headerItem) return;
  const header = JSON.parse(headerItem.header) as PlanHeader;
  const page = items.find((i) => i.PK === keys.plan(planId).PK && i.SK === keys.planPage(planId, 0).SK);
  if (header.pages.length > 0 && !page) return;
  keepHeader(header);
  if (page) keepPage(planId, 0, decodePage(page));
}

/** The header and the first page in one request: what an Impact answer shows. */
export async function readPlanWithFirstPage(planId: string): Promise<{ header: PlanHeader; first: PlanEntry[] } | undefined> {
  const knownHeader = cachedHeader(planId);
  if (knownHeader && (knownHeader.pages.length === 0 || cachedPage(planId, 0)))
    return { header: knownHeader, first: cachedPage(planId, 0) ?? [] };
  return planHeadFrom(planId, await batchGet(planHeadKeys(planId)));
}

/** A plan's header and first page from the items of a read that asked for them (planHeadKeys), or undefined without a header. */
export function planHeadFrom(
  planId: string,
  items: readonly Record<string, any>[],
): { header: PlanHeader; first: PlanEntry[] } | undefined {
  const pk = keys.plan(planId).PK;
  const headerItem = items.find((i) => i.PK === pk && i.SK === 'META');
  if (!headerItem) return undefined;
  const header = JSON.parse(headerItem.header) as PlanHeader;
  keepHeader(header);
  const pageItem = items.find((i) => i.PK === pk && i.SK === keys.planPage(planId, 0).SK);
  const first = pageItem ? decodePage(pageItem) : [];
  if (pageItem) keepPage(planId, 0, first);
  return { header, first };
}

/** The pages, from `from` on, that hold any of `kinds`. */
export function pagesWith(header: PlanHeader, kinds: readonly EffectKind[], from = 0): number[] {
  const out: number[] = [];
  header.pages.forEach((counts, n) => {
    if (n >= from && kinds.some((k) => (counts[k] ?? 0) > 0)) out.push(n);
  });
  return out;
}
