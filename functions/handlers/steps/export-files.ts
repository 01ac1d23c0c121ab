import * as z from 'zod/mini';
import { exportFiles } from '../../services/exports.js';
import { OperationInput, step } from './step.js';

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
