import { requireEnvAtColdStart } from '../../shared/config.js';
import { handlers } from './steps.js';

// at cold start, every variable this function is given and reads (test/infra/cold-start.test.ts)
requireEnvAtColdStart('TABLE_NAME', 'BUCKET_NAME', 'OPERATION_EVENT_BUS_NAME');

export const handler = handlers.StartRun;
