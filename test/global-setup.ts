import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal, type RunningEmulator } from '../local/emulators/dynamodb-local.js';
import { startS3Local } from '../local/emulators/s3-local.js';

let emulators: RunningEmulator[] = [];

/** One DynamoDB Local and one S3 emulator for the whole run, only when integration tests are selected. */
export async function setup(project: TestProject) {
  const wantsIntegration = project.vitest.state.getPaths().length === 0
    ? true
    : project.vitest.state.getPaths().some((p) => p.includes('integration'));
  if (!wantsIntegration || process.env.OFFBOARD_TARGET === 'stack') return;
  emulators = [await startDynamoDbLocal(), await startS3Local()];
  project.provide('dynamodbEndpoint', emulators[0]!.endpoint);
  project.provide('s3Endpoint', emulators[1]!.endpoint);
}

export async function teardown() {
  for (const e of emulators) await e.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
    s3Endpoint: string;
  }
}
