import { requireEnvAtColdStart } from '../../shared/config.js';
import { startPurge } from '../../services/grace.js';
import { OperationInput, step } from './step.js';

// at cold start, every variable this function is given and reads (test/infra/cold-start.test.ts)
requireEnvAtColdStart('TABLE_NAME', 'BUCKET_NAME', 'OPERATION_EVENT_BUS_NAME');

/** StartPurge (D7 beyond): after the Wait, the purge begins unless the deletion was undone; `purge: false` ends it. */
export const handler = step('StartPurge', OperationInput, async ({ operationId }) => ({ operationId, ...(await startPurge(operationId)) }));
