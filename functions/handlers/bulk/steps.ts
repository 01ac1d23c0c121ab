import * as z from 'zod/mini';
import { deleteBatch, deleteOwnedFiles, failRun, finishRun, recordBatchFailed, startRun } from '../../services/bulk-run.js';
import { NonEmpty, step, StepError } from '../steps/step.js';

const Run = z.object({ runId: NonEmpty, organizationId: NonEmpty });
const RunOnly = z.object({ runId: NonEmpty });
const Batch = { batch: z.object({ n: z.int().check(z.minimum(0)), cursor: z.optional(z.string()) }) };

/** The bulk cancellation run's steps (B1, F3); one handler module per function, see the files beside this one. */
export const handlers = {
  StartRun: step('StartRun', Run, async ({ runId, organizationId }) => ({ ...(await startRun(runId, organizationId)), n: 0 })),
  DeleteBatch: step('DeleteBatch', z.extend(Run, Batch), ({ runId, organizationId, batch }) =>
    deleteBatch(runId, organizationId, batch.n, batch.cursor),
  ),
  RecordBatchFailed: step('RecordBatchFailed', z.extend(Run, { ...Batch, error: StepError }), ({ runId, organizationId, batch, error }) =>
    recordBatchFailed(runId, organizationId, batch.n, batch.cursor, error),
  ),
  DeleteOwnedFiles: step(
    'DeleteOwnedFiles',
    z.extend(Run, { files: z.optional(z.object({ cursor: z.optional(z.string()) })) }),
    ({ runId, organizationId, files }) => deleteOwnedFiles(runId, organizationId, files?.cursor),
  ),
  FinishRun: step('FinishRun', RunOnly, ({ runId }) => finishRun(runId)),
  FailRun: step('FailRun', z.extend(RunOnly, { error: StepError }), async ({ runId, error }) => {
    await failRun(runId, error);
    return { runId, status: 'failed' };
  }),
};
