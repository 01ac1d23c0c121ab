import { requireEnvAtColdStart } from '../../shared/config.js';
import { handlePlanChanged } from '../../services/billing-events.js';
import { billingTarget, STARTING_BILLING_ENV } from './target.js';

// at cold start, every variable this function is given and reads (test/infra/cold-start.test.ts)
requireEnvAtColdStart(...STARTING_BILLING_ENV);

/** Target of the "Plan Changed" rule (B3): plan updated, transfers T1 now forbids cancelled. */
export const handler = billingTarget('Plan Changed', handlePlanChanged, { idempotent: true });
