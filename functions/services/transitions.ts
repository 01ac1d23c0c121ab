import {
  actorRefusal,
  premiseViolation,
  successorOrganizationOf,
  resumeWindowRefusal,
  statusRefusal,
  transitionFor,
  type PremiseFacts,
  type TransitionName,
} from '../domain/lifecycle/operation.js';
import type { User } from '../domain/model.js';
import { now, nowMs } from '../shared/clock.js';
import { Conflict, Forbidden, Ineligible } from '../shared/errors.js';
import { createOperation, transition, type OperationRecord, type WithTransition } from '../store/operations.js';
import { outboxMarkOf } from '../store/outbox.js';
import type { PlanEntry } from '../store/plans.js';
import { deliverPending, outboxEntry } from './events.js';
import { allowanceFact, organizationAdmins, readFacts, type Facts, type FactsWanted, type ReadAhead } from '../store/table.js';

/**
 * The one door to an operation's status: every change goes through `move`, with the from-statuses, the target and
 * the premises of domain/lifecycle/operation.ts. The store's conditional write, on the status the caller read,
 * decides races (exactly one of two concurrent transitions from the same status wins; the other gets 409).
 */
export async function move(
  op: OperationRecord,
  name: TransitionName,
  options: { set?: Partial<OperationRecord>; remove?: (keyof OperationRecord)[]; with?: readonly WithTransition[] } = {},
): Promise<OperationRecord> {
  const rule = transitionFor(name, op);
  // conditional on the status the caller read, not any status the transition allows: a caller acting on a stale
  // read (a second approval finding the first one's run) gets 409 instead of moving what moved on
  requireStatus(name, op);
  const set = { ...options.set, ...(rule.to === 'failed' ? { failedAt: now() } : {}) };
  // docs/EVENTS.md, at least once: the transition's outbox entry is written by the write that commits it (a write
  // that lost its race records nothing); its events go out after, with any an earlier invocation left undelivered
  const after = { ...op, ...set, status: rule.to } as OperationRecord;
  for (const k of options.remove ?? []) delete after[k];
  const entry = outboxEntry(after, name, op.status, set);
  const moved = await transition(op, [op.status], rule.to, set, options.remove ?? [], [...(options.with ?? []), { outbox: [entry] }]);
  // its own entry, and what earlier invocations left undelivered but for what the one that wrote it may still be
  // putting (younger than the sweeper's age: left to it, or to the sweeper)
  await deliverPending(moved, undefined, { own: [entry.key] });
  return moved;
}

/**
 * The one door to an operation's creation (`request`, `request-deletion`, `schedule`, `request-planning`): the operation and its lock
 * (and `with`) in one transaction, then its events; `entries`, the plan it was requested with, says to each person
 * what will happen to them (the plan is stored after the operation exists).
 */
export async function create(
  op: OperationRecord,
  name: 'request' | 'request-deletion' | 'schedule' | 'request-planning',
  options: {
    with?: readonly WithTransition[];
    entries?: readonly PlanEntry[];
    then?: { name: TransitionName; set: Partial<OperationRecord> };
  } = {},
): Promise<OperationRecord> {
  const rule = transitionFor(name, op);
  if (rule.to !== op.status) throw new Error(`${name} creates a ${op.operation} ${rule.to}, not ${op.status}`);
  // `then`: a second transition in the same creating transaction (a deletion requested and started at once)
  if (options.then) requireStatus(options.then.name, op);
  const created: OperationRecord = options.then ? { ...op, ...options.then.set, status: transitionFor(options.then.name, op).to } : op;
  // docs/EVENTS.md: the outbox entries in the creating transaction, on the operation's own item
  const then = options.then ? [outboxEntry(created, options.then.name, op.status, options.then.set)] : [];
  const outbox = [outboxEntry(op, name, null), ...then];
  await createOperation(created, [...(options.with ?? []), { outbox }]);
  const record: OperationRecord = { ...created, pendingEvents: outbox, outboxMark: outboxMarkOf(outbox.at(-1)!) };
  await deliverPending(record, options.entries); // a creation's own entries only
  return record;
}

/** 409 unless the operation's status allows the transition (CONTRACT.md `conflict`). */
export function requireStatus(name: TransitionName, op: OperationRecord): void {
  const refusal = statusRefusal(name, op);
  if (refusal) throw new Conflict(refusal);
}

/** 403 unless the caller may make the transition (T3, D1, D7, O2). */
export function requireActor(name: TransitionName, op: OperationRecord, caller: User): void {
  const refusal = actorRefusal(name, op, caller);
  if (refusal) throw new Forbidden(refusal);
}

/** O2: 409 once the resumption window of a failed operation has passed. */
export function requireWithinResumeWindow(op: OperationRecord): void {
  const refusal = resumeWindowRefusal(op, nowMs());
  if (refusal) throw new Conflict(refusal);
}

/**
 * What O1's premises of an operation are read from, by id (one BatchGetItem): the user, the successor (X3: a premise
 * too), and for a transfer both organizations and their allowance (read whether or not the user is still in the
 * source: one request either way). A step is given them as a hint (services/executions.ts runInput) to read them
 * with its operation.
 */
export const premisesOf = (op: OperationRecord): FactsWanted => ({
  users: [op.userId, ...(op.successorId ? [op.successorId] : [])],
  ...(op.operation === 'transfer'
    ? {
        organizations: [op.sourceOrganizationId!, op.destinationOrganizationId!],
        allowances: [[op.sourceOrganizationId!, op.destinationOrganizationId!]],
      }
    : {}),
});

/**
 * O1's facts about an operation from the current data: the user, and what its eligibility rests on (both
 * organizations and their allowance for a transfer not yet moved; the administrators for a deletion of one).
 */
export async function premiseFacts(op: OperationRecord, ahead?: ReadAhead): Promise<PremiseFacts> {
  const facts = await readFacts(premisesOf(op), ahead);
  const user = facts.users.get(op.userId);
  const successor = op.successorId ? facts.users.get(op.successorId) : undefined;
  const own = await ownPremiseFacts(op, user, facts);
  return { ...own, ...(successor ? { successor } : {}) };
}

async function ownPremiseFacts(op: OperationRecord, user: User | undefined, facts: Facts): Promise<PremiseFacts> {
  if (!user) return { user };
  if (op.operation === 'transfer') {
    if (user.organizationId !== op.sourceOrganizationId) return { user };
    const source = facts.organizations.get(op.sourceOrganizationId!);
    const destination = facts.organizations.get(op.destinationOrganizationId!);
    const allowance = facts.allowances.has(allowanceFact(op.sourceOrganizationId!, op.destinationOrganizationId!));
    return { user, ...(source ? { source } : {}), ...(destination ? { destination } : {}), allowance };
  }
  const admins = user.orgAdmin && user.status !== 'deleted' && user.organizationId ? await organizationAdmins(user.organizationId) : [];
  return { user, admins };
}

/** O1: throws Ineligible (422, or the step's failure) naming the premise that no longer holds; answers the user. */
export async function assertPremises(op: OperationRecord, ahead?: ReadAhead): Promise<User> {
  return (await assertPremiseFacts(op, ahead)).user;
}

/** The same, answering the facts it read (the organizations of a transfer): a caller needs not read them again. */
export async function assertPremiseFacts(op: OperationRecord, ahead?: ReadAhead): Promise<PremiseFacts & { user: User }> {
  const facts = await premiseFacts(op, ahead);
  const broken = premiseViolation(op, facts);
  if (broken) throw new Ineligible([broken]);
  return facts as PremiseFacts & { user: User };
}

/** X3: who leaves and who joins, for the appliers of an operation that names a successor. */
export const successionOf = (op: OperationRecord) =>
  op.successorId ? { succession: { userId: op.userId, successorId: op.successorId, organizationId: successorOrganizationOf(op) } } : {};
