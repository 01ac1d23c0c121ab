import { pagedPhase } from './step.js';

/** DeleteUser: D2: the user is deleted, the API token revoked, the seat released (D1 guarded in the same transaction). Returns a cursor while plan pages remain. */
export const handler = pagedPhase('DeleteUser');
