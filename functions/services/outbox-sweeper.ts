import { randomUUID } from 'node:crypto';
import { now, nowMs } from '../shared/clock.js';
import { claimOutbox, dueOutboxes, OUTBOX_SWEEP_AGE_MS } from '../store/outbox.js';
import { deliverOutboxes } from './events.js';

/** Items whose events go out in one publish (10 entries and 256 KB a PutEvents request, store/event-bus.ts). */
export const SWEEP_GROUP = 25;
/** Items one sweep takes at most; the rest are the next sweep's (the schedule runs every minute). */
export const SWEEP_LIMIT = 500;

export interface SweepResult {
  /** Items (operations, billing runs) the outbox index listed as due. */
  due: number;
  /** Those this sweep took (a claim lost to another sweep or a new transition leaves one to them). */
  claimed: number;
  /** Outbox entries whose events are now on the bus, their entries removed. */
  delivered: number;
  /** Entries whose events did not all land: due again after OUTBOX_SWEEP_AGE_MS. */
  left: number;
}

/**
 * At least once, whatever stopped the direct path (docs/EVENTS.md): every operation and billing run whose outbox
 * entries are older than OUTBOX_SWEEP_AGE_MS has them delivered, with the ids and times the transitions recorded (a
 * consumer drops what it already has), and removed. Bounded: at most `limit` items, SWEEP_GROUP a publish, none
 * started after `deadlineMs` (wall clock, the function's remaining time).
 */
export async function sweepOutbox(options: { limit?: number; deadlineMs?: number } = {}): Promise<SweepResult> {
  const due = await dueOutboxes(new Date(nowMs() - OUTBOX_SWEEP_AGE_MS).toISOString(), options.limit ?? SWEEP_LIMIT);
  const result: SweepResult = { due: due.length, claimed: 0, delivered: 0, left: 0 };
  for (let i = 0; i < due.length; i += SWEEP_GROUP) {
    if (options.deadlineMs !== undefined && Date.now() > options.deadlineMs) break;
    const group = due.slice(i, i + SWEEP_GROUP);
    // the claim moves the mark: a second sweep, or a retried one, finds nothing of these due for another age
    const claimed = (
      await Promise.all(
        group.map(async (d) => {
          const outbox = await claimOutbox(d.key, d.mark, `${now()}#sweep:${randomUUID()}`);
          return outbox && { key: d.key, outbox: outbox.pendingEvents ?? [], ...(outbox.outboxMark ? { mark: outbox.outboxMark } : {}) };
        }),
      )
    ).filter((c) => c !== undefined);
    result.claimed += claimed.length;
    const left = await deliverOutboxes(claimed);
    claimed.forEach((c, n) => {
      result.delivered += c.outbox.length - left[n]!.length;
      result.left += left[n]!.length;
    });
  }
  return result;
}
