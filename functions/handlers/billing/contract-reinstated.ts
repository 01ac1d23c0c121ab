import { requireEnvAtColdStart } from '../../shared/config.js';
import { handleContractReinstated } from '../../services/billing-events.js';
import { billingTarget } from './target.js';

// at cold start, every variable this function is given and reads (test/infra/cold-start.test.ts)
requireEnvAtColdStart('TABLE_NAME', 'BUCKET_NAME', 'OPERATION_EVENT_BUS_NAME');

/** Target of the "Contract Reinstated" rule (B4): cancels the organization's contract-cancellation run not yet deleting. */
export const handler = billingTarget('Contract Reinstated', handleContractReinstated);
