import { effectIds, mergeEffectsInChats, settledChatOf, type Effect } from '../domain/impact.js';
import { batchAffectedEvents, deliverPending, flushPending, publish, runOutboxEntry } from './events.js';
import { decideRunTransition, type RunActor, type RunTransition } from '../domain/lifecycle/bulk-run.js';
import { now, nowMs } from '../shared/clock.js';
import { isPresent, type User } from '../domain/model.js';
import { cancelScheduledForContract } from './grace.js';
import { Conflict, Forbidden } from '../shared/errors.js';
import { logger } from '../shared/logger.js';
import { DELETE_OBJECTS_LIMIT } from '../store/batch.js';
import { settleChats } from './settle.js';
import { countMembers, getLocks } from '../store/locks.js';
import { auditOf, failedOrganizationOperations, getOperation, journalBegin, journalEnd, otherRunsOverlapped } from '../store/operations.js';
import { writePlan, readPlanHeader, readPlanPages, type PlanEntry, type PlanHeader } from '../store/plans.js';
import {
  addSkipped,
  batchesOf,
  beginDeleting,
  changeRunStatus,
  endBatch,
  getBatch,
  getRun,
  listRuns,
  putBatch,
  restartRun,
  updateRun,
  type BatchRecord,
  type RunRecord,
  clearCancellationRunning,
  markCancellationRunning,
} from '../store/runs.js';
import { bulkExecutionEnded, startBulkExecution } from './executions.js';
import { memberPageAfter, readMemberPage, readOwnedFilesPage } from '../store/slice.js';
import { getUsers, recountOrganization } from '../store/table.js';
import { applyEntries, countByKindAndRule, DELETION_PHASES } from './phases.js';
import { PlanningContext } from './planning.js';
import { cancelFailedDeletionBySystem } from './deletions.js';
import { cancelBySystem, cancelFailedBySystem, incomingTransfers } from './transfers.js';

/**
 * B1, F3: a cancelled contract deletes every member. Members are taken from the organization's members index in
 * batches; a batch is planned as a whole (the one planner, each member seeing the organization's other members as
 * leaving too, so shared chats are settled by the plan itself), stored once, then applied with the deletion phases
 * and appliers the single deletion uses: writes and S3 deletes gathered across the batch. Progress is counted once
 * per batch; failures are kept per member.
 */
export const BATCH_SIZE = 500;
/** Ids listed per kind in a batch's audit entry. */
const AUDIT_IDS = 5000;
/** Effects a batch plans before it ends early (members with many chats and files): a batch's invocation stays bounded. */
export const BATCH_WORK = 20_000;

const cancelled = (organizationId: string) => ({
  code: 'contract-cancelled',
  message: `B1: the contract of ${organizationId} was cancelled`,
  rule: 'B1',
});

const encodeCursor = (key: Record<string, unknown> | undefined) =>
  key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;
const decodeCursor = (cursor: string | undefined) =>
  cursor ? (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>) : undefined;

/** A batch's id (its plan and journal entry): the run, its attempt once resumed, the batch number. */
const batchId = (runId: string, attempt: number, n: number) => `${runId}.b${n}${attempt ? `r${attempt}` : ''}`;

/** The run's current attempt (0 until it is resumed). */
const attemptOf = async (runId: string) => (await getRun(runId))?.attempt ?? 0;

/**
 * Every status change of a run goes through its lifecycle (domain/lifecycle/bulk-run.ts): who may make it and what
 * must hold; the store writes it conditional on the status read here, so a change that lost a race is a Conflict.
 */
async function transitionRun(
  run: RunRecord,
  transition: RunTransition,
  actor: RunActor,
  set: Partial<RunRecord> = {},
  remove: (keyof RunRecord)[] = [],
): Promise<RunRecord> {
  const verdict = decideRunTransition(run, transition, actor, nowMs());
  if (!verdict.ok) throw verdict.reason === 'forbidden' ? new Forbidden(verdict.message) : new Conflict(verdict.message);
  // docs/EVENTS.md, at least once: the transition's outbox entry (the run as it leaves it) in the write that commits
  // it; its events go out after, with any an earlier invocation left undelivered on the run
  const after = { ...run, ...set, status: verdict.to } as RunRecord;
  for (const k of remove) delete after[k];
  const entry = runOutboxEntry(after, transition, actor === 'system' ? 'system' : String(set.confirmedBy ?? actor));
  const changed = await changeRunStatus(run.id, [run.status], verdict.to, set, {
    notDeleting: transition === 'reinstate',
    remove,
    outbox: [entry],
  });
  await deliverPending(changed);
  if (changed.status !== 'running') await clearCancellationRunning(run.organizationId, run.id); // its members may move again
  return changed;
}

const swallowConflict = (e: unknown) => (e instanceof Conflict ? undefined : Promise.reject(e));

/**
 * StartRun: counts the members and cancels transfers into this organization not yet run (awaiting approval or a
 * seat), and failed ones (O2 would otherwise let them resume into a cancelled organization). A run no longer
 * running (cancelled before its execution began, B4) stops here: `stopped`, nothing changed.
 */
export async function startRun(runId: string, organizationId: string) {
  const run = await flushPending(await getRun(runId)); // docs/EVENTS.md: what the run's creation or confirmation left
  if (run?.status !== 'running') return { total: run?.total ?? 0, stopped: true };
  await markCancellationRunning(organizationId, runId); // O3: from now on no member moves out until the run ends
  await finishFailedBatches(runId, organizationId);
  const unfinished = await failedMemberOperations(organizationId);
  const total = (await countMembers(organizationId)) + ((await getRun(runId))?.skipped ?? 0);
  for (const op of await incomingTransfers(organizationId)) await cancelBySystem(op, cancelled(organizationId)).catch(swallowConflict);
  for (const op of await failedOrganizationOperations(organizationId, 'incoming'))
    await cancelFailedBySystem(op, cancelled(organizationId)).catch(swallowConflict);
  await updateRun(runId, { total, ...(unfinished.size ? { unfinished: { ...run.unfinished, ...Object.fromEntries(unfinished) } } : {}) });
  return { total };
}

/**
 * O2 meets B1: the members' failed deletions and failed transfers out, by user. Their locks went when they failed,
 * and a deletion that failed after user-deleted landed leaves its member marked deleted with chats, contacts and
 * tasks still to go: the batch that takes such a member plans it from current data (the rest of it) and cancels the
 * failed operation, which could never be resumed once its member is gone.
 */
async function failedMemberOperations(organizationId: string): Promise<Map<string, string>> {
  const failed = [
    ...(await failedOrganizationOperations(organizationId, 'deletion')),
    ...(await failedOrganizationOperations(organizationId, 'outgoing')),
  ];
  return new Map(failed.map((op) => [op.userId, op.id]));
}

/** O3: the members of `userIds` who are no longer in the organization, each with the reason; never deleted. */
function leavers(userIds: readonly string[], users: Map<string, User>, organizationId: string): NonNullable<BatchRecord['skipped']> {
  return userIds.flatMap((id) => {
    const u = users.get(id);
    if (!u || u.organizationId === organizationId) return [];
    return [
      {
        userId: id,
        rule: 'O3' as const,
        reason: `O3: ${id} left ${organizationId} (now ${u.organizationId ? `in ${u.organizationId}` : 'without an organization'}) after the run was planned`,
      },
    ];
  });
}

/**
 * O3: a batch's stored plan, if every member it planned (but those it skipped or failed) is still in the organization;
 * otherwise the batch is planned again from current data for those still there (with the files the previous batch
 * handed on), and the leavers are skipped, reported and recorded on the batch (FinishRun recounts where they went).
 */
async function entriesOfMembersStill(
  batch: BatchRecord,
  organizationId: string,
  header: PlanHeader,
  { failedPlanned, unfinished = {} }: { failedPlanned: boolean; unfinished?: RunRecord['unfinished'] },
): Promise<{ entries: PlanEntry[]; skipped: NonNullable<BatchRecord['skipped']>; replanned: boolean; planId?: string }> {
  // members already skipped, those another operation held (MemberBusy: never deleted under it), and (unless the
  // batch failed as a whole after planning them) those that could not be planned
  const known = new Set([
    ...(batch.skipped ?? []).map((k) => k.userId),
    ...batch.failures.filter((f) => !failedPlanned || f.error.startsWith('MemberBusy')).map((f) => f.userId),
  ]);
  const users = await getUsers(batch.userIds);
  const left = leavers(
    batch.userIds.filter((id) => !known.has(id)),
    users,
    organizationId,
  );
  if (left.length === 0)
    return {
      entries: (
        await readPlanPages(
          batch.planId!,
          header.pages.map((_, i) => i),
        )
      ).flat(),
      skipped: batch.skipped ?? [],
      replanned: false,
    };
  // still members; one the failed batch deleted already is planned too (what its plan had left of it is applied)
  const staying = batch.userIds.flatMap((id) =>
    !known.has(id) && users.get(id)?.organizationId === organizationId && (failedPlanned || isPresent(users.get(id)) || id in unfinished)
      ? [users.get(id)!]
      : [],
  );
  const carried = batch.n > 0 ? ((await getBatch(batch.runId, batch.n - 1, batch.attempt ?? 0))?.carry ?? []) : [];
  const context = new PlanningContext(organizationId, new Set([...known].filter((id) => !left.some((k) => k.userId === id))));
  await context.prefetch(staying);
  const { entries } = await planMembers(context, staying, carried);
  const skipped = [...(batch.skipped ?? []), ...left];
  // the new plan is stored and named on the batch before anything is applied: a retry or a resumption applies it,
  // never the old one that still holds the leavers' effects
  const planId = `${batch.planId}s${skipped.length}`;
  await writePlan({ id: planId, operation: 'deletion', userId: `${organizationId}:batch-${batch.n}`, readAt: now() }, entries);
  // a batch that ends now counts its skipped members as it ends (endBatch); a failed one finished on resumption, here
  if (failedPlanned) await addSkipped(batch.runId, left.length);
  await putBatch({ ...batch, skipped, planId });
  return { entries, skipped, replanned: true, planId };
}

/**
 * One batch's plan: every member deleted (each seeing the others as leaving, so shared chats are settled by the plan
 * itself), with the files the previous batch handed on; it ends early once it holds `budget` effects. A member that
 * cannot be planned fails alone.
 */
async function planMembers(
  context: PlanningContext,
  members: readonly User[],
  carried: NonNullable<BatchRecord['carry']>,
  budget = Number.POSITIVE_INFINITY,
) {
  const effects: Effect[] = [];
  const chatOf = new Map<string, string>();
  const failures: BatchRecord['failures'] = [];
  for (const c of carried) {
    const effect: Effect = { kind: 'file-deleted', rule: c.rule, fileId: c.fileId };
    effects.push(effect);
    chatOf.set(JSON.stringify(effect), c.chatId);
  }
  let planned = members.length;
  for (const [i, member] of members.entries()) {
    if (effects.length >= budget) {
      planned = i;
      break;
    }
    try {
      for (const entry of await context.plan({ operation: 'deletion', user: member, contractCancelled: true })) {
        effects.push(entry.effect);
        if (entry.chatId) chatOf.set(JSON.stringify(entry.effect), entry.chatId);
      }
    } catch (error) {
      failures.push({ userId: member.id, error: `${(error as Error).name}: ${(error as Error).message}` });
    }
  }
  const entries: PlanEntry[] = mergeEffectsInChats(effects, (effect) => chatOf.get(JSON.stringify(effect)));
  return { entries, failures, planned };
}

/**
 * A resumed run first finishes the previous attempt's failed batches: a batch that stopped part way may have deleted
 * members whose chats, contacts and tasks were still to go, and the new attempt's batches pass deleted members as
 * done. Its stored plan is applied again (idempotent appliers) only while every member of it is still in the
 * organization; when one left meanwhile (O3), the batch is planned again from current data for those still there,
 * and the leavers are skipped and reported.
 */
async function finishFailedBatches(runId: string, organizationId: string): Promise<void> {
  const attempt = await attemptOf(runId);
  if (attempt === 0) return;
  for (const batch of await batchesOf(runId, attempt - 1)) {
    if (batch.status !== 'failed' || !batch.planId) continue;
    const header = await readPlanHeader(batch.planId);
    if (!header) continue;
    const { entries, skipped, replanned } = await entriesOfMembersStill(batch, organizationId, header, { failedPlanned: true });
    const applied = await applyEntries(entries, DELETION_PHASES, { bulk: true, organizationId });
    await auditOf(
      { runId },
      {
        event: 'batch-finished',
        batch: batch.n,
        attempt: attempt - 1,
        planId: batch.planId,
        ...(replanned ? { replanned, skipped } : {}),
        applied: countByKindAndRule(applied),
      },
    );
  }
}

/**
 * A member's own pending operation is cancelled (the contract is over); one already running makes the member fail. A
 * failed one (no lock left) is cancelled too: the batch applies what it had left (X2: its trail names the run).
 */
async function clearPendingOperations(
  runId: string,
  organizationId: string,
  members: User[],
  unfinished: Record<string, string>,
): Promise<Map<string, string>> {
  const busy = new Map<string, string>();
  for (const member of members) {
    const failed = unfinished[member.id] ? await getOperation(unfinished[member.id]!) : undefined;
    if (failed?.status !== 'failed') continue;
    const cancel = failed.operation === 'deletion' ? cancelFailedDeletionBySystem : cancelFailedBySystem;
    await cancel(failed, cancelled(organizationId), { restAppliedBy: runId }).catch(swallowConflict);
  }
  for (const lock of await getLocks(members.map((m) => m.id))) {
    const other = await getOperation(lock.operationId);
    if (!other) continue;
    if (other.status === 'running') busy.set(lock.userId, `MemberBusy: operation ${other.id} is running on this member`);
    // B1 ignores the grace period (D7): the scheduled deletion is cancelled, its suspended member deleted now
    else if (other.status === 'scheduled')
      await cancelScheduledForContract(other, runId, cancelled(organizationId)).catch((e) =>
        e instanceof Conflict ? undefined : Promise.reject(e),
      );
    else await cancelBySystem(other, cancelled(organizationId)).catch((e) => (e instanceof Conflict ? undefined : Promise.reject(e)));
  }
  return busy;
}

/** Plans one batch: every member still active in the organization; a member that cannot be planned fails alone. */
async function planBatch(
  runId: string,
  attempt: number,
  organizationId: string,
  n: number,
  cursor: string | undefined,
  unfinished: NonNullable<RunRecord['unfinished']>,
): Promise<BatchRecord> {
  const readAt = now();
  const page = await readMemberPage(organizationId, BATCH_SIZE, decodeCursor(cursor));
  const users = await getUsers(page.userIds);
  // moved out meanwhile: skipped and reported (O3); deleted earlier: nothing to do, counted done, unless its own
  // deletion failed part way (B1, F3 delete it whole: it is planned from current data, the rest of it)
  const members = page.userIds
    .map((id) => users.get(id))
    .filter((u): u is User => u?.organizationId === organizationId && (isPresent(u) || u.id in unfinished));
  const skipped = leavers(page.userIds, users, organizationId);
  const failures = [...(await clearPendingOperations(runId, organizationId, members, unfinished))].map(([userId, error]) => ({
    userId,
    error,
  }));
  // files the previous batch handed on (see BatchRecord.carry) are part of this batch's plan
  const carried = n > 0 ? ((await getBatch(runId, n - 1, attempt))?.carry ?? []) : [];
  // a member that fails stays, as far as the others' plans go: its chats are not deleted under it
  const context = new PlanningContext(organizationId, new Set(failures.map((f) => f.userId)));
  await context.prefetch(members.filter((m) => !failures.some((f) => f.userId === m.id)));
  // the batch ends early once its plan holds BATCH_WORK effects: the next batch starts after the last member planned
  const planning = members.filter((m) => !failures.some((f) => f.userId === m.id));
  const plan = await planMembers(context, planning, carried, BATCH_WORK);
  failures.push(...plan.failures);
  const taken = plan.planned < planning.length ? page.userIds.indexOf(planning[plan.planned]!.id) : page.userIds.length;
  const userIds = page.userIds.slice(0, taken);
  const next =
    taken < page.userIds.length ? encodeCursor(memberPageAfter(organizationId, userIds[userIds.length - 1]!)) : encodeCursor(page.next);
  const entries = plan.entries;
  const planId = batchId(runId, attempt, n);
  await writePlan(
    { id: planId, operation: 'deletion', userId: `${organizationId}:batch-${n}`, readAt, organizations: context.organizationIds() },
    entries,
  );
  const batch: BatchRecord = {
    runId,
    n,
    ...(attempt ? { attempt } : {}),
    ...(cursor ? { cursor } : {}),
    ...(next ? { next } : {}),
    userIds,
    failures: failures.filter((f) => userIds.includes(f.userId)),
    skipped: skipped.filter((k) => userIds.includes(k.userId)),
    status: 'planned',
    planId,
    readAt,
  };
  await journal(batch, organizationId, 'start');
  await putBatch(batch);
  return batch;
}

/** A bulk batch is a run in its organization's journal too, so operations beside it settle the chats it touched, and it theirs. */
async function journal(batch: BatchRecord, organizationId: string, at: 'start' | 'end') {
  const id = batchId(batch.runId, batch.attempt ?? 0, batch.n);
  if (at === 'start') await journalBegin(id, [organizationId], batch.readAt!);
  else await journalEnd(id, [organizationId], batch.readAt);
}

/** DeleteBatch: plans (once) and applies one batch, counts it, and says where the next starts. */
export async function deleteBatch(runId: string, organizationId: string, n: number, cursor: string | undefined) {
  // B4: an operator's cancellation (or a reinstated contract) stops the run before its next batch; the rest stays
  if (!(await beginDeleting(runId))) return { n, stopped: true };
  const run = await flushPending(await getRun(runId)); // docs/EVENTS.md: the outbox's retry path
  const attempt = run?.attempt ?? 0;
  const unfinished = run?.unfinished ?? {};
  const batch = (await getBatch(runId, n, attempt)) ?? (await planBatch(runId, attempt, organizationId, n, cursor, unfinished));
  if (batch.status === 'planned') {
    // O3: members who left since the batch was planned are skipped, and the batch planned again without them
    const header = (await readPlanHeader(batch.planId!))!;
    const {
      entries,
      skipped,
      planId = batch.planId,
    } = await entriesOfMembersStill(batch, organizationId, header, { failedPlanned: false, unfinished });
    // S3 deletes in whole requests: what is left past the last 1,000 goes to the next batch (the last batch takes all)
    const files = entries.filter((e) => e.effect.kind === 'file-deleted' && e.chatId);
    const handOn = batch.next ? files.slice(Math.floor(files.length / DELETE_OBJECTS_LIMIT) * DELETE_OBJECTS_LIMIT) : [];
    const leave = new Set(handOn.map((e) => (e.effect as { fileId: string }).fileId));
    const applied = await applyEntries(leave.size ? entries.filter((e) => !handOn.includes(e)) : entries, DELETION_PHASES, {
      bulk: true,
      leave,
      organizationId,
    });
    const failed = batch.failures.length;
    const carry = handOn.map((e) => ({ fileId: (e.effect as { fileId: string }).fileId, chatId: e.chatId!, rule: e.effect.rule }));
    // G2, D4, D5: another run beside this batch may have planned against members it deleted (as in lifecycle.finalize)
    if (await otherRunsOverlapped(batchId(runId, attempt, n), header.organizations, batch.readAt)) {
      await settleChats(applied.flatMap((e) => settledChatOf(e.effect) ?? []));
    }
    // docs/EVENTS.md: one Affected per person the batch's effects name, before the batch is recorded done: a batch
    // stopped in between is applied again by its retry and puts the same events again (same ids), none is lost
    const told = { runId, id: batchId(runId, attempt, n), n, attempt, organizationId, userIds: batch.userIds };
    await publish(batchAffectedEvents(told, applied));
    await endBatch(
      { ...batch, skipped, carry, planId },
      'done',
      batch.userIds.length - failed - skipped.length,
      failed,
      batch.failures,
      skipped.length,
    );
    await journal(batch, organizationId, 'end');
    // X2: what the batch deleted, by id, so an operator can answer "why is this file gone?"
    // (an entry stays far under DynamoDB's 400 KB: past AUDIT_IDS ids a list is cut; the batch's stored plan has them all)
    const ids = (kind: string) =>
      applied
        .filter((e) => e.effect.kind === kind)
        .map((e) => effectIds(e.effect).join(' '))
        .slice(0, AUDIT_IDS);
    await auditOf(
      { runId },
      {
        event: 'batch-deleted',
        batch: n,
        planId,
        members: batch.userIds,
        failures: batch.failures,
        ...(skipped.length ? { skipped } : {}),
        applied: countByKindAndRule(applied),
        filesDeleted: ids('file-deleted'),
        chatsDeleted: ids('chat-deleted'),
        carriedToNextBatch: carry.map((c) => c.fileId),
      },
    );
    logger.info('batch deleted', { runId, batch: n, members: batch.userIds.length, failed, applied: countByKindAndRule(applied) });
  }
  return { n: n + 1, ...(batch.next ? { cursor: batch.next } : {}) };
}

/** RecordBatchFailed (the Catch of DeleteBatch): each member of the batch is counted failed, with the error; the run goes on. */
export async function recordBatchFailed(
  runId: string,
  organizationId: string,
  n: number,
  cursor: string | undefined,
  error: { Error?: string; Cause?: string },
) {
  const reason = `${error.Error ?? 'Error'}: ${error.Cause ?? ''}`.slice(0, 500);
  const attempt = await attemptOf(runId);
  let batch = await getBatch(runId, n, attempt);
  if (!batch) {
    const page = await readMemberPage(organizationId, BATCH_SIZE, decodeCursor(cursor));
    batch = {
      runId,
      n,
      ...(attempt ? { attempt } : {}),
      ...(cursor ? { cursor } : {}),
      ...(page.next ? { next: encodeCursor(page.next) } : {}),
      userIds: page.userIds,
      failures: [],
      status: 'planned',
    };
  }
  if (batch.status === 'planned') {
    const failures = batch.userIds.map((userId) => batch!.failures.find((f) => f.userId === userId) ?? { userId, error: reason });
    // files the previous batch handed on are handed on again, not lost with this batch; after the last batch they go now
    const carry = n > 0 ? ((await getBatch(runId, n - 1, attempt))?.carry ?? []) : [];
    if (!batch.next && carry.length > 0) {
      await applyEntries(
        carry.map((c) => ({ effect: { kind: 'file-deleted', rule: c.rule, fileId: c.fileId }, chatId: c.chatId })),
        ['HandleFiles'],
      ).catch((e) =>
        logger.error('files handed on by the previous batch could not be deleted', {
          runId,
          batch: n,
          error: (e as Error).message,
          files: carry.map((c) => c.fileId),
        }),
      );
    }
    await endBatch({ ...batch, carry: batch.next ? carry : [] }, 'failed', 0, batch.userIds.length, failures);
    await journal(batch, organizationId, 'end');
  }
  return { n: n + 1, ...(batch.next ? { cursor: batch.next } : {}) };
}

/** Owned files deleted per DeleteOwnedFiles invocation (one DeleteObjects request). */
const OWNED_FILES_PAGE = 1000;

/**
 * DeleteOwnedFiles: F3 as RULES.md reads it: the organization's files are also those handed over to it (F1) by
 * members who left or were deleted; they go too, a page at a time (bytes first). Files it handed over to another
 * organization are that organization's and stay.
 */
export async function deleteOwnedFiles(runId: string, organizationId: string, cursor: string | undefined) {
  if ((await getRun(runId))?.status !== 'running') return {}; // B4: cancelled meanwhile: nothing more is deleted
  const page = await readOwnedFilesPage(organizationId, OWNED_FILES_PAGE, decodeCursor(cursor));
  const entries: PlanEntry[] = page.files.map((f) => ({ effect: { kind: 'file-deleted', rule: 'F3', fileId: f.id }, chatId: f.chatId }));
  if (entries.length > 0) {
    // X1: in the organization's journal while its files go, so a plan that read one of them (in a chat it deletes,
    // F2: PlanHeader.organizations names its owner) is planned again rather than kept
    const journalId = `${runId}.F3`;
    const startedAt = now();
    await journalBegin(journalId, [organizationId], startedAt);
    await applyEntries(entries, ['HandleFiles']);
    await journalEnd(journalId, [organizationId], startedAt);
    await auditOf(
      { runId },
      { event: 'owned-files-deleted', rule: 'F3', organizationId, files: entries.map((e) => (e.effect as { fileId: string }).fileId) },
    );
  }
  const next = encodeCursor(page.next);
  return next ? { cursor: next } : {};
}

/**
 * FinishRun: the organization's counters are set once (D1 does not hold back a cancelled contract), and those of the
 * organizations skipped members moved to (O3), and the outcome. A run cancelled meanwhile (B4) stays cancelled.
 */
export async function finishRun(runId: string) {
  const run = (await flushPending(await getRun(runId)))!; // docs/EVENTS.md: the outbox's retry path
  await recountOrganization(run.organizationId);
  const moved = new Set<string>();
  for (const batch of [...(await batchesOf(runId, run.attempt ?? 0)), ...(run.attempt ? await batchesOf(runId, run.attempt - 1) : [])]) {
    for (const k of batch.skipped ?? []) moved.add(k.userId);
  }
  const movedTo = new Set(
    [...(await getUsers(moved)).values()].map((u) => u.organizationId).filter((o): o is string => Boolean(o) && o !== run.organizationId),
  );
  for (const org of movedTo) await recountOrganization(org);
  if (run.status !== 'running') {
    // a retry after its transition committed (the invocation stopped before the mark went): B1's guard lifted now
    await clearCancellationRunning(run.organizationId, run.id);
    return { status: run.status };
  }
  const failed = run.failed > 0;
  const ended = await transitionRun(
    run,
    failed ? 'fail' : 'succeed',
    'system',
    failed
      ? {
          failedAt: now(),
          error: { code: 'members-failed', message: `${run.failed} of ${run.total} members could not be deleted`, rule: 'B1' },
        }
      : {},
  ).catch((e) => (e instanceof Conflict ? getRun(runId).then((r) => r!) : Promise.reject(e)));
  return { status: ended.status };
}

export async function failRun(runId: string, error: { Error?: string; Cause?: string }) {
  const run = await flushPending(await getRun(runId)); // docs/EVENTS.md: what a FinishRun stopped after its commit left
  if (!run) return;
  if (run.status !== 'running') {
    // cancelled meanwhile (B4), or ended by a FinishRun that stopped after its commit: it stays so, unmarked
    await clearCancellationRunning(run.organizationId, run.id);
    return;
  }
  await transitionRun(run, 'fail', 'system', {
    failedAt: now(),
    error: { code: error.Error ?? 'Error', message: error.Cause ?? '', rule: 'B1' },
  }).catch(swallowConflict);
}

/** Who acts on a run through the API: an operator (an active user with scope `offboard/operator`) or an administrator. */
export interface RunCaller {
  id: string;
  operator: boolean;
}
const actorOf = (caller: RunCaller): RunActor => (caller.operator ? 'operator' : 'admin');
const byOf = (caller: RunCaller) => (caller.operator ? `operator:${caller.id}` : caller.id);

/**
 * POST /billing-runs/{id}/resumption (O2, O3): an operator resumes a failed run within 7 days of its failure: a new
 * execution of the cancellation state machine (named after the attempt) whose batches pass the members deleted
 * already as done and skip those who left. The run's trail records who resumed it and what was left.
 */
export async function resumeRun(run: RunRecord, caller: RunCaller) {
  if (run.status === 'running' && (await bulkExecutionEnded(run.id, run.attempt ?? 0))) {
    // its execution ended without recording the outcome (FailRun itself failed): it failed
    const error = { code: 'ExecutionEnded', message: 'the execution ended without recording its outcome', rule: 'B1' };
    run = await transitionRun(run, 'fail', 'system', { failedAt: run.updatedAt, error });
  }
  const verdict = decideRunTransition(run, 'resume', actorOf(caller), nowMs());
  if (!verdict.ok) throw verdict.reason === 'forbidden' ? new Forbidden(verdict.message) : new Conflict(verdict.message);
  const attempt = (run.attempt ?? 0) + 1;
  const left = {
    'members-failed (B1)': run.failed,
    'members-unfinished (B1)': Math.max(0, run.total - run.done - run.failed - (run.skipped ?? 0)),
  };
  // failed → running, conditional on the status and the attempt, with the resumption's outbox entry (docs/EVENTS.md)
  const at = now();
  const { error: _error, failedAt: _failedAt, ...kept } = run;
  const resumed = { ...kept, status: 'running' as const, attempt, done: 0, failed: 0, skipped: 0, updatedAt: at };
  await deliverPending(await restartRun(run.id, attempt, at, [runOutboxEntry(resumed, 'resume', byOf(caller))]));
  await auditOf({ runId: run.id }, { event: 'resumed', by: byOf(caller), rule: 'O2', attempt, left, error: run.error });
  await startBulkExecution(run.id, run.organizationId, `${run.id}-resume${attempt}`); // the name bulkExecutionEnded reads
  return runView((await getRun(run.id))!);
}

/** POST /billing-runs/{id}/confirmation (B4): an operator lets a run above the threshold start. */
export async function confirmRun(run: RunRecord, caller: RunCaller) {
  const running = await transitionRun(run, 'confirm', actorOf(caller), { confirmedBy: byOf(caller) });
  await auditOf({ runId: run.id }, { event: 'confirmed', by: byOf(caller), rule: 'B4', members: run.total });
  try {
    await startBulkExecution(run.id, run.organizationId);
  } catch (error) {
    await transitionRun(running, 'fail', 'system', {
      failedAt: now(),
      error: { code: 'ExecutionNotStarted', message: (error as Error).message, rule: 'B4' },
    });
    throw error;
  }
  return runView(running);
}

/**
 * POST /billing-runs/{id}/cancellation (B4, O2): an operator cancels a run that has not finished, or a failed one.
 * Members not yet deleted stay: a running execution stops before its next batch (DeleteBatch reads the status).
 */
export async function cancelRun(run: RunRecord, caller: RunCaller) {
  const cancelledRun = await transitionRun(run, 'cancel', actorOf(caller), {
    error: { code: 'cancelled', message: `B4: cancelled by ${byOf(caller)}; members not yet deleted stay`, rule: 'B4' },
  });
  await auditOf(
    { runId: run.id },
    { event: 'cancelled', by: byOf(caller), rule: 'B4', from: run.status, done: run.done, failed: run.failed },
  );
  return runView(cancelledRun);
}

/** B4: `Contract Reinstated` cancels the organization's contract-cancellation runs that have not started deleting. */
export async function cancelRunsOnReinstatement(organizationId: string, eventId: string): Promise<{ cancelled: string[]; kept: string[] }> {
  const cancelledIds: string[] = [];
  const kept: string[] = [];
  let after: string | undefined;
  do {
    const page = await listRuns({ organizationId, limit: 100, ...(after ? { after } : {}) });
    for (const run of page.runs) {
      if (run.status !== 'awaiting-confirmation' && run.status !== 'running') continue;
      try {
        await transitionRun(run, 'reinstate', 'system', {
          error: {
            code: 'contract-reinstated',
            message: `B4: the contract of ${organizationId} was reinstated (event ${eventId})`,
            rule: 'B4',
          },
        });
        await auditOf({ runId: run.id }, { event: 'cancelled', by: 'system', rule: 'B4', reason: 'contract-reinstated', eventId });
        cancelledIds.push(run.id);
      } catch (error) {
        if (!(error instanceof Conflict)) throw error;
        kept.push(run.id); // it started deleting (or ended) meanwhile
      }
    }
    after = page.next;
  } while (after);
  return { cancelled: cancelledIds, kept };
}

/** The run as the API shows it: progress (done, failed, remaining) and outcome. */
export function runView(run: RunRecord) {
  return {
    id: run.id,
    kind: run.kind,
    organizationId: run.organizationId,
    eventId: run.eventId,
    status: run.status,
    total: run.total,
    done: run.done,
    failed: run.failed,
    skipped: run.skipped ?? 0,
    remaining: Math.max(0, run.total - run.done - run.failed - (run.skipped ?? 0)),
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    ...(run.error ? { error: run.error } : {}),
    ...(run.gracePeriodIgnored ? { gracePeriodIgnored: run.gracePeriodIgnored } : {}),
  };
}
