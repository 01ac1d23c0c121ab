import { pagedPhase } from './step.js';

/** PruneContacts: T7, D4: contacts broken on both sides. Returns a cursor while plan pages remain. */
export const handler = pagedPhase('PruneContacts');
