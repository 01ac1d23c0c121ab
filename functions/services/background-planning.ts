import { randomUUID } from 'node:crypto';
import { purgeDate } from '../domain/grace-period.js';
import { now, nowMs } from '../shared/clock.js';
import { ImpactChanged, Ineligible, NotFound } from '../shared/errors.js';
import { logger } from '../shared/logger.js';
import { getOperation, type OperationRecord } from '../store/operations.js';
import { copyPlan, fingerprint, markPreviewFailed, readPlanHeader, writePendingPreview, type PlanHeader } from '../store/plans.js';
import { getOrganization } from '../store/table.js';
import type { Organization, User } from '../domain/model.js';
import { assertDeletionEligible, assertTransferEligible, mustGetOrganization, mustGetUser } from './access.js';
import { runInput, startExecution, startPlanningExecution, startRun, type PlanningInput } from './executions.js';
import { startWaiting } from './grace.js';
import { describeError, markFailed } from './lifecycle.js';
import { flushPending } from './events.js';
import { previewHolds, type PlanRequest } from './planning.js';
import { mergeSlices, planOrSlice } from './sliced-planning.js';
import { requireSuccessor, successorOf } from './successor.js';
import { assertPremises, create, move } from './transitions.js';
import { operationView, PREVIEW_TTL_SECONDS, storePlan } from './views.js';

/**
 * CONTRACT.md `planning`: a plan too large to compute within its API request (planning.ts PlanBudget) is computed by
 * the planning state machine (infra/constructs/planning-workflow.ts). The request answers 202 `planning` at once: a
 * saved preview's header without pages, or the operation created `planning` with its lock. The state machine's Plan
 * step computes the plan from the data as it is then (X1), stores it and moves on: the preview is ready; a transfer
 * awaits approval; a deletion starts (or is scheduled, D7). A refusal found then (O1, X1, X3) fails the operation, or
 * is kept with the preview and answered at `GET /previews/{id}`.
 */

/** A preview deferred: its header `planning` (kept 24 h as any preview) and its background computation started. */
export async function deferPreview(header: Omit<Parameters<typeof writePendingPreview>[0], 'id'>) {
  const pending = await writePendingPreview({ ...header, id: `pv-${randomUUID()}` }, PREVIEW_TTL_SECONDS);
  await startPlanningExecution({ previewId: pending.id });
  return { id: pending.id, status: 'planning' as const, expiresAt: pending.expiresAt! };
}

/**
 * A transfer or deletion deferred: created `planning` with its lock and its `requested` audit entry in one
 * transaction (409 while another operation holds the user), then its plan computed in the background.
 */
export async function deferOperation(op: OperationRecord, requested: Record<string, unknown>) {
  // a transfer's markers in the same transaction: B3 finds it before its plan exists
  const created = await create({ ...op, status: 'planning' }, 'request-planning', {
    with: [{ audit: [{ ...requested, planning: true }] }, ...(op.operation === 'transfer' ? [{ markers: 'incoming' as const }] : [])],
  });
  try {
    await startPlanningExecution({ operationId: created.id });
  } catch (error) {
    await markFailed(created.id, { Error: 'ExecutionNotStarted', Cause: (error as Error).message });
    throw error;
  }
  return operationView(created);
}

/**
 * The Plan step: computes what `input` names. Returns when done (or when there is nothing left to plan), or, for a
 * user too large for one invocation, how many slices the Map plans (services/sliced-planning.ts) before Merge.
 */
export async function planInBackground(input: PlanningInput): Promise<Sliced | undefined> {
  if ('previewId' in input) return planPreview(input.previewId);
  return planOperation(input.operationId);
}

/** The Merge step, after the Map's children planned `slices` slices: the plan stored, then as after Plan. */
export async function mergeInBackground(input: PlanningInput, slices: number): Promise<void> {
  if ('previewId' in input) {
    const pending = await readPlanHeader(input.previewId);
    if (!pending || pending.status !== 'planning') return;
    await asPreviewAnswer(pending, async () => {
      await checkPreviewPremises(pending); // as they are now, after the Map
      await mergeSlices(pending.id, slices, previewFields(pending), previewOptions(pending));
    });
    return;
  }
  const op = await getOperation(input.operationId);
  if (!op) return;
  if (op.status !== 'planning') return moveOn(op);
  const user = await assertPremises(op); // O1, X3: as they are now, after the Map
  const { header, organization } = await mergeSlices(op.planId!, slices, operationFields(op), {
    accept: (plan) => assertPreviewed(op, plan.fingerprint),
  });
  await proceed(op, user, header, organization);
}

/** A plan sliced for the Map: how many slices. */
export type Sliced = { planId: string; slices: number };

async function planPreview(previewId: string): Promise<Sliced | undefined> {
  const pending = await readPlanHeader(previewId);
  if (!pending || pending.status !== 'planning') return undefined; // done already (a retried step), or expired
  return asPreviewAnswer(pending, () => planPreviewOf(pending));
}

/** A refusal found while planning a preview is the preview's answer, with its reasons whole (their codes word it in the console). */
async function asPreviewAnswer<R>(pending: PlanHeader, run: () => Promise<R>): Promise<R | undefined> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof Ineligible) {
      await markPreviewFailed(pending, { code: 'ineligible', message: error.message, rule: error.rule, reasons: error.reasons });
      return undefined;
    }
    if (error instanceof NotFound) {
      await markPreviewFailed(pending, { code: 'not-found', message: error.message });
      return undefined;
    }
    throw error;
  }
}

/** The same checks as the preview's request made, on the data as it is now: the request to plan. */
async function checkPreviewPremises(pending: PlanHeader): Promise<PlanRequest> {
  const user = await mustGetUser(pending.userId);
  if (pending.operation === 'transfer') {
    const destination = await mustGetOrganization(pending.destinationOrganizationId!);
    await assertTransferEligible(user, destination);
    return withSuccessor({ operation: 'transfer', user, destination }, await requireSuccessor(user, pending.successorId));
  }
  await assertDeletionEligible(user);
  return withSuccessor({ operation: 'deletion', user }, await requireSuccessor(user, pending.successorId));
}

const withSuccessor = (request: PlanRequest, successor: User | undefined): PlanRequest => (successor ? { ...request, successor } : request);

/** A saved preview's fields as its 202 answered them: the same id, and the same expiry. */
function previewFields(pending: PlanHeader) {
  const { status, error, pages, effectCount, summary, fingerprint, createdAt, expiresAt, ...fields } = pending;
  return fields;
}
const previewOptions = (pending: PlanHeader) => ({ ttlSeconds: PREVIEW_TTL_SECONDS, now: new Date(pending.createdAt) });

async function planPreviewOf(pending: PlanHeader): Promise<Sliced | undefined> {
  const request = await checkPreviewPremises(pending);
  const plan = await planOrSlice(pending.id, request);
  if ('slices' in plan) return { planId: pending.id, slices: plan.slices };
  await storePlan(
    { ...previewFields(pending), organizations: plan.organizations, readAt: plan.readAt },
    plan.entries,
    PREVIEW_TTL_SECONDS,
    new Date(pending.createdAt),
  );
  return undefined;
}

async function planOperation(operationId: string): Promise<Sliced | undefined> {
  const op = await getOperation(operationId);
  if (!op) return undefined;
  if (op.status !== 'planning') {
    await moveOn(op); // planned already (a retried step), or cancelled meanwhile
    return undefined;
  }
  const user = await assertPremises(op); // O1 (and X3's successor): as they are now, not as at the request
  const stored = (await takePreview(op, user)) ?? (await computeAndStore(op, user));
  if ('slices' in stored) return stored;
  await proceed(op, user, stored.header, stored.organization);
  return undefined;
}

/** The plan stored: a transfer awaits approval (T3); a deletion starts, or under a grace period is scheduled (D7). */
async function proceed(op: OperationRecord, user: User, header: PlanHeader, organization: Organization | undefined): Promise<void> {
  const planned = { event: 'planned', rule: 'X1', effectCount: header.effectCount };
  if (op.operation === 'transfer') {
    await move(op, 'planned', { with: [{ audit: [planned] }] }); // T3: now it awaits the destination's approval
    return;
  }
  // D7 beyond: under a grace period the user is suspended now and the purge waits (as scheduleDeletion at a request)
  const graceDays = organization?.deletionGraceDays ?? 0;
  if (graceDays > 0 && user.status === 'active') {
    const purgeAt = purgeDate(graceDays, nowMs());
    const suspended = { event: 'suspended', rule: 'D7', userId: user.id, graceDays, purgeAt };
    const scheduled = await move(op, 'planned-schedule', {
      set: { purgeAt, graceDays },
      with: [{ suspend: user }, { audit: [planned, suspended] }],
    });
    await startWaiting(scheduled, user);
    return;
  }
  const ready = await move(op, 'planned', { with: [{ audit: [planned] }] });
  await startRun(ready, 'start', {}, [], true); // D1: a deletion needs no approval
}

type Stored = { header: PlanHeader; organization?: Organization | undefined };

/**
 * X1: the saved preview the operation was requested with, when it still holds (complete, unexpired, the same
 * successor, no run in its organizations' journals since its reads began: services/requests.ts `currentPreview`, for
 * a plan too large for the request's transaction): its plan copied as the operation's, nothing read again.
 */
async function takePreview(op: OperationRecord, user: User): Promise<Stored | undefined> {
  const preview = op.previewId ? await readPlanHeader(op.previewId) : undefined;
  if (!preview || preview.status || !preview.expiresAt || preview.expiresAt <= now() || preview.fingerprint !== op.previewFingerprint)
    return undefined;
  if (!(await previewHolds(preview, op.successorId, op.id))) return undefined;
  const { organizations, readAt } = preview;
  const header = await copyPlan(preview, { id: op.planId!, operation: op.operation, userId: op.userId, organizations, readAt });
  // D7: the organization's grace period as it is now
  return {
    header,
    ...(op.operation === 'deletion' && user.organizationId ? { organization: await getOrganization(user.organizationId) } : {}),
  };
}

/**
 * The plan computed from the current data and stored (or sliced for the Map); requested with a saved preview, it
 * must be that preview's.
 */
async function computeAndStore(op: OperationRecord, user: User): Promise<Stored | Sliced> {
  let request: PlanRequest;
  if (op.operation === 'transfer') {
    const destination = await getOrganization(op.destinationOrganizationId!);
    if (!destination) throw new NotFound(`organization ${op.destinationOrganizationId} does not exist`);
    request = withSuccessor({ operation: 'transfer', user, destination }, await successorOf(op));
  } else {
    request = withSuccessor({ operation: 'deletion', user }, await successorOf(op));
  }
  const plan = await planOrSlice(op.planId!, request);
  if ('slices' in plan) return { planId: op.planId!, slices: plan.slices };
  assertPreviewed(op, fingerprint(plan.entries.map((e) => e.effect)));
  const { header } = await storePlan({ ...operationFields(op), organizations: plan.organizations, readAt: plan.readAt }, plan.entries);
  return { header, organization: plan.organization };
}

const operationFields = (op: OperationRecord) => ({ id: op.planId!, operation: op.operation, userId: op.userId });

/** X1 beyond: requested with a saved preview, the plan must still be that preview's (ImpactChanged fails it). */
function assertPreviewed(op: OperationRecord, planned: string): void {
  if (op.previewFingerprint && op.previewFingerprint !== planned) {
    throw new ImpactChanged(
      `X1: the data changed since preview ${op.previewId}; its plan no longer matches the current data, so nothing was done`,
    );
  }
}

/**
 * A retried Plan step, or PlanFailed after a Plan that stopped part way: an operation whose plan is stored goes on
 * from where it is (a start or a wait already begun is not begun twice: executions are named after their runs).
 */
async function moveOn(op: OperationRecord): Promise<void> {
  if (op.operation === 'deletion' && op.status === 'awaiting-approval') await startRun(op, 'start', {}, [], true);
  else if (op.status === 'scheduled') await startExecution(op, { operationId: op.id, purgeAt: op.purgeAt! });
  else if (op.status === 'running') await startExecution(op, runInput(op));
}

/**
 * PlanFailed (the planning state machine's Catch): an operation still `planning` fails with the error (O1; its lock
 * released, markFailed); one that moved on goes on; a preview keeps the refusal for `GET /previews/{id}`.
 */
export async function planningFailed(input: PlanningInput, error: { Error?: string; Cause?: string }): Promise<void> {
  if ('operationId' in input) {
    // docs/EVENTS.md, the retry path: what Plan (the step before, in this execution) committed and did not deliver
    const op = await flushPending(await getOperation(input.operationId));
    if (!op) return;
    return op.status === 'planning' ? markFailed(op.id, error) : moveOn(op);
  }
  const pending = await readPlanHeader(input.previewId);
  if (!pending || pending.status !== 'planning') return;
  const { code, message, rule } = describeError(error);
  const reasons = error.Error === 'Ineligible' ? reasonsOf(message) : undefined;
  await markPreviewFailed(pending, {
    code: CODE_BY_NAME[error.Error ?? ''] ?? code,
    message,
    ...(rule ? { rule } : {}),
    ...(reasons ? { reasons } : {}),
  });
  logger.info('preview planning refused', { previewId: input.previewId, code, rule });
}

const CODE_BY_NAME: Record<string, string> = {
  Ineligible: 'ineligible',
  NotFound: 'not-found',
  Conflict: 'conflict',
  ImpactChanged: 'impact-changed',
};

/** Ineligible's message is its reasons, `RULE: message` joined by `; ` (shared/errors.ts). */
const reasonsOf = (message: string) =>
  message.split('; ').map((part) => {
    const m = /^([A-Z]\d+): (.*)$/s.exec(part);
    return m ? { rule: m[1]!, message: m[2]! } : { rule: '', message: part };
  });
