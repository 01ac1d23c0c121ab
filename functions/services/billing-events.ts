import { parse } from '@aws-lambda-powertools/parser';
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import * as z from 'zod/mini';
import { planPairAllowed } from '../domain/eligibility.js';
import { PLANS } from '../domain/model.js';
import { Conflict } from '../shared/errors.js';
import { logger } from '../shared/logger.js';
import { now } from '../store/operations.js';
import { nowMs } from '../shared/clock.js';
import { DEFAULT_CONFIRMATION_THRESHOLD, initialRunStatus } from '../domain/lifecycle/bulk-run.js';
import { createRun, getRun, type RunRecord } from '../store/runs.js';
import { outboxMarkOf } from '../store/outbox.js';
import { deliverPending, flushPending, runOutboxEntry } from './events.js';
import { cancelRunsOnReinstatement } from './bulk-run.js';
import { getOrganization, setOrganizationIfNewer } from '../store/table.js';
import { startBulkExecution } from './executions.js';
import { cancelBySystem, pendingTransfers, resumeWaitingTransfers } from './transfers.js';

/**
 * Billing events (B1–B3): validated with Powertools' EventBridge schema (the whole envelope: id, time, source…)
 * carrying each detail-type's own detail schema; B2 and B3 run once per event id (handlers/billing/target.ts,
 * Powertools idempotency); B1 starts the bulk run named after the event id (services/bulk-run.ts).
 */

/** A billing event that cannot be applied: it changes nothing and ends in the dead-letter queue with this reason. */
export class InvalidBillingEvent extends Error {
  override name = 'InvalidBillingEvent';
}

const OrgId = z.string({ error: 'must be a string' }).check(z.minLength(1, { error: 'must be a non-empty string' }));
export const DETAIL_SCHEMAS = {
  'Contract Cancelled': z.object({ organizationId: OrgId }),
  'Seats Changed': z.object({
    organizationId: OrgId,
    seats: z
      .int({
        error: (issue) =>
          issue.input === undefined ? 'is required' : typeof issue.input !== 'number' ? 'must be a number' : 'must be an integer',
      })
      .check(z.minimum(0, { error: 'must be 0 or more' })),
  }),
  'Plan Changed': z.object({ organizationId: OrgId, plan: z.enum(PLANS, { error: `must be one of ${PLANS.join(', ')}` }) }),
  'Contract Reinstated': z.object({ organizationId: OrgId }),
} as const;

/** B4: an event dated further ahead of the stack's clock than this is refused (a forged or mis-dated event cannot freeze later ones). */
export const MAX_FUTURE_MS = 5 * 60 * 1000;

/** B4: the stack's confirmation threshold (CONFIRMATION_THRESHOLD, from `offboard:confirmationThreshold`; default 500 members). */
export function confirmationThreshold(): number {
  const raw = process.env.CONFIRMATION_THRESHOLD;
  if (raw === undefined || raw === '') return DEFAULT_CONFIRMATION_THRESHOLD;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new Error(`CONFIRMATION_THRESHOLD: must be a whole number of members, 0 or more (got ${JSON.stringify(raw)})`);
  return n;
}
type DetailType = keyof typeof DETAIL_SCHEMAS;

/** CONTRACT.md "Billing events": an EventBridge event from `billing` of this detail-type, with its detail. */
const billingEventSchema = <T extends DetailType>(detailType: T) =>
  EventBridgeSchema.extend({
    source: z.literal('billing', { error: (issue) => `expected "billing", got ${JSON.stringify(issue.input)}` }),
    'detail-type': z.literal(detailType, { error: (issue) => `expected "${detailType}", got ${JSON.stringify(issue.input)}` }),
    detail: DETAIL_SCHEMAS[detailType],
  });

/** Validates an event of one detail-type; the reason names the bad field. The organization must exist. */
export async function parseBillingEvent<T extends DetailType>(detailType: T, event: unknown) {
  const parsed = parse(event, undefined, billingEventSchema(detailType), true);
  if (!parsed.success) {
    // Standard Schema issues: each path segment is a key, or an object holding it
    const issue = (parsed.error.cause as { message: string; path?: (PropertyKey | { key: PropertyKey })[] }[])[0]!;
    const path = (issue.path ?? []).map((p) => String(typeof p === 'object' ? p.key : p)).join('.');
    throw new InvalidBillingEvent(`${path || 'event'}: ${issue.message}`);
  }
  const { id, time, detail } = parsed.data as unknown as { id: string; time: string; detail: z.infer<(typeof DETAIL_SCHEMAS)[T]> };
  if (Date.parse(time) > nowMs() + MAX_FUTURE_MS) {
    throw new InvalidBillingEvent(
      `time: ${time} is more than 5 minutes ahead of the stack's clock (${new Date(nowMs()).toISOString()}); refused (B4)`,
    );
  }
  const org = await getOrganization(detail.organizationId);
  if (!org) throw new InvalidBillingEvent(`detail.organizationId: no organization ${detail.organizationId}`);
  return { id, time, detail, org };
}

/** B2: seats are updated; transfers waiting for a seat there resume, oldest first, while seats last. */
export async function handleSeatsChanged(event: unknown) {
  const { time, detail } = await parseBillingEvent('Seats Changed', event);
  const updated = await setOrganizationIfNewer(detail.organizationId, 'seats', detail.seats, time);
  const resumed = await resumeWaitingTransfers(detail.organizationId);
  logger.info('B2 seats changed', { organizationId: detail.organizationId, seats: detail.seats, updated, resumed });
  return { duplicate: false, updated, resumed };
}

/** B3: the plan is updated; transfers not yet running (awaiting approval or a seat) that T1 now forbids are cancelled, locks released. */
export async function handlePlanChanged(event: unknown) {
  const { id, time, detail } = await parseBillingEvent('Plan Changed', event);
  const updated = await setOrganizationIfNewer(detail.organizationId, 'plan', detail.plan, time);
  const cancelled: string[] = [];
  for (const op of await pendingTransfers(detail.organizationId)) {
    const [source, destination] = await Promise.all([
      getOrganization(op.sourceOrganizationId!),
      getOrganization(op.destinationOrganizationId!),
    ]);
    if (!source || !destination || planPairAllowed(source.plan, destination.plan)) continue;
    try {
      await cancelBySystem(
        op,
        {
          code: 'plan-changed',
          message:
            `T1: a transfer from plan ${source.plan} to plan ${destination.plan} is not allowed ` +
            `(plan of ${detail.organizationId} changed to ${detail.plan})`,
          rule: 'T1',
        },
        { eventId: id, organizationId: detail.organizationId, plan: detail.plan },
      );
      cancelled.push(op.id);
    } catch (error) {
      if (!(error instanceof Conflict)) throw error; // it started or was cancelled meanwhile
    }
  }
  logger.info('B3 plan changed', { organizationId: detail.organizationId, plan: detail.plan, updated, cancelled });
  return { duplicate: false, updated, cancelled };
}

export const runIdFor = (eventId: string) => `b1-${eventId}`;

/** B1: one bulk run per event; a duplicate delivery finds the run and the execution already there. */
export async function handleContractCancelled(event: unknown) {
  const { id, detail, org } = await parseBillingEvent('Contract Cancelled', event);
  const runId = runIdFor(id);
  const at = now();
  // D7 beyond: the contract is over, so members are deleted now whatever the grace period; the run says so
  const graceDays = org.deletionGraceDays ?? 0;
  const gracePeriodIgnored =
    graceDays > 0
      ? {
          gracePeriodIgnored: {
            days: graceDays,
            rule: 'B1' as const,
            message: `B1: the contract is cancelled; the grace period of ${graceDays} days (D7) does not apply`,
          },
        }
      : {};
  // B4: above the confirmation threshold the run waits for an operator, changing nothing, its execution not started
  const status = initialRunStatus(org.members, confirmationThreshold());
  const run: RunRecord = {
    id: runId,
    kind: 'contract-cancellation',
    organizationId: detail.organizationId,
    eventId: id,
    status,
    total: status === 'running' ? 0 : org.members,
    done: 0,
    failed: 0,
    skipped: 0,
    createdAt: at,
    updatedAt: at,
    ...gracePeriodIgnored,
  };
  // docs/EVENTS.md, at least once: the creation's outbox entry in the run's own Put; delivered after it, or by a
  // duplicate delivery (a retry of this target after it stopped), StartRun, or the outbox sweeper
  const entry = runOutboxEntry(run, 'create', 'system');
  const created = await createRun(run, [entry]);
  if (created) await deliverPending({ ...run, pendingEvents: [entry], outboxMark: outboxMarkOf(entry) });
  // a duplicate delivery starts only what the first one would have: never a run that waits or was cancelled
  const existing = created ? undefined : await flushPending(await getRun(runId));
  if ((created ? status : existing?.status) === 'running') await startBulkExecution(runId, detail.organizationId);
  logger.info('B1 contract cancelled', { organizationId: detail.organizationId, runId, status, duplicate: !created });
  return { runId, status, duplicate: !created };
}

/** B4: a reinstated contract cancels the organization's contract-cancellation run that has not started deleting. */
export async function handleContractReinstated(event: unknown) {
  const { id, detail } = await parseBillingEvent('Contract Reinstated', event);
  const { cancelled, kept } = await cancelRunsOnReinstatement(detail.organizationId, id);
  logger.info('B4 contract reinstated', { organizationId: detail.organizationId, cancelled, kept });
  return { duplicate: false, cancelled, kept };
}
