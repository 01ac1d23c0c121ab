import type { Effect } from '../domain/impact.js';
import { organizationsOf, TRANSITIONS, type TransitionName } from '../domain/lifecycle/operation.js';
import { RUN_TRANSITIONS, type RunTransition } from '../domain/lifecycle/bulk-run.js';
import { now, nowMs } from '../shared/clock.js';
import { logger } from '../shared/logger.js';
import { entrySize, putOnBus, PUT_EVENTS_MAX_ENTRY_BYTES, type BusEntry } from '../store/event-bus.js';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { OperationRecord } from '../store/operations.js';
import {
  OUTBOX_SWEEP_AGE_MS,
  outboxItemOf,
  removeOutbox,
  type OperationOutboxEntry,
  type OutboxEntry,
  type OutboxItemKey,
  type RunOutboxEntry,
} from '../store/outbox.js';
import { pagesWith, readPlanHeader, readPlanPages, summarize, type PlanEntry, type SummaryRow } from '../store/plans.js';
import type { RunRecord } from '../store/runs.js';

/**
 * Outbound events (docs/EVENTS.md, one JSON Schema each in docs/events/): a lifecycle transition of a transfer, a
 * deletion or a billing run, and `Affected`, one per person an operation affects, when it is requested and when it
 * is applied. Emitted only from the transitions' one door (services/transitions.ts, bulk-run.ts transitionRun),
 * after the transition committed with its outbox entry (store/outbox.ts); each event's `id` is its idempotency key
 * (a consumer drops a second delivery).
 * Ids, counts and rule ids only: never a file's contents, a message's text or a display name.
 */
export const EVENT_SOURCE = 'offboard';

/** One detail-type per transition of domain/lifecycle/operation.ts, by operation. */
export const OPERATION_DETAIL_TYPES = {
  transfer: {
    request: 'Transfer Requested',
    'request-planning': 'Transfer Requested',
    planned: 'Transfer Planned',
    approve: 'Transfer Approved',
    'wait-for-seat': 'Transfer Waiting For Seat',
    'seat-freed': 'Transfer Seat Freed',
    cancel: 'Transfer Cancelled',
    fail: 'Transfer Failed',
    resume: 'Transfer Resumed',
    succeed: 'Transfer Succeeded',
  },
  deletion: {
    'request-deletion': 'Deletion Requested',
    'request-planning': 'Deletion Requested',
    planned: 'Deletion Planned',
    schedule: 'Deletion Scheduled',
    'planned-schedule': 'Deletion Scheduled',
    start: 'Deletion Started',
    undo: 'Deletion Undone',
    purge: 'Deletion Purge Started',
    'cancel-failed': 'Deletion Cancelled',
    'cancel-scheduled': 'Deletion Cancelled By Contract',
    fail: 'Deletion Failed',
    'fail-scheduled': 'Deletion Schedule Failed',
    resume: 'Deletion Resumed',
    succeed: 'Deletion Succeeded',
  },
} as const satisfies Record<'transfer' | 'deletion', Partial<Record<TransitionName, string>>>;

/** A billing run's transitions (domain/lifecycle/bulk-run.ts), and its creation. */
export const RUN_DETAIL_TYPES: Record<RunTransition | 'create', string> = {
  create: 'Billing Run Created',
  confirm: 'Billing Run Confirmed',
  cancel: 'Billing Run Cancelled',
  reinstate: 'Billing Run Reinstated',
  fail: 'Billing Run Failed',
  resume: 'Billing Run Resumed',
  succeed: 'Billing Run Succeeded',
};

export const AFFECTED_DETAIL_TYPE = 'Affected';

/** Transitions after which the plan says what will happen (request time), and the one after which it happened. */
const REQUESTED: readonly TransitionName[] = ['request', 'request-deletion', 'schedule', 'planned', 'planned-schedule'];
const APPLIED: readonly TransitionName[] = ['succeed'];

/** What one person is told: each effect on them, in words a notification can use (ids only). */
export type PersonEffect =
  | { kind: 'contact-removed'; rule: string; withUserId: string }
  | { kind: 'chat-left' | 'chat-frozen' | 'chat-deleted' | 'admin-granted'; rule: string; chatId: string }
  | { kind: 'file-deleted'; rule: string; fileId: string; chatId?: string }
  | { kind: 'file-handed-over'; rule: string; fileId: string; organizationId: string; chatId?: string }
  | { kind: 'task-deleted'; rule: string; taskId: string; chatId?: string }
  | { kind: 'chat-joined'; rule: string; chatId: string; role: 'admin' | 'member' }
  | { kind: 'task-reassigned'; rule: string; taskId: string; chatId?: string }
  | { kind: 'membership-changed'; rule: string; fromOrganizationId: string; toOrganizationId: string }
  | { kind: 'security-changed'; rule: string; allowOutsideCommunication: boolean; allowFileSharing: boolean }
  | { kind: 'user-deleted' | 'api-token-revoked'; rule: string };

/**
 * Each person the plan names, with the effects on them: both sides of a broken contact, the user leaving a chat,
 * the members made administrators; the operation's user also gets what happens to its chats, files and tasks
 * (effects that name no person). The other members of a frozen or deleted chat are the chat service's to find by
 * `chatId` (the plan does not list them). With no subject (a billing run's batch, many members at once) effects that
 * name no person are told to no one: the run's own events count them.
 */
export function affectedPeople(subjectUserId: string | undefined, entries: readonly PlanEntry[]): Map<string, PersonEffect[]> {
  const people = new Map<string, PersonEffect[]>();
  const add = (userId: string | undefined, e: PersonEffect) => {
    if (userId !== undefined) (people.get(userId) ?? people.set(userId, []).get(userId)!).push(e);
  };
  for (const { effect: e, chatId } of entries) {
    const inChat = chatId ? { chatId } : {};
    switch (e.kind) {
      case 'contact-removed':
        add(e.userIds[0], { kind: e.kind, rule: e.rule, withUserId: e.userIds[1] });
        add(e.userIds[1], { kind: e.kind, rule: e.rule, withUserId: e.userIds[0] });
        break;
      case 'chat-left':
        add(e.userId, { kind: e.kind, rule: e.rule, chatId: e.chatId });
        break;
      case 'admin-granted':
        for (const u of e.userIds) add(u, { kind: e.kind, rule: e.rule, chatId: e.chatId });
        break;
      case 'chat-frozen':
      case 'chat-deleted':
        add(subjectUserId, { kind: e.kind, rule: e.rule, chatId: e.chatId });
        break;
      case 'file-deleted':
        add(subjectUserId, { kind: e.kind, rule: e.rule, fileId: e.fileId, ...inChat });
        break;
      case 'file-handed-over':
        add(subjectUserId, { kind: e.kind, rule: e.rule, fileId: e.fileId, organizationId: e.organizationId, ...inChat });
        break;
      case 'task-deleted':
        add(subjectUserId, { kind: e.kind, rule: e.rule, taskId: e.taskId, ...inChat });
        break;
      case 'chat-joined': // X3: the successor is told which chat it joins, and as what
        add(e.userId, { kind: e.kind, rule: e.rule, chatId: e.chatId, role: e.role });
        break;
      case 'task-reassigned': // X3: the successor is told which task is now theirs
        add(e.userId, { kind: e.kind, rule: e.rule, taskId: e.taskId, ...inChat });
        break;
      case 'membership-changed':
        add(e.userId, { kind: e.kind, rule: e.rule, fromOrganizationId: e.fromOrganizationId, toOrganizationId: e.toOrganizationId });
        break;
      case 'security-changed':
        add(e.userId, {
          kind: e.kind,
          rule: e.rule,
          allowOutsideCommunication: e.allowOutsideCommunication,
          allowFileSharing: e.allowFileSharing,
        });
        break;
      case 'user-deleted':
      case 'api-token-revoked':
        add(e.userId, { kind: e.kind, rule: e.rule });
        break;
      default:
        assertNever(e);
    }
  }
  return people;
}

function assertNever(e: never): never {
  throw new Error(`no person for effect ${JSON.stringify(e satisfies Effect)}`);
}

/** The API route that reads the operation (relative to the stack's ApiUrl output). */
export const operationLink = (op: Pick<OperationRecord, 'operation' | 'id'>) =>
  `/${op.operation === 'transfer' ? 'transfers' : 'deletions'}/${encodeURIComponent(op.id)}`;

/** Who made the transition: the administrator named by it, else the system (a step, a billing event, the clock). */
function actorOf(name: TransitionName, op: OperationRecord, set: Partial<OperationRecord>): string {
  switch (name) {
    case 'request':
    case 'request-deletion':
    case 'request-planning':
    case 'schedule':
      return op.requestedBy;
    case 'approve':
      return set.approvedBy ?? op.approvedBy ?? 'system';
    case 'undo':
      return set.undoneBy ?? op.undoneBy ?? 'system';
    case 'cancel':
    case 'cancel-failed':
      return set.cancelledBy ?? 'system';
    default:
      return 'system';
  }
}

export interface TransitionFacts {
  /** The operation as it is after the transition. */
  op: OperationRecord;
  name: TransitionName;
  from: OperationRecord['status'] | null;
  /** What the transition set (who acted). */
  set?: Partial<OperationRecord>;
  /** The plan's entries when the caller holds them (a request, before its plan is stored); read from the plan otherwise. */
  entries?: readonly PlanEntry[];
  /** As recorded in the outbox (the same events when built again): when, and who acted. */
  at?: string;
  by?: string;
}

/** The events of one transition: its own, and at request and application one `Affected` per person. */
export async function transitionEvents(facts: TransitionFacts): Promise<BusEntry[]> {
  const { op, name } = facts;
  const detailType = (OPERATION_DETAIL_TYPES[op.operation] as Partial<Record<TransitionName, string>>)[name];
  if (!detailType) throw new Error(`docs/EVENTS.md names no event for ${op.operation} transition ${name}`);
  const phase = REQUESTED.includes(name) ? 'requested' : APPLIED.includes(name) ? 'applied' : undefined;
  const plan = await planOf(op, facts.entries, phase !== undefined);
  const at = facts.at ?? now();
  const key = `${op.id}:${name}:${op.runCount}`;
  const organizationIds = organizationsOf(op);
  const base = { operationId: op.id, operation: op.operation, userId: op.userId, organizationIds, link: operationLink(op) };
  const detail = {
    id: key,
    ...base,
    transition: name,
    rule: TRANSITIONS[name].rules,
    from: facts.from,
    status: op.status,
    by: facts.by ?? actorOf(name, op, facts.set ?? {}),
    at,
    runCount: op.runCount,
    ...(op.sourceOrganizationId
      ? { sourceOrganizationId: op.sourceOrganizationId, destinationOrganizationId: op.destinationOrganizationId }
      : { organizationId: op.organizationId }),
    effectCount: plan.summary.reduce((n, r) => n + r.count, 0),
    counts: plan.summary,
    ...(op.purgeAt ? { purgeAt: op.purgeAt } : {}),
    ...(op.error && (op.status === 'failed' || op.status === 'cancelled')
      ? { error: { code: op.error.code, message: op.error.message, ...(op.error.rule ? { rule: op.error.rule } : {}) } }
      : {}),
  };
  const entries: BusEntry[] = [{ source: EVENT_SOURCE, detailType, detail }];
  if (phase && plan.entries) {
    // when it happens: now (applied; a deletion starting at once), on approval (a transfer), at the purge date (D7)
    const when = phase === 'applied' ? at : op.status === 'scheduled' ? op.purgeAt! : op.operation === 'deletion' ? at : null;
    for (const [userId, effects] of affectedPeople(op.userId, plan.entries)) {
      const common = { ...base, phase, transition: name, affectedUserId: userId, subject: userId === op.userId, when };
      entries.push(...splitBySize(`${op.id}:${phase}:${op.runCount}:${userId}`, common, effects));
    }
  }
  return entries;
}

/** One `Affected` entry per person, or several (`part`) when the person's effects pass the 256 KB entry limit. */
function splitBySize(id: string, common: Record<string, unknown>, effects: PersonEffect[]): BusEntry[] {
  const entry = (detail: Record<string, unknown>): BusEntry => ({ source: EVENT_SOURCE, detailType: AFFECTED_DETAIL_TYPE, detail });
  const whole = entry({ id, ...common, effects });
  if (entrySize(whole, 'x'.repeat(256)) <= PUT_EVENTS_MAX_ENTRY_BYTES) return [whole];
  const parts: PersonEffect[][] = [];
  let part: PersonEffect[] = [];
  let bytes = 0;
  const budget = PUT_EVENTS_MAX_ENTRY_BYTES - 4096 - Buffer.byteLength(JSON.stringify(common)) - 256;
  for (const e of effects) {
    const size = Buffer.byteLength(JSON.stringify(e)) + 1;
    if (bytes + size > budget && part.length) {
      parts.push(part);
      part = [];
      bytes = 0;
    }
    part.push(e);
    bytes += size;
  }
  parts.push(part);
  return parts.map((p, n) => entry({ id: `${id}:${n + 1}`, ...common, part: { n: n + 1, of: parts.length }, effects: p }));
}

async function planOf(
  op: OperationRecord,
  given: readonly PlanEntry[] | undefined,
  needEntries: boolean,
): Promise<{ summary: SummaryRow[]; entries?: readonly PlanEntry[] }> {
  if (given) return { summary: summarize(given.map((e) => e.effect)), entries: given };
  const planId = op.appliedPlan ?? op.planId;
  const header = planId ? await readPlanHeader(planId) : undefined;
  if (!header) return { summary: [] };
  if (!needEntries) return { summary: header.summary };
  const pages = await readPlanPages(header.id, pagesWith(header, [...new Set(header.summary.map((r) => r.kind))]));
  return { summary: header.summary, entries: pages.flat() };
}

/**
 * A billing run's transition (or its creation): the run's counts; its members' deletions are its own. `at`, `by`: as
 * its outbox entry recorded them (the same event when built again).
 */
export function runTransitionEvent(run: RunRecord, transition: RunTransition | 'create', by: string, at: string): BusEntry {
  return {
    source: EVENT_SOURCE,
    detailType: RUN_DETAIL_TYPES[transition],
    detail: {
      id: `${run.id}:${transition}:${run.attempt ?? 0}`,
      runId: run.id,
      kind: run.kind,
      organizationId: run.organizationId,
      organizationIds: [run.organizationId],
      transition,
      rule: transition === 'create' ? 'B1' : RUN_TRANSITIONS[transition].rule,
      status: run.status,
      by,
      at,
      attempt: run.attempt ?? 0,
      counts: { total: run.total, done: run.done, failed: run.failed, skipped: run.skipped ?? 0 },
      link: `/billing-runs/${encodeURIComponent(run.id)}`,
      ...(run.error ? { error: run.error } : {}),
    },
  };
}

/**
 * Puts the events on the operation bus (OPERATION_EVENT_BUS_NAME). Answers the events that did not land (all of
 * them when the request itself failed, or the function was given no bus), each logged; never throws.
 */
export async function publish(entries: readonly BusEntry[]): Promise<BusEntry[]> {
  if (entries.length === 0) return [];
  const bus = process.env.OPERATION_EVENT_BUS_NAME;
  if (!bus) {
    // left in the outbox for a function the stack gives the bus (never removed as if delivered)
    logger.warn('no OPERATION_EVENT_BUS_NAME: events not emitted', { detailTypes: entries.map((e) => e.detailType) });
    return [...entries];
  }
  try {
    const { failed } = await putOnBus(bus, entries);
    for (const f of failed) logger.error('event not emitted', { id: f.entry.detail.id, detailType: f.entry.detailType, error: f.error });
    return failed.map((f) => f.entry);
  } catch (error) {
    logger.error('events not emitted', { ids: entries.map((e) => e.detail.id), error: (error as Error).message });
    return [...entries];
  }
}

/** docs/EVENTS.md outbox: the record a transition commits with, from which its events are built (now or on a retry). */
export function outboxEntry(
  op: OperationRecord,
  name: TransitionName,
  from: OperationRecord['status'] | null,
  set: Partial<OperationRecord> = {},
): OperationOutboxEntry {
  // planQuiet: the store's own bookkeeping (up to QUIET_ORGANIZATIONS counters), no event reads it
  const { pendingEvents, outboxMark, planQuiet, ...snapshot } = op;
  return { key: `${op.id}:${name}:${op.runCount}`, name, from, at: now(), by: actorOf(name, op, set), op: snapshot };
}

/** The same for a billing run's transition (or its creation): the run as the transition leaves it. */
export function runOutboxEntry(run: RunRecord, name: RunTransition | 'create', by: string): RunOutboxEntry {
  const { pendingEvents, outboxMark, ...snapshot } = run;
  // the creation's time is the run's own (createdAt), so its event never claims to come after it
  return { key: `${run.id}:${name}:${run.attempt ?? 0}`, name, at: name === 'create' ? run.createdAt : now(), by, run: snapshot };
}

/** The events of one outbox entry, built as its transition's own invocation built them. */
async function eventsOf(entry: OutboxEntry, entries: readonly PlanEntry[] | undefined): Promise<BusEntry[]> {
  if ('run' in entry) return [runTransitionEvent(entry.run, entry.name as RunTransition | 'create', entry.by, entry.at)];
  const { op, from, at, by } = entry;
  return transitionEvents({ op, name: entry.name as TransitionName, from, at, by, ...(entries ? { entries } : {}) });
}

/** A step's invocation: the outbox entries it could not deliver (functions/handlers/steps/step.ts fails the step on them). */
const undelivered = new AsyncLocalStorage<OutboxEntry[]>();
export async function checkingDelivery<R>(run: () => Promise<R>): Promise<{ result: R; undelivered: OutboxEntry[] }> {
  const left: OutboxEntry[] = [];
  const result = await undelivered.run(left, run);
  return { result, undelivered: left };
}

/** One item's outbox (an operation's or a billing run's), as `deliverOutboxes` takes it. */
export interface Outbox {
  key: OutboxItemKey;
  /** Every entry the caller knows the item to hold. */
  outbox: readonly OutboxEntry[];
  /** Plan entries the caller holds, by entry key (a request before its plan is stored). */
  given?: ReadonlyMap<string, readonly PlanEntry[]>;
  /** The item's outbox mark with these entries: when all land, the outbox index keys are removed with them. */
  mark?: string;
}

/**
 * After the transitions committed (their outbox entries with them): their events on the bus, for several items at
 * once (the outbox sweeper: one publish, 10 entries and 256 KB a request, store/event-bus.ts), then each item's
 * landed entries removed. Answers each one's entries left: an entry whose events did not all land stays on its item
 * for the retry path (the item's next transition, or the next step of its execution reading it, flushPending) or the
 * sweeper; a consumer recognises a second delivery of an event by its `id`. An item with a mark and no entries (index
 * keys a raced removal left) has its keys removed. Never throws.
 */
export async function deliverOutboxes(outboxes: readonly Outbox[]): Promise<OutboxEntry[][]> {
  const built = await Promise.all(
    outboxes.map(async ({ key, outbox, given }) => {
      const events: { entry: OutboxEntry; events: BusEntry[] }[] = [];
      for (const entry of outbox) {
        try {
          events.push({ entry, events: await eventsOf(entry, given?.get(entry.key)) });
        } catch (error) {
          logger.error('events not built', { item: key.PK, transition: entry.name, error: (error as Error).message });
        }
      }
      return events;
    }),
  );
  const lost = new Set(await publish(built.flat().flatMap((b) => b.events)));
  return Promise.all(
    outboxes.map(async ({ key, outbox, mark }, i) => {
      const landed = built[i]!.filter((b) => !b.events.some((e) => lost.has(e))).map((b) => b.entry);
      const all = landed.length === outbox.length;
      try {
        await removeOutbox(key, landed, all ? mark : undefined);
      } catch (error) {
        // the events are on the bus; the entries go again later, and their ids say they are the same events
        logger.warn('outbox entries not removed', { item: key.PK, keys: landed.map((e) => e.key), error: (error as Error).message });
      }
      const left = outbox.filter((e) => !landed.includes(e));
      const seen = undelivered.getStore();
      if (seen) for (const e of left) if (!seen.some((s) => s.key === e.key)) seen.push(e);
      return left;
    }),
  );
}

/**
 * The outbox entries the record holds (an operation's or a billing run's), on the bus; the record lists those left
 * (none once all landed). `given`: the plan entries of the operation's request, before its plan is stored.
 */
export async function deliverPending(
  record: OperationRecord | RunRecord,
  given?: readonly PlanEntry[],
  options: { own?: readonly string[] } = {},
): Promise<void> {
  const all: readonly OutboxEntry[] = record.pendingEvents ?? [];
  // `own`: a transition's own entries (by key). Another invocation's entry younger than the sweeper's age is left to
  // that invocation, which may still be putting its events (thousands of Affected take seconds), or to the sweeper;
  // delivering it here too would put every event twice (seen on the XL user: an approval during the plan's delivery)
  const othersYoung = options.own
    ? all.filter((e) => !options.own!.includes(e.key) && Date.parse(e.at) > nowMs() - OUTBOX_SWEEP_AGE_MS)
    : [];
  const pending = all.filter((e) => !othersYoung.includes(e));
  if (!pending.length) return;
  const [left] = await deliverOutboxes([
    {
      key: outboxItemOf(record),
      outbox: pending,
      ...(given ? { given: new Map(pending.map((e) => [e.key, given])) } : {}),
      // the outbox index keys go only with the last entry: not while another invocation's entries remain
      ...(record.outboxMark && othersYoung.length === 0 ? { mark: record.outboxMark } : {}),
    },
  ]);
  const remaining = [...othersYoung, ...left!];
  if (remaining.length) record.pendingEvents = remaining as typeof record.pendingEvents;
  else {
    delete record.pendingEvents;
    delete record.outboxMark;
  }
}

/**
 * The retry path, for a step reading its operation or its billing run: what an earlier invocation committed and did
 * not deliver (it stopped between the commit and PutEvents, or PutEvents failed). Steps of one execution run one
 * after another, so nothing else of it is delivering these entries meanwhile.
 */
export async function flushPending<T extends OperationRecord | RunRecord | undefined>(record: T): Promise<T> {
  if (record && process.env.OPERATION_EVENT_BUS_NAME) await deliverPending(record); // a function given no bus leaves them
  return record;
}

/**
 * B1: the `Affected` events of one batch of a billing run, once its effects are applied: one per person its effects
 * name (each member deleted, each contact of theirs, each member made administrator of a chat they leave), split
 * past 256 KB; PutEvents sends them 10 (and 256 KB) a request. A batch plans at most BATCH_WORK effects, so a batch
 * emits at most that many people (twice, for contacts), and a 10,000-member cancellation 20 batches of them.
 * Ids `{runId}:{batch}:applied:{userId}`: a retried batch puts the same events again, and a consumer drops them.
 */
export function batchAffectedEvents(
  batch: { runId: string; id: string; n: number; attempt: number; organizationId: string; userIds: readonly string[] },
  applied: readonly PlanEntry[],
): BusEntry[] {
  const members = new Set(batch.userIds);
  const at = now();
  const link = `/billing-runs/${encodeURIComponent(batch.runId)}`;
  const common = { runId: batch.runId, batch: batch.n, attempt: batch.attempt, organizationIds: [batch.organizationId], link };
  return [...affectedPeople(undefined, applied)].flatMap(([userId, effects]) => {
    const person = {
      ...common,
      phase: 'applied',
      transition: 'batch-deleted',
      affectedUserId: userId,
      subject: members.has(userId),
      when: at,
    };
    return splitBySize(`${batch.id}:applied:${userId}`, person, effects);
  });
}
