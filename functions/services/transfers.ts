import { requestOperation } from './requests.js';
import { premiseViolation } from '../domain/lifecycle/operation.js';
import type { Reason } from '../domain/eligibility.js';
import { Conflict, NotFound, Unauthenticated } from '../shared/errors.js';
import { clearMarkers, markedTransfers, markIncoming } from '../store/markers.js';
import {
  audit,
  getOperationAndUser,
  now,
  planIdFor,
  releaseLock,
  runCounterKeys,
  type OperationError,
  type OperationRecord,
  type WithTransition,
} from '../store/operations.js';
import { fingerprint, PAGES_IN_TRANSACTION, planRecord, readPlanWithFirstPage, withPlanCache } from '../store/plans.js';
import { leftUndone } from './resume.js';
import { factKeys, getOrganization, getUser, readAhead } from '../store/table.js';
import { assertTransferEligible, callerUser, readableOperation, requestParties, requireAdminOf, transferEligibility } from './access.js';
import { assertPremiseFacts, create, move, premiseFacts, premisesOf, requireActor, requireStatus } from './transitions.js';
import { startRun } from './executions.js';
import { computeTransferPlan, keptPlanHolds, PlanTooLarge, requestBudget, type ComputedPlan } from './planning.js';
import { deferPreview } from './background-planning.js';
import { requireSuccessor, successorOf } from './successor.js';
import { assertSamePlan, firstPageView, impactView, operationView, operationViewWithProgress, savePreview, storePlan } from './views.js';

/** X1: what a transfer would do, saved as a preview (kept 24 h); changes nothing in the world. */
export async function previewTransfer(callerId: string, userId: string, destinationOrganizationId: string, successorId?: string) {
  const parties = await requestParties(callerId, userId, destinationOrganizationId); // one BatchGetItem
  const { caller, user } = parties;
  const destination = parties.destination!; // 404 without it
  requireAdminOf(caller, user.organizationId, "only an administrator of the user's organization may preview its transfer");
  await assertTransferEligible(user, destination);
  const successor = await requireSuccessor(user, successorId); // X3
  const header = {
    operation: 'transfer' as const,
    userId,
    destinationOrganizationId,
    requestedBy: caller.id,
    organizationId: user.organizationId!,
    ...(successor ? { successorId: successor.id } : {}),
  };
  let plan: ComputedPlan;
  try {
    plan = await computeTransferPlan(user, destination, successor, requestBudget());
  } catch (error) {
    if (error instanceof PlanTooLarge) return deferPreview(header); // CONTRACT.md: 202 `planning`
    throw error;
  }
  return savePreview({ ...header, organizations: plan.organizations, readAt: plan.readAt }, plan.entries);
}

/** T3: an administrator of the source organization requests the transfer. Nothing changes before approval. */
export async function requestTransfer(
  callerId: string,
  userId: string,
  destinationOrganizationId: string,
  previewId?: string,
  options: { successorId?: string; export?: boolean } = {},
) {
  const { caller, user, destination, preview: named } = await requestParties(callerId, userId, destinationOrganizationId, previewId);
  requireAdminOf(caller, user.organizationId, 'only an administrator of the source organization may request a transfer (T3)');
  // T1, T2, T5; naming a saved preview, whose plan it takes when it holds, the pair's allowance alone (with the run
  // counters of the organizations the preview read: planning.ts previewQuiet)
  const { source, known, read } = await transferEligibility(user, destination!, {
    pairOnly: Boolean(previewId),
    also: runCounterKeys(named?.head?.header.organizations ?? []),
  });
  const successor = await requireSuccessor(user, options.successorId); // X3
  const { op, requested, planned } = await requestOperation({
    prefix: 'tr',
    rule: 'T3',
    fields: {
      operation: 'transfer',
      userId,
      sourceOrganizationId: source.id,
      destinationOrganizationId: destination!.id,
      requestedBy: caller.id,
      approvedBy: null,
    },
    successor,
    export: options.export,
    preview: {
      id: previewId,
      what: { operation: 'transfer', userId, destinationOrganizationId, by: caller.id },
      ...(named ? { read: named } : {}),
      ...(read ? { ahead: read } : {}),
    },
    // the plan is given what the checks just read (both organizations, the source's allowances): not read twice
    compute: (budget) => computeTransferPlan(user, destination!, successor, budget, known),
    reuse: async (plan) => plan,
  });
  if ('deferred' in planned) return planned.deferred; // CONTRACT.md `planning`: planned in the background
  const {
    plan: { entries, organizations, readAt },
    preview,
  } = planned;
  const { plan, items } = planRecord({ id: op.planId!, operation: 'transfer', userId, organizations, readAt }, entries);
  if (plan.pages.length <= PAGES_IN_TRANSACTION) {
    // T3, X1, X2: the operation, its lock, its plan, its markers (B1, B3) and its audit entry in one transaction
    // (409 while another operation holds the user)
    await create(op, 'request', { entries, with: [{ plan: items }, { markers: 'incoming' }, { audit: [requested(preview)] }] });
    return operationView(op, firstPageView(plan, entries));
  }
  await create(op, 'request', { entries }); // one operation per user at a time: 409 otherwise
  const { view } = await storePlan({ id: op.planId!, operation: 'transfer', userId, organizations, readAt }, entries);
  await markIncoming(op);
  await audit(op.id, requested(preview));
  return operationView(op, view);
}

/** T3, T4: an administrator of the destination approves; the transfer runs now, or waits for a seat. */
export function approveTransfer(callerId: string, id: string) {
  return withPlanCache(() => approve(callerId, id)); // its plan is read once (the check, its events, the answer)
}

async function approve(callerId: string, id: string) {
  // the caller and the operation in one request; refused in the order reading them one by one refused
  // (and the plan the request stored, its first: read again only when it was replanned since)
  const { op: found, user: callerFound } = await getOperationAndUser(id, callerId, planIdFor(id, 1));
  if (!callerFound || callerFound.status !== 'active') throw new Unauthenticated(`no active user ${callerId}`);
  const caller = callerFound;
  if (!found || found.operation !== 'transfer') throw new NotFound(`transfer ${id} does not exist`);
  const op = found;
  requireActor('approve', op, caller); // T3: an administrator of the destination
  requireStatus('approve', op);
  // X1: the data may have changed since the request; the impact is computed again and shows what will run
  // (with a saved preview: it must still be that preview's plan, or nothing changes).
  const stored = op.planId ? await readPlanWithFirstPage(op.planId) : undefined;
  // O1: still an active member of the source, still eligible (T1, T2, T5): the user, both organizations and their
  // allowance in one read, with the run counters of the organizations the plan read (keptPlanHolds below); the
  // destination as read there
  const ahead = await readAhead([...factKeys(premisesOf(op)), ...runCounterKeys(stored?.header.organizations ?? [])]);
  const { user, destination } = await assertPremiseFacts(op, ahead);
  let plan: { planId: string; plans: number; view?: Awaited<ReturnType<typeof storePlan>>['view'] } = {
    planId: op.planId!,
    plans: op.plans ?? 1,
    ...(stored ? { view: impactView(stored.header, stored.first) } : {}),
  };
  // no run changed what it read since the request: the same plan, not read again (and, for the run's end, the
  // organizations' run counters as checked: planning.ts keptPlanHolds)
  const kept = stored ? await keptPlanHolds(op, stored.header, ahead) : { holds: false };
  const unchanged = kept.holds;
  if (!unchanged) {
    const { entries, organizations, readAt } = await computeTransferPlan(user, destination!, await successorOf(op));
    if (op.previewFingerprint) {
      try {
        assertSamePlan(op.previewFingerprint, fingerprint(entries.map((e) => e.effect)), op.previewId!);
      } catch (error) {
        await audit(op.id, { event: 'approval-refused', by: caller.id, code: 'impact-changed', rule: 'X1', previewId: op.previewId }); // X2
        throw error;
      }
    }
    const plans = (op.plans ?? 0) + 1;
    const replanned = await storePlan(
      { id: planIdFor(op.id, plans), operation: 'transfer', userId: op.userId, organizations, readAt },
      entries,
    );
    plan = { planId: replanned.header.id, plans, view: replanned.view };
  }
  // X2: the approval's audit entry commits with its transition (a lost race records nothing)
  const approved = { audit: [{ event: 'approved', by: caller.id, rule: 'T3', replanned: !unchanged }] };
  // T4, B2: oldest first: a seat goes to a transfer already waiting before this one, or already on its way in
  const waiting = destination!.seats === undefined ? 0 : (await waitingTransfers(destination!.id, 'destination')).length;
  const hasSeat = destination!.seats === undefined || (await seatsTaken(destination!.id, op.id)) + waiting < destination!.seats;
  const set = { approvedBy: caller.id, planId: plan.planId, plans: plan.plans, ...(kept.quiet ? { planQuiet: kept.quiet } : {}) };
  if (hasSeat) return operationView(await startRun(op, 'approve', set, [approved], true), plan.view);
  // waiting for a seat: the plan is computed again when the run starts (PlanImpact), if the world changed by then
  return operationView(await waitForSeat(op, set, [approved]), plan.view);
}

/**
 * T4: the transfer waits, oldest first (B2 reading: by when it began to wait), for a seat at the destination. Its
 * membership change did not land (its transaction failed with NoFreeSeat), so no plan has begun to apply: the run
 * that resumes it plans again if the world changed (X1).
 */
export async function waitForSeat(op: OperationRecord, set: Partial<OperationRecord> = {}, intents: readonly WithTransition[] = []) {
  const waitingSince = op.waitingSince ?? now();
  // marked at both sides: B2 and B3 find it
  return move(op, 'wait-for-seat', { set: { ...set, waitingSince }, remove: ['appliedPlan'], with: [{ waiting: 'mark' }, ...intents] });
}

/** A transfer that ended (succeeded, failed, cancelled) is no longer waiting or incoming anywhere. */
export async function clearTransferMarkers(op: OperationRecord): Promise<void> {
  if (op.operation === 'transfer') await clearMarkers(op);
}

/** Transfers not yet run into this organization: awaiting approval or a seat (B1 cancels them). */
export const incomingTransfers = (organizationId: string) =>
  markedTransfers(organizationId, 'incoming', ['awaiting-approval', 'awaiting-seat']);

/** Transfers not yet run (awaiting approval or a seat) that involve this organization, on either side (B3). */
export const pendingTransfers = async (organizationId: string) => {
  const [incoming, outgoing] = await Promise.all([
    incomingTransfers(organizationId),
    markedTransfers(organizationId, 'outgoing', ['awaiting-approval', 'awaiting-seat']),
  ]);
  return [...new Map([...incoming, ...outgoing].map((op) => [op.id, op])).values()];
};

/** Transfers waiting for a seat that involve this organization, as destination or as source. */
export const waitingTransfers = (organizationId: string, side: 'destination' | 'source') =>
  markedTransfers(organizationId, side === 'destination' ? 'waiting' : 'waiting-out', ['awaiting-seat']);

/**
 * T4: the seats an organization has given: its members, and the transfers into it that are running but have not
 * taken their seat yet (a seat freed meanwhile is theirs: oldest first, not to a newer approval).
 */
async function seatsTaken(organizationId: string, except?: string): Promise<number> {
  // the transfers first, then the count: one that takes its seat in between is counted once, as a member
  // (`except`: the transfer asking, not running: its own marker is not read)
  const running = await markedTransfers(organizationId, 'incoming', ['running'], except);
  const users = await Promise.all(running.map((op) => getUser(op.userId)));
  const org = await getOrganization(organizationId);
  return (org?.members ?? 0) + users.filter((u) => u && u.organizationId !== organizationId).length;
}

/** O1: why a waiting transfer may no longer run (T1, T2, T5, or its user left the source), or undefined. */
async function ineligibility(op: OperationRecord): Promise<Reason | undefined> {
  const broken = premiseViolation(op, await premiseFacts(op));
  return broken ? { rule: broken.rule, message: `${broken.rule}: ${broken.message}` } : undefined;
}

/** T3: either side cancels before the transfer runs; O2: or once it has failed. */
export async function cancelTransfer(callerId: string, id: string) {
  const op = await readableOperation(callerId, id, 'transfer'); // an administrator of either organization (T3)
  requireActor('cancel', op, await callerUser(callerId));
  requireStatus('cancel', op);
  return operationView(await cancel(op, callerId));
}

/** Cancels a transfer that has not run, or that failed (O2): markers cleared, lock released, recorded (X2). */
async function cancel(op: OperationRecord, by: string, error?: OperationError, cause: Record<string, unknown> = {}) {
  const cancelled = await move(op, 'cancel', { set: { ...(error ? { error } : {}), ...(by !== 'system' ? { cancelledBy: by } : {}) } });
  await clearTransferMarkers(op);
  await releaseLock(op.userId, op.id);
  // X2: a failed transfer's undone rest stays undone (O2); the trail says what, by kind and rule
  const left = op.status === 'failed' ? await leftUndone(op) : undefined;
  await audit(op.id, {
    event: 'cancelled',
    by,
    ...(error ?? { rule: op.status === 'failed' ? 'O2' : 'T3' }),
    ...cause,
    ...(left ? { left } : {}),
  });
  return cancelled;
}

/** B1, B3 and other system cancellations: cancelled with the reason (and the billing event that caused it, X2), lock released. */
export const cancelBySystem = (op: OperationRecord, error: OperationError, cause: Record<string, unknown> = {}) =>
  cancel(op, 'system', error, cause);

/** B1, O2: a failed transfer into an organization whose contract is cancelled can never be resumed into it: cancelled (failed → cancelled), lock released. */
export const cancelFailedBySystem = (op: OperationRecord, error: OperationError, cause: Record<string, unknown> = {}) =>
  cancel(op, 'system', error, cause);

export async function getTransfer(callerId: string, id: string) {
  return operationViewWithProgress(await readableOperation(callerId, id, 'transfer'));
}

/**
 * B2, T4: transfers waiting for a seat at this organization resume, oldest first, while seats last. Each is checked
 * first (T1, T2, T5, still in its source): one that may no longer run is cancelled with its rule and its seat goes
 * to the next, in the same pass.
 */
export async function resumeWaitingTransfers(organizationId: string): Promise<string[]> {
  // the waiting ones first: usually none, and then nothing more is read
  const waiting = await waitingTransfers(organizationId, 'destination');
  if (waiting.length === 0) return [];
  const org = await getOrganization(organizationId);
  if (!org) return [];
  let free = org.seats === undefined ? Number.POSITIVE_INFINITY : org.seats - (await seatsTaken(org.id));
  const resumed: string[] = [];
  for (const op of waiting) {
    if (free <= 0) break;
    const refusal = await ineligibility(op);
    if (refusal) {
      await cancelBySystem(op, { code: 'ineligible', ...refusal }).catch((e) => (e instanceof Conflict ? undefined : Promise.reject(e)));
      continue;
    }
    try {
      await startRun(op, 'seat-freed', {}, [{ waiting: 'clear' }]);
      resumed.push(op.id);
      free--;
    } catch (error) {
      if (!(error instanceof Conflict)) throw error; // resumed by a concurrent event: skip it
    }
  }
  return resumed;
}
