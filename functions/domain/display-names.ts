import type { User } from './model.js';

/** D2: users deleted before this instant show as "Cancelled user". Reading: the cut-off date is taken in UTC. */
export const CANCELLED_USER_CUTOFF = Date.parse('2016-03-09T00:00:00Z');

/**
 * D2, D6: the name people see for a user on past messages and kept tasks. Resolved when read, from the user record,
 * so deleting a user rewrites one item, not every message the user ever posted.
 */
export function displayName(user: Pick<User, 'name' | 'status' | 'deletedAt'>): string {
  if (user.status !== 'deleted') return user.name;
  if (user.deletedAt && Date.parse(user.deletedAt) < CANCELLED_USER_CUTOFF) return 'Cancelled user';
  return `${user.name} (cancelled)`;
}
