import type { User } from '../domain/model.js';
import { Ineligible } from '../shared/errors.js';
import { getLocks } from '../store/locks.js';
import type { OperationRecord } from '../store/operations.js';
import { getUser } from '../store/table.js';
import { mustGetUser } from './access.js';

/**
 * X3: the successor a request names, checked: an active member of the user's organization (for a transfer, the
 * source), other than the user, not suspended and not the subject of another operation. 404 when no such user
 * exists; 422 with rule X3 otherwise. Undefined when the request names none.
 */
export async function requireSuccessor(user: User, successorId: string | undefined): Promise<User | undefined> {
  if (successorId === undefined) return undefined;
  const successor = await mustGetUser(successorId);
  const refuse = (message: string) => new Ineligible([{ rule: 'X3', message: `successorId: ${message}` }]);
  if (successor.id === user.id) throw refuse(`the successor must be another user than ${user.id}`);
  if (successor.status !== 'active') throw refuse(`user ${successor.id} is ${successor.status}, not an active member`);
  if (!user.organizationId || successor.organizationId !== user.organizationId) {
    throw refuse(`user ${successor.id} is not a member of ${user.organizationId ?? "the user's organization"}`);
  }
  const [lock] = await getLocks([successor.id]);
  if (lock) throw refuse(`user ${successor.id} is the subject of another operation (${lock.operationId})`);
  return successor;
}

/** X3: the operation's successor as it is now, for planning again (the premise check has found it still fit, O1). */
export async function successorOf(op: OperationRecord): Promise<User | undefined> {
  return op.successorId ? getUser(op.successorId) : undefined;
}
