import type { User } from './model.js';

/** D2: users deleted before this instant show as "Cancelled user". Reading: the date is Japan's, so 2016-03-09T00:00+09:00 (2016-03-08T15:00Z). */
export const CANCELLED_USER_CUTOFF = Date.parse('2016-03-09T00:00:00+09:00');

/**
 * D2: the name people see for a user, as on past messages. Resolved when read, from the user record, so deleting a
 * user rewrites one item, not every message the user ever posted.
 */
export function displayName(user: Pick<User, 'name' | 'status' | 'deletedAt'>): string {
  if (user.status === 'suspended') return suspendedName(user);
  if (user.status !== 'deleted') return user.name;
  if (user.deletedAt && Date.parse(user.deletedAt) < CANCELLED_USER_CUTOFF) return 'Cancelled user';
  return `${user.name} (cancelled)`;
}

/** D6: the requester of a kept task shows as "Name (cancelled)"; the 2016 cut-off of D2 is about messages only. */
export function requesterName(user: Pick<User, 'name' | 'status'>): string {
  if (user.status === 'suspended') return suspendedName(user);
  return user.status === 'deleted' ? `${user.name} (cancelled)` : user.name;
}

/** D7 beyond: during a grace period others see the user as suspended; an undo gives the name back unchanged. */
const suspendedName = (user: Pick<User, 'name'>): string => `${user.name} (suspended)`;
