import { handleContractReinstated } from '../../services/billing-events.js';
import { billingTarget } from './target.js';

/** Target of the "Contract Reinstated" rule (B4): cancels the organization's contract-cancellation run not yet deleting. */
export const handler = billingTarget('Contract Reinstated', handleContractReinstated);
