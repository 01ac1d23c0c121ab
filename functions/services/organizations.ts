import { displayName } from '../domain/display-names.js';
import { Forbidden, NotFound, Unauthenticated } from '../shared/errors.js';
import { listMembers, listOrganizations, readNames } from '../store/directory.js';
import { listOrganizationOperations, type OrgOperationList } from '../store/operations.js';
import { listRuns } from '../store/runs.js';
import { getOrganization, getUser } from '../store/table.js';
import { callerUser, isAdminOf, requireAdminOf } from './access.js';
import { runView } from './bulk-run.js';
import { operationsView } from './views.js';

/**
 * Who calls (the token's user) and whether the token has the operator scope (`offboard/operator`). CONTRACT.md: an
 * operator is a signed-in, active user with that scope; a deleted or suspended user's token is refused (401) everywhere.
 */
export interface Caller {
  id: string;
  operator: boolean;
}

export interface Page {
  limit: number;
  after?: string;
}

/**
 * GET /me: the caller as the console shows them. A user of the world answers as that user (a deleted or suspended
 * one is signed out, 401, D2); an operator token whose user is not in the world is refused as well (401: an operator
 * is an active user); any other token names nobody here: 404.
 */
export async function me(caller: Caller) {
  const user = await getUser(caller.id);
  if (!user) {
    if (caller.operator) throw new Unauthenticated(`no active user ${caller.id}: an operator is an active user`);
    throw new NotFound(`user ${caller.id} does not exist`);
  }
  if (user.status !== 'active') throw new Unauthenticated(`no active user ${caller.id}`);
  return {
    userId: user.id,
    displayName: displayName(user),
    organizationId: user.organizationId,
    status: user.status,
    role: user.orgAdmin ? 'admin' : 'member',
    administers: user.orgAdmin && user.organizationId ? [user.organizationId] : [],
    operator: caller.operator,
  };
}

/** Any active user (an operator is one) may act here. */
async function signedIn(caller: Caller): Promise<void> {
  await callerUser(caller.id);
}

/** GET /organizations: every organization, by id (a transfer's destination is chosen from them). */
export async function organizations(caller: Caller, page: Page) {
  await signedIn(caller);
  return listOrganizations(page);
}

/** GET /organizations/{id}/members: an administrator of the organization, or an operator. */
export async function members(caller: Caller, organizationId: string, q: string | undefined, page: Page) {
  const user = await callerUser(caller.id); // an operator too must be an active user
  if (!caller.operator) requireAdminOf(user, organizationId, 'only its administrators, or an operator, may list its members');
  if (!(await getOrganization(organizationId))) throw new NotFound(`organization ${organizationId} does not exist`);
  return listMembers(organizationId, { ...page, ...(q ? { q } : {}) });
}

/** GET /organizations/{id}/transfers and /deletions: an administrator of the organization (either side of a transfer, T3). */
export async function operations(
  caller: Caller,
  organizationId: string,
  list: OrgOperationList,
  statuses: readonly string[] | undefined,
  page: Page,
) {
  const user = await callerUser(caller.id);
  if (!isAdminOf(user, organizationId))
    throw new Forbidden(`user ${user.id} is not an administrator of ${organizationId} (only its administrators may list its operations)`);
  const { operations: ops, next } = await listOrganizationOperations(organizationId, list, { ...page, ...(statuses ? { statuses } : {}) });
  // the people the page is about, named as others see them now (D2 for the deleted): one BatchGetItem per 100
  const [views, names] = await Promise.all([
    operationsView(ops),
    readNames({
      users: new Set(ops.flatMap((op) => [op.userId, ...(op.requestedBy ? [op.requestedBy] : [])])),
      chats: new Set(),
      organizations: new Set(),
      files: new Map(),
      tasks: new Map(),
    }),
  ]);
  return { operations: views, next, names: { users: names.users } };
}

/**
 * GET /billing-runs: newest first. An operator reads every run (of `organizationId` if given); an administrator the
 * runs of their own organization, which `organizationId` must name (as GET /billing-runs/{id} allows, B1).
 */
export async function billingRuns(caller: Caller, organizationId: string | undefined, page: Page) {
  const user = await callerUser(caller.id); // an operator too must be an active user
  if (!caller.operator) {
    if (!organizationId || !isAdminOf(user, organizationId)) {
      throw new Forbidden(
        `user ${user.id} may list only the billing runs of an organization it administers (organizationId), or needs the operator scope`,
      );
    }
  }
  const { runs, next } = await listRuns({ ...page, ...(organizationId ? { organizationId } : {}) });
  return { runs: runs.map(runView), next };
}
