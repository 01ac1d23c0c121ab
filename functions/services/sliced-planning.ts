import { mergeSortedRuns } from '../domain/impact.js';
import type { FileRef } from '../domain/planner.js';
import type { Organization, User } from '../domain/model.js';
import { now } from '../shared/clock.js';
import { chunk } from '../store/batch.js';
import { readRun, readWork, readWorks, writeRun, writeWork } from '../store/plan-work.js';
import { writePlanFrom, type PlanEntry, type PlanHeader } from '../store/plans.js';
import { readSubjectIndex } from '../store/slice.js';
import {
  entriesOf,
  newFindings,
  planIn,
  PlanningContext,
  restOf,
  type ComputedPlan,
  type PlanRequest,
  type RestOfIndex,
} from './planning.js';

/**
 * CONTRACT.md `planning`, at any user size: the planning workflow (infra/constructs/planning-workflow.ts) computes a
 * plan of a user with more than `SLICE_CHATS` chats as a Map over slices of the user's chats (a Distributed Map on
 * AWS, each child in its own execution and function; an inline Map locally), so no invocation plans more than one
 * slice's chats or holds more than one slice's effects:
 *
 * - Plan reads the user's index (X1: the plan's reads begin then) and stores the request, each slice's chats with the
 *   user's files in them (F1), and the rest of the index (contacts, assigned tasks) as the plan's work.
 * - each child plans its slice's chats (PlanningContext.chatPasses: D3, D4, D5, F1, F2, T-rules, X3's joins) and stores
 *   its entries, sorted, and what it found (chats deleted, chats the successor is then in, organizations read).
 * - Merge plans the rest (contacts; D6 and X3's tasks, which depend on every slice's deletions), then merges every
 *   child's entries and its own, streamed (domain/impact.ts mergeSortedRuns), into the plan's pages and header: the
 *   same plan, page for page and with the same fingerprint, as one pass over the whole user computes.
 */

/** Chats per slice: the most one Map child plans (PLAN_SLICE_CHATS overrides it, e.g. to test slicing on a small user). */
export const sliceChats = (): number => Number(process.env.PLAN_SLICE_CHATS || 5000);

/** The request, as stored for the children and the merge (a transfer's destination, X3's successor, as read at Plan). */
interface StoredRequest {
  operation: PlanRequest['operation'];
  user: User;
  destination?: Organization;
  successor?: User;
  readAt: string;
}

interface Slice {
  chatIds: string[];
  uploads: FileRef[];
}

/** What a child found beside its entries: what Merge needs of its slice. */
interface SliceFindings {
  pages: number;
  deleted: string[];
  withSuccessor: string[];
  organizations: string[];
}

const sliceName = (n: number) => `slice.${n}`;
const runName = (n: number) => `run.${n}`;
const foundName = (n: number) => `found.${n}`;

function requestOf(stored: StoredRequest): PlanRequest {
  const successor = stored.successor ? { successor: stored.successor } : {};
  return stored.operation === 'transfer'
    ? { operation: 'transfer', user: stored.user, destination: stored.destination!, ...successor }
    : { operation: 'deletion', user: stored.user, ...successor };
}

export type PlannedOrSliced = (ComputedPlan & { organization?: Organization }) | { slices: number };

/**
 * Plan: the plan under `planId`, computed here when the user has at most `sliceChats()` chats; otherwise the work
 * for the Map stored, and how many slices it has.
 */
export async function planOrSlice(planId: string, request: PlanRequest): Promise<PlannedOrSliced> {
  const readAt = now();
  const index = await readSubjectIndex(request.user.id);
  const size = sliceChats();
  if (index.chatIds.length <= size) {
    const context = new PlanningContext();
    context.knowIndex(request.user.id, index);
    return planIn(context, request, readAt);
  }
  const slices = chunk(index.chatIds, size);
  const sliceOf = new Map(slices.flatMap((ids, n) => ids.map((id) => [id, n] as const)));
  const uploads = slices.map((): FileRef[] => []);
  for (const f of index.uploads) {
    const n = sliceOf.get(f.chatId);
    if (n !== undefined) uploads[n]!.push(f);
  }
  const stored: StoredRequest = {
    operation: request.operation,
    user: request.user,
    ...(request.operation === 'transfer' ? { destination: request.destination } : {}),
    ...(request.successor ? { successor: request.successor } : {}),
    readAt,
  };
  // a single user's plan has no F3 pass over its uploads (bulk runs plan theirs in their batches)
  const rest: RestOfIndex = restOf(index, false);
  await Promise.all([
    writeWork(planId, 'request', stored),
    writeWork(planId, 'rest', rest),
    ...slices.map((chatIds, n) => writeWork(planId, sliceName(n), { chatIds, uploads: uploads[n]! } satisfies Slice)),
  ]);
  return { slices: slices.length };
}

/** A Map child: slice `n`'s chats planned, its entries and findings stored. */
export async function planSlice(planId: string, n: number): Promise<void> {
  const [stored, slice] = await Promise.all([readWork<StoredRequest>(planId, 'request'), readWork<Slice>(planId, sliceName(n))]);
  const request = requestOf(stored);
  const context = new PlanningContext();
  const found = newFindings();
  await context.asSubject(request.user, async () => {
    await context.begin(request);
    await context.chatPasses(request, slice.chatIds, slice.uploads, found);
  });
  const pages = await writeRun(planId, runName(n), entriesOf(found));
  const findings: SliceFindings = {
    pages,
    deleted: [...found.deleted],
    withSuccessor: [...found.withSuccessor],
    organizations: context.organizationIds(),
  };
  await writeWork(planId, foundName(n), findings);
}

/**
 * Merge: the rest of the plan computed, every child's entries and its own merged into the plan's pages and header
 * (`header`'s fields; `accept` may refuse it before its header is written: writePlanFrom). Also the user's
 * organization as read (its grace period, D7).
 */
export async function mergeSlices(
  planId: string,
  slices: number,
  header: Omit<Parameters<typeof writePlanFrom>[0], 'organizations' | 'readAt'>,
  options: Parameters<typeof writePlanFrom>[2] = {},
): Promise<{ header: PlanHeader; organization?: Organization }> {
  const [stored, rest] = await Promise.all([readWork<StoredRequest>(planId, 'request'), readWork<RestOfIndex>(planId, 'rest')]);
  const findings = await readWorks<SliceFindings>(
    planId,
    Array.from({ length: slices }, (_, n) => foundName(n)),
  );
  const request = requestOf(stored);
  const context = new PlanningContext();
  const found = newFindings();
  for (const f of findings) {
    for (const id of f.deleted) found.deleted.add(id);
    for (const id of f.withSuccessor) found.withSuccessor.add(id);
  }
  await context.asSubject(request.user, async () => {
    await context.begin(request);
    await context.restPasses(request, rest, found);
  });
  const own = entriesOf(found);
  const organizations = [...new Set([...findings.flatMap((f) => f.organizations), ...context.organizationIds()])].sort();
  const runs = [...findings.map((f, n) => readRun(planId, runName(n), f.pages)), fromArray(own)];
  const written = await writePlanFrom({ ...header, organizations, readAt: stored.readAt }, mergeSortedRuns(runs), options);
  const organization = context.organization(request.user.organizationId);
  return { header: written, ...(organization ? { organization } : {}) };
}

async function* fromArray(entries: readonly PlanEntry[]): AsyncGenerator<PlanEntry> {
  yield* entries;
}
