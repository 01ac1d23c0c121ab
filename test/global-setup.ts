import { readdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal, type RunningEmulator } from '../local/emulators/dynamodb-local.js';
import { startS3Local } from '../local/emulators/s3-local.js';
import { ensureConsoleBuilt } from '../local/console-files.js';

let emulators: RunningEmulator[] = [];

/**
 * One DynamoDB Local and one S3 emulator for the whole run, only when integration or browser tests are selected;
 * the admin console is built first when browser tests are (console/dist missing or older than its sources).
 */
export async function setup(project: TestProject) {
  const paths = project.vitest.state.getPaths();
  const selected = (folder: string) => paths.length === 0 || paths.some((p) => p.includes(folder));
  if (selected('browser')) await ensureConsoleBuilt();
  const wantsIntegration = selected('integration') || selected('browser');
  if (!wantsIntegration || process.env.OFFBOARD_TARGET === 'stack') return;
  // Every integration file runs: what the functions use is measured afresh (test/least-privilege/); a partial run adds to the last
  const integration = path.join(import.meta.dirname, 'integration');
  const files = readdirSync(integration)
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => path.join(integration, f));
  if (files.every((f) => paths.includes(f)))
    rmSync(path.join(import.meta.dirname, '..', '.offboard', 'iam-usage'), { recursive: true, force: true });
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
