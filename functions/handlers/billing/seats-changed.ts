import { handleSeatsChanged } from '../../services/billing-events.js';
import { billingTarget } from './target.js';

/** Target of the "Seats Changed" rule (B2): seats updated, waiting transfers resumed oldest first. */
export const handler = billingTarget('Seats Changed', handleSeatsChanged, { idempotent: true });
