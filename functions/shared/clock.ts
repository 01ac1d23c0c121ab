/**
 * The time written into the world itself by applied effects (a deleted user's `deletedAt`, D2). On Lambda it is the
 * system clock. The embedded stack can pin it (`PUT /_local/clock`), so a run that failed and was resumed and the
 * same run without a fault write the same world, byte for byte; bookkeeping times (audit trail, journal,
 * `updatedAt`) keep the system clock, since they order events and are not part of the world.
 */
let pinned: string | undefined;

export function effectTime(): string {
  return pinned ?? new Date().toISOString();
}

/** Pins the effect time (an ISO time), or restores the system clock (undefined). */
export function pinEffectTime(at: string | undefined): void {
  if (at !== undefined && Number.isNaN(Date.parse(at))) throw new Error(`not an ISO time: ${at}`);
  pinned = at;
}
