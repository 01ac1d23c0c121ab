import { requireEnvAtColdStart } from '../../shared/config.js';
import { logger } from '../../shared/logger.js';
import { sweepOutbox } from '../../services/outbox-sweeper.js';

// at cold start, every variable this function is given and reads (test/infra/cold-start.test.ts)
requireEnvAtColdStart('TABLE_NAME', 'OPERATION_EVENT_BUS_NAME');

/** Time kept back from the function's timeout: the last group's publish and removals finish within it. */
const RESERVE_MS = 15_000;

/**
 * docs/EVENTS.md, the outbox sweeper, run every minute by its schedule (infra/constructs/operation-events.ts): the
 * outbox entries a stopped invocation left are delivered, each event with the id its transition gave it.
 */
export const handler = async (_event: unknown, context?: { getRemainingTimeInMillis?: () => number }) => {
  logger.resetKeys();
  const remaining = context?.getRemainingTimeInMillis?.();
  const result = await sweepOutbox(remaining === undefined ? {} : { deadlineMs: Date.now() + remaining - RESERVE_MS });
  if (result.due) logger.info('outbox swept', { ...result });
  return result;
};
