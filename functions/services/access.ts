import { deletionIneligibility, transferIneligibility } from '../domain/eligibility.js';
import type { Organization, User } from '../domain/model.js';
import { pairKey } from '../domain/model.js';
import type { Operation } from '../domain/impact.js';
import { Forbidden, Ineligible, NotFound, Unauthenticated } from '../shared/errors.js';
import { getOperation, type OperationRecord } from '../store/operations.js';
import { planHeadFrom, planHeadKeys, readPlanWithFirstPage } from '../store/plans.js';
import { effectsPage, impactView, pendingPreviewAnswer, savedPreview } from './views.js';
import {
  allowanceFact,
  factKeys,
  getOrganization,
  getUser,
  organizationAdmins,
  readAhead,
  readFacts,
  type FactsWanted,
  type ReadAhead,
} from '../store/table.js';
import { readAllowances } from '../store/slice.js';
import { getRun } from '../store/runs.js';
import { now } from '../shared/clock.js';
import type { KnownFacts } from './planning.js';

type TableKey = { PK: string; SK: string };

/** The caller of an API route: an active user (D2: a deleted user's sessions and tokens end). */
export async function callerUser(callerId: string): Promise<User> {
  const caller = await getUser(callerId);
  if (!caller || caller.status !== 'active') throw new Unauthenticated(`no active user ${callerId}`);
  return caller;
}

export function isAdminOf(caller: User, organizationId: string | null | undefined): boolean {
  return Boolean(organizationId) && caller.status === 'active' && caller.orgAdmin && caller.organizationId === organizationId;
}

export function requireAdminOf(caller: User, organizationId: string | null | undefined, what: string): void {
  if (!isAdminOf(caller, organizationId)) {
    throw new Forbidden(`user ${caller.id} is not an administrator of ${organizationId ?? 'the organization'} (${what})`);
  }
}

export async function mustGetUser(id: string): Promise<User> {
  const user = await getUser(id);
  if (!user) throw new NotFound(`user ${id} does not exist`);
  return user;
}

export async function mustGetOrganization(id: string): Promise<Organization & { members: number }> {
  const org = await getOrganization(id);
  if (!org) throw new NotFound(`organization ${id} does not exist`);
  return org;
}

/** T1, T2, T5 against the current data; throws Ineligible (422) with every reason. */
export async function assertTransferEligible(user: User, destination: Organization): Promise<Organization> {
  return (await sourceAndPair(user, destination)).source;
}

/**
 * T1, T2, T5 on the source organization and the pair's allowance, read in one BatchGetItem, with `also` (keys a
 * later check reads from `read`: the run counters of a saved preview's organizations, planning.ts previewQuiet).
 */
async function sourceAndPair(user: User, destination: Organization, also: readonly TableKey[] = []) {
  const from = user.organizationId;
  const want: FactsWanted = from ? { organizations: [from], allowances: [[from, destination.id]] } : {};
  const read = from || also.length ? await readAhead([...factKeys(want), ...also]) : undefined;
  const facts = from ? await readFacts(want, read) : undefined;
  const source = from ? facts!.organizations.get(from) : undefined;
  const allowances = new Set(source && facts!.allowances.has(allowanceFact(from!, destination.id)) ? [pairKey(from!, destination.id)] : []);
  return { source: eligibleSource(user, source, destination, allowances), allowances, read };
}

/**
 * The same, reading every outside allowance of the destination (one Query, as the plan reads them; C2) instead of
 * the pair's alone (an allowance is stored under both organizations, so the pair is among them), with the source
 * organization: what the request's plan is then given (`KnownFacts`), not read again. `pairOnly` (a request naming
 * a saved preview, whose plan it takes when the preview holds): the pair's alone, as assertTransferEligible.
 */
export async function transferEligibility(
  user: User,
  destination: Organization,
  { pairOnly = false, also = [] as readonly TableKey[] } = {},
): Promise<{ source: Organization; known: KnownFacts; read?: ReadAhead }> {
  const readAt = now();
  if (pairOnly) {
    const { source, allowances, read } = await sourceAndPair(user, destination, also);
    return { source, known: { organizations: [source, destination], allowancesOf: [], allowances, readAt }, ...(read ? { read } : {}) };
  }
  const [source, allowances] = await Promise.all([
    user.organizationId ? getOrganization(user.organizationId) : undefined,
    readAllowances([destination.id]),
  ]);
  const found = eligibleSource(user, source, destination, allowances);
  return { source: found, known: { organizations: [found, destination], allowancesOf: [destination.id], allowances, readAt } };
}

function eligibleSource(user: User, source: Organization | undefined, destination: Organization, allowances: ReadonlySet<string>) {
  const organizations = new Map<string, Organization>([[destination.id, destination]]);
  if (source) organizations.set(source.id, source);
  const reasons = transferIneligibility({ organizations, allowances }, user, source, destination);
  if (reasons.length > 0) throw new Ineligible(reasons);
  return source!;
}

/**
 * A request's caller, its subject and (a transfer) the destination in one BatchGetItem, refused in the order the
 * reads one by one refused them: 401 for a caller that is not an active user, then 404 for the user, then the destination.
 */
export async function requestParties(callerId: string, userId: string, destinationOrganizationId?: string, previewId?: string) {
  const want = { users: [callerId, userId], organizations: destinationOrganizationId ? [destinationOrganizationId] : [] };
  // X1: a saved preview the request names, its header and first page in the same read (refused later, in order)
  const previewKeys = previewId?.startsWith('pv-') ? planHeadKeys(previewId) : [];
  const read = await readAhead([...factKeys(want), ...previewKeys]);
  const facts = await readFacts(want, read);
  const caller = facts.users.get(callerId);
  if (!caller || caller.status !== 'active') throw new Unauthenticated(`no active user ${callerId}`);
  const user = facts.users.get(userId);
  if (!user) throw new NotFound(`user ${userId} does not exist`);
  const destination = destinationOrganizationId ? facts.organizations.get(destinationOrganizationId) : undefined;
  if (destinationOrganizationId && !destination) throw new NotFound(`organization ${destinationOrganizationId} does not exist`);
  return { caller, user, destination, ...(previewKeys.length ? { preview: { head: planHeadFrom(previewId!, read.items) } } : {}) };
}

/** D1 against the current data; throws Ineligible (422). */
export async function assertDeletionEligible(user: User): Promise<void> {
  // D1's last administrator: only an active administrator's deletion needs the others (a request saved otherwise)
  const admins = user.organizationId && user.orgAdmin && user.status === 'active' ? await organizationAdmins(user.organizationId) : [];
  const reasons = deletionIneligibility(user, admins);
  if (reasons.length > 0) throw new Ineligible(reasons);
}

/** An operation the caller may read: an administrator of its organization (of either, for a transfer). */
export async function readableOperation(callerId: string, id: string, kind?: Operation): Promise<OperationRecord> {
  const caller = await callerUser(callerId);
  const op = await getOperation(id);
  if (!op || (kind && op.operation !== kind)) throw new NotFound(`${kind ?? 'operation'} ${id} does not exist`);
  const organizations = op.operation === 'transfer' ? [op.sourceOrganizationId, op.destinationOrganizationId] : [op.organizationId];
  if (!organizations.some((o) => isAdminOf(caller, o))) {
    throw new Forbidden(`user ${caller.id} is not an administrator of ${organizations.filter(Boolean).join(' or ')}`);
  }
  return op;
}

/** A saved preview the caller may read: an administrator of the user's organization (when it was previewed). */
export async function readablePreview(callerId: string, id: string) {
  const caller = await callerUser(callerId);
  const header = await savedPreview(id);
  requireAdminOf(caller, header.organizationId, "only an administrator of the user's organization may read its previews");
  return header;
}

/** GET /previews/{id}: the saved preview as an Impact, with its id and expiry. */
export async function readPreview(callerId: string, id: string) {
  const header = await readablePreview(callerId, id);
  const pending = pendingPreviewAnswer(header); // CONTRACT.md: 202 `planning` while computed in the background
  if (pending) return pending;
  const found = await readPlanWithFirstPage(header.id);
  return { id: header.id, expiresAt: header.expiresAt!, ...impactView(header, found?.first ?? []) };
}

export async function readPreviewEffects(callerId: string, id: string, cursor: string | undefined) {
  return effectsPage((await readablePreview(callerId, id)).id, cursor);
}

/** GET /transfers/{id}/effects, /deletions/{id}/effects: the next page of the operation's impact. */
export async function readOperationEffects(callerId: string, id: string, kind: Operation, cursor: string | undefined) {
  const op = await readableOperation(callerId, id, kind);
  return effectsPage(op.planId, cursor);
}

/** A run the caller may read: an operator (an active user with scope `offboard/operator`), or an administrator of its organization. */
export async function readableRun(callerId: string, operator: boolean, id: string) {
  const caller = await callerUser(callerId);
  const run = await getRun(id);
  if (!operator) {
    if (!run) throw new NotFound(`billing run ${id} does not exist`);
    requireAdminOf(caller, run.organizationId, 'only an administrator of the organization, or an operator, may read its billing runs');
  }
  if (!run) throw new NotFound(`billing run ${id} does not exist`);
  return run;
}
