import { startPurge } from '../../services/grace.js';
import { OperationInput, step } from './step.js';

/** StartPurge (D7 beyond): after the Wait, the purge begins unless the deletion was undone; `purge: false` ends it. */
export const handler = step('StartPurge', OperationInput, async ({ operationId }) => ({ operationId, ...(await startPurge(operationId)) }));
