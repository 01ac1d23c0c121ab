import type { Effect } from '../domain/impact.js';
import { now } from '../shared/clock.js';
import { pushTo } from '../shared/collections.js';
import { mergeEffectsInChats } from '../domain/impact.js';
import type { Organization, Task, User } from '../domain/model.js';
import {
  chatsWithSuccessor,
  deletedChatIds,
  deletionEffects,
  transferEffects,
  type ChatContents,
  type ChatView,
  type FileRef,
  type PlanSlice,
} from '../domain/planner.js';
import { chunk, inParallel, READ_CONCURRENCY } from '../store/batch.js';
import { readPlanHeader, type PlanEntry, type PlanHeader } from '../store/plans.js';
import { otherRunsOverlapped, quietSince, stillQuiet, type OperationRecord, type RunsQuiet } from '../store/operations.js';
import { readAllowances, readChatContents, readChatViews, readSubjectIndex, type MyChatOwner, type SubjectIndex } from '../store/slice.js';
import { getOrganizations, getUsers, type ReadAhead } from '../store/table.js';

/** Chats (and contacts) planned per pass: what one pass holds in memory, whatever the user's size. */
export const CHATS_PER_PASS = 1000;

/**
 * CONTRACT.md `planning`: how much planning an API request may do. A plan that needs more (more chats or files than
 * `maxChats`/`maxFiles`, or not done by `deadline`) is abandoned with PlanTooLarge and computed in the background
 * (services/background-planning.ts), so no request's function runs long at any user size.
 */
export interface PlanBudget {
  /** Epoch ms. */
  deadline: number;
  maxChats: number;
  maxFiles: number;
}

export class PlanTooLarge extends Error {
  override name = 'PlanTooLarge';
}

/** The budget of a plan computed within an API request (PLAN_INLINE_* override it, e.g. to test the background path). */
export function requestBudget(): PlanBudget {
  const num = (name: string, fallback: number) => {
    const v = process.env[name];
    return v === undefined || v === '' ? fallback : Number(v);
  };
  return {
    deadline: Date.now() + num('PLAN_INLINE_MS', 1200),
    maxChats: num('PLAN_INLINE_MAX_CHATS', CHATS_PER_PASS),
    maxFiles: num('PLAN_INLINE_MAX_FILES', 10_000),
  };
}

export type PlanRequest = (
  { operation: 'transfer'; user: User; destination: Organization } | { operation: 'deletion'; user: User; contractCancelled?: boolean }
) & { /** X3: the successor the request names, checked by the service. */ successor?: User };

/**
 * The one way a plan is made, for previews, requests, runs and bulk runs alike (X1). The pure planner
 * (domain/planner.ts) is applied pass by pass: to each page of the user's chats (with F2 contents read only for the
 * chats that page deletes), to each page of contacts, then to the tasks and uploads left; the passes' effects are
 * merged into one impact. Users, organizations and chats read once are kept for the next pass and the next
 * subject (a bulk batch plans many members that share chats).
 */
export class PlanningContext {
  private readonly users = new Map<string, User>();
  private readonly organizations = new Map<string, Organization>();
  private readonly chatViews = new Map<string, ChatView>();
  private readonly contents = new Map<string, ChatContents>();
  private allowances = new Set<string>();
  private readonly allowanceOrgs = new Set<string>();

  /**
   * `departingOrganizationId`: B1, every member of this organization is being deleted: plans see them as gone, but
   * for those `staying` (members that cannot be deleted now: their chats are not deleted under them).
   */
  constructor(
    private readonly departingOrganizationId?: string,
    private readonly staying: ReadonlySet<string> = new Set(),
    private readonly budget?: PlanBudget,
  ) {}

  /** PlanTooLarge once the budget is spent (checked between reads; a plan without a budget never stops). */
  private withinBudget(size?: { chats: number; files: number }): void {
    const b = this.budget;
    if (!b) return;
    if (size && (size.chats > b.maxChats || size.files > b.maxFiles))
      throw new PlanTooLarge(`${size.chats} chats and ${size.files} files: planned in the background`);
    if (Date.now() > b.deadline) throw new PlanTooLarge('planning did not finish within the request: planned in the background');
  }

  /**
   * Every organization this context read: those of every user it read, the destination's, and those owning files of
   * the chats it deletes (F1, F3) (PlanHeader.organizations: a run in any of their journals since changes the plan).
   */
  organizationIds(): string[] {
    const owners = [...this.contents.values()].flatMap((c) => c.ownerOrganizationIds ?? []);
    return [...new Set([...this.organizations.keys(), ...owners])].sort();
  }

  /** An organization this context read (the subject's is always read: its grace period, D7, costs no request). */
  organization(id: string | null): Organization | undefined {
    return id ? this.organizations.get(id) : undefined;
  }

  private departs(u: User): boolean {
    return Boolean(this.departingOrganizationId) && u.organizationId === this.departingOrganizationId && !this.staying.has(u.id);
  }

  private async loadUsers(ids: Iterable<string>): Promise<void> {
    const missing = [...new Set(ids)].filter((id) => !this.users.has(id));
    if (missing.length === 0) return;
    const found = await getUsers(missing);
    for (const [id, u] of found) {
      this.users.set(id, this.departs(u) ? { ...u, status: 'deleted' } : u);
    }
    const orgs = [...found.values()].map((u) => u.organizationId).filter((o): o is string => Boolean(o) && !this.organizations.has(o!));
    await this.loadOrganizations(orgs);
  }

  /** Organizations a pass will need, read with the next organizations read (one BatchGetItem for both). */
  private readonly pendingOrganizations = new Set<string>();

  private loadPendingOrganizations(): Promise<void> {
    return this.loadOrganizations([]);
  }

  private async loadOrganizations(ids: Iterable<string>): Promise<void> {
    const missing = [...new Set([...ids, ...this.pendingOrganizations])].filter((id) => !this.organizations.has(id));
    this.pendingOrganizations.clear();
    if (missing.length > 0) for (const [id, o] of await getOrganizations(missing)) this.organizations.set(id, o);
  }

  private async loadAllowances(orgIds: string[]): Promise<void> {
    const missing = orgIds.filter((o) => !this.allowanceOrgs.has(o));
    if (missing.length === 0) return;
    for (const o of missing) this.allowanceOrgs.add(o);
    this.allowances = new Set([...this.allowances, ...(await readAllowances(missing))]);
  }

  private async views(
    chatIds: string[],
    uploads: ReadonlyMap<string, FileRef[]>,
    owners?: ReadonlyMap<string, MyChatOwner>,
  ): Promise<ChatView[]> {
    const missing = chatIds.filter((id) => !this.chatViews.has(id));
    if (missing.length > 0) {
      for (const { contents, ...view } of await readChatViews(missing, owners)) {
        this.chatViews.set(view.chat.id, view);
        if (contents) this.contents.set(view.chat.id, contents);
      }
    }
    await this.loadUsers(chatIds.flatMap((id) => this.chatViews.get(id)?.chat.members.map((m) => m.userId) ?? []));
    // the subject's own files (F1) are per subject; the chat's shape is shared
    return chatIds.flatMap((id) => {
      const view = this.chatViews.get(id);
      return view ? [{ ...view, subjectFiles: (uploads.get(id) ?? []).filter((f) => !f.ownerOrganizationId) }] : [];
    });
  }

  private async contentsOf(chatIds: string[]): Promise<Map<string, ChatContents>> {
    const missing = chatIds.filter((id) => !this.contents.has(id));
    if (missing.length > 0) for (const [id, c] of await readChatContents(missing)) this.contents.set(id, c);
    return new Map(chatIds.map((id) => [id, this.contents.get(id)!]));
  }

  private readonly indexes = new Map<string, SubjectIndex>();

  /** What the caller read already for its own checks (the same reads the plan would make): not read again. */
  know(known: KnownFacts): void {
    for (const o of known.organizations) this.organizations.set(o.id, o);
    for (const o of known.allowancesOf) this.allowanceOrgs.add(o);
    this.allowances = new Set([...this.allowances, ...known.allowances]);
  }

  /** A subject's index read already (the planning workflow reads it to choose how to plan): not read again. */
  knowIndex(userId: string, index: SubjectIndex): void {
    this.indexes.set(userId, index);
  }

  /**
   * Reads ahead for several subjects at once (a bulk batch): their indexes, the union of their chats and contacts,
   * so the plans that follow share every read (one BatchGetItem per 100 users or chats, one Query per chat).
   */
  async prefetch(subjects: readonly User[]): Promise<void> {
    const missing = subjects.filter((s) => !this.indexes.has(s.id));
    const read = await inParallel(missing, READ_CONCURRENCY, (s) => readSubjectIndex(s.id));
    missing.forEach((s, i) => this.indexes.set(s.id, read[i]!));
    for (const s of subjects) this.users.set(s.id, this.departs(s) ? { ...s, status: 'deleted' } : s);
    await this.loadOrganizations(subjects.map((s) => s.organizationId).filter((o): o is string => Boolean(o)));
    // B1: a My Chat only one of them lists is that subject's, deleted with it, and not read here (slice.ts ownedMyChat)
    const owners = new Map<string, MyChatOwner | undefined>();
    missing.forEach((s, i) => {
      for (const chatId of read[i]!.chatIds) owners.set(chatId, owners.has(chatId) ? undefined : { userId: s.id, ...read[i]! });
    });
    const owned = new Map([...owners].filter((e): e is [string, MyChatOwner] => Boolean(e[1])));
    for (const chatIds of chunk([...new Set(read.flatMap((r) => r.chatIds))], CHATS_PER_PASS)) await this.views(chatIds, new Map(), owned);
    await this.loadUsers(read.flatMap((r) => r.contacts));
  }

  /** The subject's plan: sorted, each effect once, with the chat of each file and task. */
  plan(request: PlanRequest): Promise<PlanEntry[]> {
    return this.asSubject(request.user, () => this.planFor(request));
  }

  /** `run` with the subject as it is (in a bulk batch the others see it as leaving): set for it, not copied per pass. */
  async asSubject<R>(subject: User, run: () => Promise<R>): Promise<R> {
    const seenByOthers = this.users.get(subject.id);
    this.users.set(subject.id, subject);
    try {
      return await run();
    } finally {
      if (seenByOthers) this.users.set(subject.id, seenByOthers);
      else this.users.delete(subject.id);
    }
  }

  private async planFor(request: PlanRequest): Promise<PlanEntry[]> {
    const subject = request.user;
    // CONTRACT.md `planning`: within a request the index is read no further than the budget, so a user past it is
    // left to the planning workflow (which reads it whole) after a bounded read, not after reading all of it
    const b = this.budget;
    const index =
      this.indexes.get(subject.id) ?? (await readSubjectIndex(subject.id, b ? { chats: b.maxChats, files: b.maxFiles } : undefined));
    if (index.truncated) throw new PlanTooLarge(`more than ${b?.maxChats} chats or ${b?.maxFiles} files: planned in the background`);
    this.withinBudget({ chats: index.chatIds.length, files: index.uploads.length + index.assignedTasks.length });
    const found = newFindings();
    await this.begin(request);
    await this.chatPasses(request, index.chatIds, index.uploads, found);
    await this.restPasses(request, restOf(index), found);
    return entriesOf(found);
  }

  /**
   * Before the first pass: the organizations and allowances every pass asks about. C1/C2: a transfer asks them of the
   * moved user, in the destination, and each other user (pairs with the destination: its allowances, stored under it
   * as under the other side); X3 of the successor, in the subject's organization, and each member of a chat it would
   * join. A deletion without a successor asks nothing of them.
   */
  async begin(request: PlanRequest): Promise<void> {
    const extraOrgs = request.operation === 'transfer' ? [request.destination.id] : [];
    // read with the organizations of the first users the chats name (the first pass needs them only then)
    for (const o of [request.user.organizationId, ...extraOrgs]) if (o) this.pendingOrganizations.add(o);
    const successorOrg = request.successor?.organizationId;
    await this.loadAllowances([...extraOrgs, ...(successorOrg ? [successorOrg] : [])]);
  }

  private base(request: PlanRequest): PlanSlice {
    return {
      subject: request.user,
      users: this.users,
      comm: { organizations: this.organizations, allowances: this.allowances },
      contacts: [],
      chats: [],
      assignedTasks: [],
      ...(request.successor ? { successor: request.successor } : {}),
    };
  }

  private run(request: PlanRequest, slice: PlanSlice): readonly Effect[] {
    return request.operation === 'transfer'
      ? transferEffects(slice, request.destination)
      : deletionEffects(slice, { contractCancelled: request.contractCancelled });
  }

  /**
   * The chats' passes, CHATS_PER_PASS at a time: each chat planned, then planned again with the contents (F2) of
   * those it deletes. `uploads`: the subject's files in these chats (F1). Independent of every other chat's pass: the
   * planning workflow runs them as a Map over slices of the user's chats (services/sliced-planning.ts).
   */
  async chatPasses(request: PlanRequest, chatIds: readonly string[], uploads: readonly FileRef[], found: Findings): Promise<void> {
    const byChat = new Map<string, FileRef[]>(); // F1: the subject's files by chat
    for (const f of uploads) {
      pushTo(byChat, f.chatId, f);
      found.chatOfFile.set(f.id, f.chatId);
    }
    const successorId = request.successor?.id;
    for (const page of chunk(chatIds, CHATS_PER_PASS)) {
      const chats = await this.views(page, byChat);
      await this.loadPendingOrganizations(); // none left once the chats' users were read
      this.withinBudget();
      const first = { effects: this.run(request, { ...this.base(request), chats }) };
      const gone = deletedChatIds(first);
      for (const id of chatsWithSuccessor(chats, first, successorId)) found.withSuccessor.add(id); // deleting changes no join
      if (gone.length === 0) {
        found.effects.push(...first.effects);
        continue;
      }
      const contents = await this.contentsOf(gone);
      this.withinBudget();
      for (const [chatId, c] of contents) {
        found.deleted.add(chatId);
        for (const id of c.fileIds) found.chatOfFile.set(id, chatId);
        for (const id of c.taskIds) found.chatOfTask.set(id, chatId);
      }
      found.effects.push(...this.run(request, { ...this.base(request), chats, deletedChatContents: contents }));
    }
  }

  /**
   * The passes after every chat's: contacts, then (X3) the successor in the chats of tasks outside the user's chats,
   * then D6 and F3, which depend on which chats every chat pass deleted (and X3 on which the successor is in).
   */
  async restPasses(request: PlanRequest, rest: RestOfIndex, found: Findings): Promise<void> {
    const subject = request.user;
    for (const t of rest.assignedTasks) if (!found.chatOfTask.has(t.id)) found.chatOfTask.set(t.id, t.chatId);
    for (const f of rest.uploads) if (!found.chatOfFile.has(f.id)) found.chatOfFile.set(f.id, f.chatId);
    for (const contacts of chunk(rest.contacts, CHATS_PER_PASS)) {
      await this.loadUsers(contacts);
      await this.loadPendingOrganizations();
      this.withinBudget();
      found.effects.push(...this.run(request, { ...this.base(request), contacts }));
    }
    const { successor } = request;
    if (successor) {
      // X3: a task assigned to the user in a chat the user is not in goes to the successor if the successor is in it
      for (const chatIds of chunk(rest.taskChatsElsewhere, CHATS_PER_PASS)) {
        for (const view of await this.views(chatIds, new Map()))
          if (view.chat.members.some((m) => m.userId === successor.id)) found.withSuccessor.add(view.chat.id);
      }
    }
    await this.loadPendingOrganizations();
    found.effects.push(
      ...this.run(request, {
        ...this.base(request),
        successorChatIds: found.withSuccessor,
        assignedTasks: rest.assignedTasks,
        uploads: rest.uploads.filter((f) => !f.ownerOrganizationId || f.ownerOrganizationId === subject.organizationId),
        deletedChatIds: found.deleted,
      }),
    );
  }
}

/** What a plan's passes found so far: their effects as found, and what later passes and the entries need. */
export interface Findings {
  effects: Effect[];
  /** Chats a pass deleted (D6 skips their tasks). */
  deleted: Set<string>;
  /** X3: chats the successor is in once the plan ran (D6 reassigns their tasks). */
  withSuccessor: Set<string>;
  chatOfFile: Map<string, string>;
  chatOfTask: Map<string, string>;
}

export const newFindings = (): Findings => ({
  effects: [],
  deleted: new Set(),
  withSuccessor: new Set(),
  chatOfFile: new Map(),
  chatOfTask: new Map(),
});

/** The part of a subject's index the passes after the chats' read (PlanningContext.restPasses). */
export interface RestOfIndex {
  contacts: string[];
  assignedTasks: Task[];
  /** F3 (bulk runs): the subject's uploads anywhere; empty for a single user's plan, which plans none by F3. */
  uploads: FileRef[];
  /** X3: the chats of tasks assigned to the user outside the user's own chats. */
  taskChatsElsewhere: string[];
}

export function restOf(index: SubjectIndex, withUploads = true): RestOfIndex {
  const own = new Set(index.chatIds);
  return {
    contacts: index.contacts,
    assignedTasks: index.assignedTasks,
    uploads: withUploads ? index.uploads : [],
    taskChatsElsewhere: [...new Set(index.assignedTasks.map((t) => t.chatId))].filter((id) => !own.has(id)),
  };
}

/** The passes' effects as one plan: sorted, each effect once, with the chat of each file and task. */
export function entriesOf(found: Findings): PlanEntry[] {
  return mergeEffectsInChats(found.effects, (effect) =>
    effect.kind === 'file-deleted' || effect.kind === 'file-handed-over'
      ? found.chatOfFile.get(effect.fileId)
      : effect.kind === 'task-deleted' || effect.kind === 'task-reassigned'
        ? found.chatOfTask.get(effect.taskId)
        : undefined,
  );
}

/**
 * Data a request read for its checks that its plan reads too: organizations, and every outside allowance of
 * `allowancesOf` (as readAllowances answers them). Read in the same request, just before the plan: the same reads.
 */
export interface KnownFacts {
  organizations: readonly Organization[];
  allowancesOf: readonly string[];
  allowances: ReadonlySet<string>;
  /** When those reads began: the plan's `readAt` (a run since then may have changed what it read). */
  readAt: string;
}

/** A plan, when its reads began, and the organizations of what it read (PlanHeader.organizations). */
export interface ComputedPlan {
  entries: PlanEntry[];
  organizations: string[];
  readAt: string;
}

export async function computeTransferPlan(
  user: User,
  destination: Organization,
  successor?: User,
  budget?: PlanBudget,
  known?: KnownFacts,
): Promise<ComputedPlan> {
  const readAt = known?.readAt ?? now();
  const context = new PlanningContext(undefined, undefined, budget);
  if (known) context.know(known);
  const entries = await context.plan({ operation: 'transfer', user, destination, ...(successor ? { successor } : {}) });
  return { entries, organizations: context.organizationIds(), readAt };
}

/** Also the user's organization as the plan read it (its grace period, D7). */
export async function computeDeletionPlan(
  user: User,
  successor?: User,
  budget?: PlanBudget,
): Promise<ComputedPlan & { organization?: Organization }> {
  const readAt = now();
  const context = new PlanningContext(undefined, undefined, budget);
  return planIn(context, { operation: 'deletion', user, ...(successor ? { successor } : {}) }, readAt);
}

/** The request's plan in `context`, with what it read (and the user's organization as read: D7's grace period). */
export async function planIn(
  context: PlanningContext,
  request: PlanRequest,
  readAt: string,
): Promise<ComputedPlan & { organization?: Organization }> {
  const entries = await context.plan(request);
  const organization = context.organization(request.user.organizationId);
  return { entries, organizations: context.organizationIds(), readAt, ...(organization ? { organization } : {}) };
}

/**
 * X1: the plan stored under `planId`, if it still holds: no run (but `runId`'s own) changed the members of any
 * organization it read since its reads began, so computing it again would read the same data and give the same
 * plan. Otherwise undefined: plan again.
 */
export async function stillCurrent(planId: string | undefined, runId: string): Promise<PlanHeader | undefined> {
  if (!planId) return undefined;
  const header = await readPlanHeader(planId);
  return header && (await holds(header, runId)) ? header : undefined;
}

/** The same for a header at hand: no run but `runId`'s own was in its organizations' journals since its reads began. */
export async function holds(header: PlanHeader, runId: string): Promise<boolean> {
  return !(await otherRunsOverlapped(runId, header.organizations, header.readAt));
}

/**
 * `holds` for a plan an operation keeps: through the counters a check recorded for it (one read), if one did;
 * otherwise its journals, and then the counters are recorded (read first) for the next check (`quiet`).
 */
export async function keptPlanHolds(
  op: OperationRecord,
  header: PlanHeader,
  ahead?: ReadAhead,
): Promise<{ holds: boolean; quiet?: RunsQuiet }> {
  const recorded = op.planQuiet;
  if (recorded?.planId === header.id && header.organizations) {
    const still = await stillQuiet(op, recorded, header.organizations, ahead);
    return still ? { holds: true, quiet: recorded } : { holds: false };
  }
  const counters = await quietSince(op.id, header.organizations, header.readAt, ahead);
  return counters ? { holds: true, quiet: { planId: header.id, counters, runCount: op.runCount } } : { holds: false };
}

/**
 * X1: `previewHolds`, with the run counters of the organizations the preview read as they were before their journals
 * were read (store/operations.ts quietSince), for the operation that takes its plan; undefined when it does not hold.
 */
export async function previewQuiet(
  preview: PlanHeader,
  successorId: string | undefined,
  runId: string,
  ahead?: ReadAhead,
): Promise<Record<string, number> | undefined> {
  return recordedFor(preview, successorId) ? quietSince(runId, preview.organizations, preview.readAt, ahead) : undefined;
}

/** A saved preview that recorded what it read (and when) and names the same successor (X3): one that can still hold. */
const recordedFor = (preview: PlanHeader, successorId: string | undefined) =>
  Boolean(preview.organizations && preview.readAt) && (preview.successorId ?? undefined) === (successorId ?? undefined);

/**
 * X1: a saved preview that still holds for a request naming `successorId`: it recorded what it read (and when), names
 * the same successor (X3), and `holds`. Its plan is then what planning again would give.
 */
export async function previewHolds(preview: PlanHeader, successorId: string | undefined, runId: string): Promise<boolean> {
  return recordedFor(preview, successorId) && holds(preview, runId);
}
