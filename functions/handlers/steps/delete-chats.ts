import { pagedPhase } from './step.js';

/** DeleteChats: D3, D4, D5, G2, T7, F2, D6: chats deleted with their contents, tasks deleted. Returns a cursor while plan pages remain. */
export const handler = pagedPhase('DeleteChats');
