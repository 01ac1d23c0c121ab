import { pagedPhase } from './step.js';

/** LeaveChats: T8, D4, D5, G1, G2: chats left, administrators granted, direct chats frozen. Returns a cursor while plan pages remain. */
export const handler = pagedPhase('LeaveChats');
