/** D7 beyond: an organization's grace period, in whole days (0: a deletion purges at once). */
export const MAX_GRACE_DAYS = 30;
const DAY_MS = 24 * 3600 * 1000;

/** The purge date of a deletion requested at `fromMs` under a grace period of `days`. */
export const purgeDate = (days: number, fromMs: number): string => new Date(fromMs + days * DAY_MS).toISOString();
