import { logger } from '../../shared/logger.js';

/**
 * An EventBridge rule target. A rejected event is logged with its reason and thrown: after the asynchronous
 * invocation's retries it lands in the dead-letter queue with the error (the function's on-failure destination).
 */
export function billingTarget<R>(detailType: string, run: (event: unknown) => Promise<R>) {
  return async (event: unknown): Promise<R> => {
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
}
