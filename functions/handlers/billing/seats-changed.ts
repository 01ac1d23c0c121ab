import { requireEnvAtColdStart } from '../../shared/config.js';
import { handleSeatsChanged } from '../../services/billing-events.js';
import { billingTarget, STARTING_BILLING_ENV } from './target.js';

// at cold start, every variable this function is given and reads (test/infra/cold-start.test.ts)
requireEnvAtColdStart(...STARTING_BILLING_ENV);

/** Target of the "Seats Changed" rule (B2): seats updated, waiting transfers resumed oldest first. */
export const handler = billingTarget('Seats Changed', handleSeatsChanged, { idempotent: true });
