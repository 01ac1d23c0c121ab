import { handlePlanChanged } from '../../services/billing-events.js';
import { billingTarget } from './target.js';

/** Target of the "Plan Changed" rule (B3): plan updated, transfers T1 now forbids cancelled. */
export const handler = billingTarget('Plan Changed', handlePlanChanged, { idempotent: true });
