import * as z from 'zod/mini';
import { planPairAllowed } from '../domain/eligibility.js';
import { PLANS } from '../domain/model.js';
import { Conflict } from '../shared/errors.js';
import { logger } from '../shared/logger.js';
import { now } from '../store/operations.js';
import { createRun, eventSeen, markEventSeen } from '../store/runs.js';
import { getOrganization, setOrganizationIfNewer } from '../store/table.js';
import { startBulkExecution } from './executions.js';
import { cancelBySystem, pendingTransfers, resumeWaitingTransfers } from './transfers.js';

/** Billing events (B1–B3): validated, applied once per event id; B1 starts the bulk run (services/bulk-run.ts). */

/** A billing event that cannot be applied: it changes nothing and ends in the dead-letter queue with this reason. */
export class InvalidBillingEvent extends Error {
  override name = 'InvalidBillingEvent';
}

/** The EventBridge envelope of a billing event (CONTRACT.md "Billing events"). */
export const BillingEnvelope = z.object({
  id: z.string().check(z.minLength(1)),
  source: z.literal('billing'),
  'detail-type': z.string(),
  time: z.optional(z.string()),
  detail: z.unknown(),
});
const OrgId = z.string({ error: 'must be a string' }).check(z.minLength(1, { error: 'must be a non-empty string' }));
export const DETAIL_SCHEMAS = {
  'Contract Cancelled': z.object({ organizationId: OrgId }),
  'Seats Changed': z.object({
    organizationId: OrgId,
    seats: z
      .int({ error: (issue) => (issue.input === undefined ? 'is required' : typeof issue.input !== 'number' ? 'must be a number' : 'must be an integer') })
      .check(z.minimum(0, { error: 'must be 0 or more' })),
  }),
  'Plan Changed': z.object({ organizationId: OrgId, plan: z.enum(PLANS, { error: `must be one of ${PLANS.join(', ')}` }) }),
} as const;
type DetailType = keyof typeof DETAIL_SCHEMAS;

/** Validates an event of one detail-type; the reason names the bad field. The organization must exist. */
export async function parseBillingEvent<T extends DetailType>(detailType: T, event: unknown) {
  const envelope = BillingEnvelope.safeParse(event);
  if (!envelope.success) {
    const issue = envelope.error.issues[0]!;
    throw new InvalidBillingEvent(`${issue.path.join('.') || 'event'}: ${issue.message}`);
  }
  if (envelope.data['detail-type'] !== detailType) throw new InvalidBillingEvent(`detail-type: expected "${detailType}", got "${envelope.data['detail-type']}"`);
  const detail = DETAIL_SCHEMAS[detailType].safeParse(envelope.data.detail);
  if (!detail.success) {
    const issue = detail.error.issues[0]!;
    throw new InvalidBillingEvent(`detail.${issue.path.join('.') || ''}: ${issue.message}`.replace(/\.:/, ':'));
  }
  const org = await getOrganization((detail.data as { organizationId: string }).organizationId);
  if (!org) throw new InvalidBillingEvent(`detail.organizationId: no organization ${(detail.data as { organizationId: string }).organizationId}`);
  return { id: envelope.data.id, time: envelope.data.time ?? now(), detail: detail.data as z.infer<(typeof DETAIL_SCHEMAS)[T]>, org };
}

/** B2: seats are updated; transfers waiting for a seat there resume, oldest first, while seats last. */
export async function handleSeatsChanged(event: unknown) {
  const { id, time, detail } = await parseBillingEvent('Seats Changed', event);
  if (await eventSeen(id)) return { duplicate: true, resumed: [] };
  const updated = await setOrganizationIfNewer(detail.organizationId, 'seats', detail.seats, time);
  const resumed = await resumeWaitingTransfers(detail.organizationId);
  await markEventSeen(id, 'Seats Changed');
  logger.info('B2 seats changed', { organizationId: detail.organizationId, seats: detail.seats, updated, resumed });
  return { duplicate: false, updated, resumed };
}

/** B3: the plan is updated; transfers not yet running (awaiting approval or a seat) that T1 now forbids are cancelled, locks released. */
export async function handlePlanChanged(event: unknown) {
  const { id, time, detail } = await parseBillingEvent('Plan Changed', event);
  if (await eventSeen(id)) return { duplicate: true, cancelled: [] };
  const updated = await setOrganizationIfNewer(detail.organizationId, 'plan', detail.plan, time);
  const cancelled: string[] = [];
  for (const op of await pendingTransfers(detail.organizationId)) {
    const [source, destination] = await Promise.all([getOrganization(op.sourceOrganizationId!), getOrganization(op.destinationOrganizationId!)]);
    if (!source || !destination || planPairAllowed(source.plan, destination.plan)) continue;
    try {
      await cancelBySystem(op, {
        code: 'plan-changed',
        message: `T1: a transfer from plan ${source.plan} to plan ${destination.plan} is not allowed (plan of ${detail.organizationId} changed to ${detail.plan})`,
        rule: 'T1',
      }, { eventId: id, organizationId: detail.organizationId, plan: detail.plan });
      cancelled.push(op.id);
    } catch (error) {
      if (!(error instanceof Conflict)) throw error; // it started or was cancelled meanwhile
    }
  }
  await markEventSeen(id, 'Plan Changed');
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
  const gracePeriodIgnored = graceDays > 0 ? { gracePeriodIgnored: { days: graceDays, rule: 'B1' as const, message: `B1: the contract is cancelled; the grace period of ${graceDays} days (D7) does not apply` } } : {};
  const created = await createRun({ id: runId, kind: 'contract-cancellation', organizationId: detail.organizationId, eventId: id, status: 'running', total: 0, done: 0, failed: 0, createdAt: at, updatedAt: at, ...gracePeriodIgnored });
  await startBulkExecution(runId, detail.organizationId);
  logger.info('B1 contract cancelled', { organizationId: detail.organizationId, runId, duplicate: !created });
  return { runId, duplicate: !created };
}

