import { pagedPhase } from './step.js';

/** HandleFiles: F1, F2, F4: files deleted (bytes first) or handed over to the organization. Returns a cursor while plan pages remain. */
export const handler = pagedPhase('HandleFiles');
