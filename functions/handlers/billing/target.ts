import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { Context } from 'aws-lambda';
import { logger } from '../../shared/logger.js';
import { BILLING_EVENT_MEMORY_SECONDS, billingIdempotencyStore } from '../../store/idempotency.js';

/** What the stack gives the Contract Cancelled, Seats Changed and Plan Changed functions (infra/constructs/billing.ts). */
export const STARTING_BILLING_ENV = [
  'TABLE_NAME',
  'BUCKET_NAME',
  'TRANSFER_STATE_MACHINE_ARN',
  'CANCELLATION_STATE_MACHINE_ARN',
  'OPERATION_EVENT_BUS_NAME',
] as const;

/**
 * An EventBridge rule target. A rejected event is logged with its reason and thrown: after the asynchronous
 * invocation's retries it lands in the dead-letter queue with the error (the function's on-failure destination).
 *
 * `idempotent`: the target runs once per EventBridge event id (Powertools idempotency, records in the table); a
 * redelivery answers the first delivery's result marked `duplicate: true` and changes nothing. A failed delivery
 * leaves no record, so its retry runs again. B1 does without: its bulk run is named after the event id already.
 */
export function billingTarget<R extends object>(
  detailType: string,
  run: (event: unknown) => Promise<R>,
  options: { idempotent?: boolean } = {},
) {
  const target = async (event: unknown): Promise<R> => {
    const id = (event as { id?: string })?.id;
    logger.resetKeys(); // a warm function must not carry the last event's keys
    logger.appendKeys({ detailType, eventId: id });
    try {
      return await run(event);
    } catch (error) {
      logger.error('billing event rejected', { reason: (error as Error).message, event: event as Record<string, unknown> });
      throw error;
    }
  };
  if (!options.idempotent) return target;
  return makeIdempotent(async (event: unknown, _context: Context) => target(event), {
    persistenceStore: billingIdempotencyStore(),
    keyPrefix: `billing.${detailType}`,
    config: new IdempotencyConfig({
      eventKeyJmesPath: 'id',
      expiresAfterSeconds: BILLING_EVENT_MEMORY_SECONDS,
      responseHook: (response) => ({ ...(response as object), duplicate: true }),
    }),
  });
}
