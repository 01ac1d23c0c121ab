/** Configuration fails fast: a missing variable throws with its name when first read. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`missing environment variable ${name}`);
  return value;
}

/**
 * The variables a function's code path reads, checked when its handler module loads, at the function's cold start:
 * a function deployed without one fails its init naming every one missing, not part way through a step. Each handler
 * module (functions/handlers/**) calls it once, with what the stack gives its function (test/infra/cold-start.test.ts
 * holds the two together). The store still reads them where it uses them (the local tools set them after importing it).
 */
export function requireEnvAtColdStart(...names: string[]): void {
  const missing = names.filter((name) => process.env[name] === undefined || process.env[name] === '');
  if (missing.length === 1) requireEnv(missing[0]!);
  if (missing.length > 1) throw new Error(`missing environment variables ${missing.join(', ')}`);
}
