import { handleContractCancelled } from '../../services/billing-events.js';
import { billingTarget } from './target.js';

/** Target of the "Contract Cancelled" rule (B1, F3): starts the bulk run. */
export const handler = billingTarget('Contract Cancelled', handleContractCancelled);
