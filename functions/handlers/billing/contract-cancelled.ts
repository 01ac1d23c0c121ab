import { requireEnvAtColdStart } from '../../shared/config.js';
import { handleContractCancelled } from '../../services/billing-events.js';
import { billingTarget, STARTING_BILLING_ENV } from './target.js';

// at cold start, every variable this function is given and reads (test/infra/cold-start.test.ts)
requireEnvAtColdStart(...STARTING_BILLING_ENV);

/** Target of the "Contract Cancelled" rule (B1, F3): starts the bulk run. */
export const handler = billingTarget('Contract Cancelled', handleContractCancelled);
