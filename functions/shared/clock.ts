/**
 * The one clock the functions read. On AWS it is the system clock. The embedded stack moves it forward
 * (`PUT /_local/clock`) so a grace period (D7) of days passes in a test without waiting: purge dates, the
 * workflow's Wait until the purge date, operation and audit times, preview expiry all follow it.
 */
let offsetMs = 0;
const listeners = new Set<() => void>();

/** Milliseconds since the epoch, as the functions see them. */
export const nowMs = (): number => Date.now() + offsetMs;

/** The current instant as an ISO-8601 string (the format every stored time uses). */
export const now = (): string => new Date(nowMs()).toISOString();

/** Embedded stack only: moves the clock forward, never back (stored times stay in order). */
export function advanceClock(to: { advanceMs?: number; now?: string }): string {
  const target = to.now !== undefined ? Date.parse(to.now) : nowMs() + (to.advanceMs ?? 0);
  if (!Number.isFinite(target)) throw new RangeError('now: not an ISO-8601 instant');
  if (target < nowMs()) throw new RangeError('the clock only moves forward');
  offsetMs = target - Date.now();
  for (const listener of listeners) listener();
  return now();
}

/** Called after every move of the clock (the embedded stack's Wait states listen). Returns the unsubscribe. */
export function onClockMove(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * The time written into the world itself by applied effects (a deleted user's `deletedAt`, D2). The embedded stack
 * can pin it (`PUT /_local/clock {"pin"}`), so a run that failed and was resumed and the same run without a fault
 * write the same world, byte for byte; bookkeeping times (audit trail, journal, `updatedAt`) keep following `now()`,
 * since they order events and are not part of the world.
 */
let pinned: string | undefined;

export function effectTime(): string {
  return pinned ?? now();
}

/** Pins the effect time (an ISO time), or lets it follow the clock again (undefined). */
export function pinEffectTime(at: string | undefined): void {
  if (at !== undefined && Number.isNaN(Date.parse(at))) throw new Error(`not an ISO time: ${at}`);
  pinned = at;
}
