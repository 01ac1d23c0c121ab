import { json } from './http.js';

/** GET /health: no authorizer, no store access. */
export const handler = async () => json(200, { status: 'ok' });
