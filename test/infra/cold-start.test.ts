import { pathToFileURL } from 'node:url';
import * as path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ENTRY_METADATA, REPO_ROOT } from '../../infra/constructs/offboard-function.js';
import { synthesize } from './template.js';

/**
 * Configuration fails at cold start: each function's handler module, loaded as Lambda loads it, checks the variables
 * the stack gives that function and its code reads, and only those. Loaded with none of them it fails its init naming
 * every one; loaded with exactly what the stack gives it, it loads.
 */
const OPTIONAL = new Set([
  'NODE_OPTIONS', // Node's own
  'POWERTOOLS_SERVICE_NAME', // Powertools' own
  'USER_ID_CLAIM', // the JWT claim that names the caller: `sub` when not set (handlers/api/http.ts)
  'CONFIRMATION_THRESHOLD', // B4: 500 members when not set (services/billing-events.ts)
]);

const functions = Object.values<any>(synthesize().findResources('AWS::Lambda::Function'))
  .filter((f) => f.Metadata?.[ENTRY_METADATA])
  .map((f) => ({ entry: f.Metadata[ENTRY_METADATA] as string, given: Object.keys(f.Properties.Environment?.Variables ?? {}) }))
  .sort((a, b) => a.entry.localeCompare(b.entry));
const EVERY_NAME = [...new Set(functions.flatMap((f) => f.given))];

const saved = { ...process.env };
afterEach(() => {
  for (const name of EVERY_NAME) delete process.env[name];
  Object.assign(process.env, saved);
});

/** Loads `entry` afresh (a cold start) with only `names` of the stack's variables set: the error its init throws, if any. */
async function coldStart(entry: string, names: readonly string[]): Promise<Error | undefined> {
  for (const name of EVERY_NAME) delete process.env[name];
  for (const name of names) process.env[name] = `value-of-${name}`;
  vi.resetModules();
  return import(pathToFileURL(path.join(REPO_ROOT, entry)).href).then(
    () => undefined,
    (error: Error) => error,
  );
}

/** The variables an init error names ("missing environment variable A" or "… variables A, B"). */
const named = (error: Error | undefined) => (error?.message.match(/^missing environment variables? (.+)$/)?.[1]?.split(', ') ?? []).sort();

describe('cold-start configuration', () => {
  it('the stack has the functions this reads (32)', () => expect(functions.length).toBe(32));
  for (const { entry, given } of functions) {
    const required = given.filter((name) => !OPTIONAL.has(name)).sort();
    it(`${entry}: checks ${required.join(', ') || 'nothing'} at cold start, all given it by the stack`, async () => {
      const bare = await coldStart(
        entry,
        given.filter((name) => OPTIONAL.has(name)),
      );
      expect(named(bare)).toEqual(required);
      if (required.length === 0) expect(bare).toBeUndefined();
      expect(await coldStart(entry, given)).toBeUndefined();
    }, 30_000);
  }
});
