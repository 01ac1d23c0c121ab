import { buildApp } from 'fauxqs';
import type { RunningEmulator } from './dynamodb-local.js';

/** An in-memory S3 (fauxqs), bound to the loopback interface only. */
export async function startS3Local(): Promise<RunningEmulator> {
  const app = buildApp({ logger: false } as any);
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    endpoint: address.replace('localhost', '127.0.0.1'),
    async stop() {
      await app.close();
    },
  };
}
