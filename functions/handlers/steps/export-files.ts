import { requireEnvAtColdStart } from '../../shared/config.js';
import * as z from 'zod/mini';
import { exportFiles } from '../../services/exports.js';
import { OperationInput, step } from './step.js';

// at cold start, every variable this function is given and reads (test/infra/cold-start.test.ts)
requireEnvAtColdStart('TABLE_NAME', 'BUCKET_NAME', 'EXPORT_BUCKET_NAME');

const Input = z.extend(OperationInput, {
  cursor: z.optional(
    z.object({
      page: z.int().check(z.minimum(0)),
      index: z.optional(z.int().check(z.minimum(0))),
      part: z.optional(z.int().check(z.minimum(1))),
    }),
  ),
});

/** ExportFiles: X4, before the first deletion: one verified archive part per invocation; a cursor while files remain. */
export const handler = step('ExportFiles', Input, async ({ operationId, cursor }) => {
  const next = await exportFiles(operationId, cursor);
  return next ? { operationId, cursor: next } : { operationId };
});
