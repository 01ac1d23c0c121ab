/** Configuration fails fast: a missing variable throws with its name when first read. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`missing environment variable ${name}`);
  return value;
}

/**
 * The variables every function of a kind is given (infra: bindTable, bindBucket), checked when its handler is made,
 * at the function's cold start: a function deployed without one fails its init naming it, not part way through a
 * step. The store still reads them where it uses them (tests and the local tools set them after importing it).
 */
export function requireEnvAtColdStart(...names: string[]): void {
  for (const name of names) requireEnv(name);
}
