import * as z from 'zod/mini';
import { logger } from '../../shared/logger.js';
import { checkingDelivery } from '../../services/events.js';
import { withPlanCache } from '../../store/plans.js';

export const NonEmpty = z.string().check(z.minLength(1));
export const OperationInput = z.object({ operationId: NonEmpty });
export const Cursor = z.object({ page: z.int().check(z.minimum(0)), index: z.optional(z.int().check(z.minimum(0))) });
export const StepError = z.object({ Error: z.optional(z.string()), Cause: z.optional(z.string()) });

export class InvalidStepInput extends Error {
  override name = 'InvalidStepInput';
}

/** docs/EVENTS.md: a step that ends its execution committed a transition whose events are not on the bus yet. */
export class EventsNotPublished extends Error {
  override name = 'EventsNotPublished';
}

/**
 * The steps after which nothing of the execution reads the operation again: their own undelivered events fail them,
 * and the Retry of operation-workflow.ts runs them again, which delivers the outbox first (services/lifecycle.ts).
 * Earlier steps leave theirs to the steps after them (failing them would fail the operation over a bus outage).
 */
const ENDS_EXECUTION = new Set(['Finalize', 'MarkFailed', 'AwaitSeat']);

/** A state machine step: parse its input with its schema, run, log. Errors keep their names for Retry/Catch. */
export function step<S extends z.ZodMiniType, R>(name: string, schema: S, run: (input: z.infer<S>) => Promise<R>) {
  return async (event: unknown): Promise<R> => {
    const parsed = schema.safeParse(event);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new InvalidStepInput(`${name}: ${issue.path.join('.') || 'input'}: ${issue.message}`);
    }
    logger.resetKeys(); // a warm function must not carry the last invocation's keys
    logger.appendKeys({ step: name, operationId: (parsed.data as any).operationId, runId: (parsed.data as any).runId });
    try {
      // an operation's plan read once per invocation (store/plans.ts withPlanCache)
      const { result, undelivered } = await checkingDelivery(() => withPlanCache(() => run(parsed.data)));
      // Apply ends the execution too when it finalized a run it applied whole (`finalized`)
      if (undelivered.length && (ENDS_EXECUTION.has(name) || (result as { finalized?: unknown } | undefined)?.finalized === true)) {
        throw new EventsNotPublished(`events of ${undelivered.map((e) => e.key).join(', ')} not on the bus yet`);
      }
      logger.info('step done', { result: result as any });
      return result;
    } catch (error) {
      logger.error('step failed', error as Error);
      throw error;
    }
  };
}
