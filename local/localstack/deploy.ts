import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { REPO_ROOT } from '../../infra/constructs/offboard-function.js';
import { writeFreeTierBootstrapTemplate } from './bootstrap-template.js';
import { cdklocalEnvironment } from './guard.js';

/**
 * The two LocalStack setups (README, "LocalStack"):
 * - `full`: LocalStack with an auth token (Base plan or above): the whole stack, the HTTP API and its JWT authorizer
 *   included; tokens from the identity provider given (`jwtIssuer`, `jwtAudience`), or from the stack's Cognito pool.
 * - `core`: the free tier or the last open-source image: `-c offboard:api=none`, everything but the HTTP API, Cognito
 *   and what browsers reach; the tools reach the API functions through the project's gateway in front of lambda:Invoke.
 */
export type Setup = 'full' | 'core';

/** Pinned images. `core` is the last open-source tag that starts without a token (no updates since March 2026). */
export const IMAGES: Record<Setup, string> = {
  full: 'localstack/localstack:2026.03.0',
  core: 'localstack/localstack:4.14.0',
};

/** The container's settings for this stack (README lists why). */
export const LOCALSTACK_ENV = {
  // nothing deployed as a placeholder: an unsupported resource fails the deployment instead of "succeeding"
  CFN_IGNORE_UNSUPPORTED_RESOURCE_TYPES: '0',
  // the functions are arm64; x86 hosts (GitHub's runners) run them anyway
  LAMBDA_IGNORE_ARCHITECTURE: '1',
};

export function setupFor(env: NodeJS.ProcessEnv, asked?: string): Setup | { refused: string } {
  const setup = asked ?? env.OFFBOARD_LOCALSTACK_SETUP ?? (env.LOCALSTACK_AUTH_TOKEN ? 'full' : 'core');
  if (setup !== 'full' && setup !== 'core')
    return { refused: `unknown LocalStack setup "${setup}": expected full (auth token) or core (free tier, -c offboard:api=none)` };
  return setup;
}

/** Where LocalStack's Cognito says its tokens come from: `{base}/{poolId}`. */
export const LOCALSTACK_COGNITO_ISSUER_BASE = 'http://localhost:4566';

/** The CDK context of a setup: core without the API; full with the issuer given, or the stack's Cognito pool as LocalStack issues its tokens. */
export function contextFor(
  setup: Setup,
  jwt?: { issuer: string; audience: string },
  cognitoIssuerBase = LOCALSTACK_COGNITO_ISSUER_BASE,
): string[] {
  const identity = jwt
    ? [`offboard:jwtIssuer=${jwt.issuer}`, `offboard:jwtAudience=${jwt.audience}`]
    : [`offboard:cognitoIssuerBase=${cognitoIssuerBase}`];
  const ctx = ['offboard:retainData=false', ...(setup === 'core' ? ['offboard:api=none'] : identity)];
  return ctx.flatMap((c) => ['-c', c]);
}

/** Runs cdklocal with the guarded environment; refuses (one line on stderr, exit 1) when it could reach AWS. */
export async function cdklocal(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const guarded = cdklocalEnvironment(env);
  if ('refused' in guarded) {
    process.stderr.write(`${guarded.refused}\n`);
    return 1;
  }
  const bin = path.join(REPO_ROOT, 'node_modules', '.bin', 'cdklocal');
  return new Promise((resolve) => {
    const child = spawn(bin, args, { cwd: REPO_ROOT, env: guarded.env, stdio: 'inherit' });
    child.on('exit', (code) => resolve(code ?? 1));
    child.on('error', (error) => {
      process.stderr.write(`cannot run ${bin}: ${error.message}\n`);
      resolve(1);
    });
  });
}

/** `cdklocal bootstrap`, then `cdklocal deploy` of the setup; the outputs go to cdk-outputs.json. */
export async function deploy(
  setup: Setup,
  options: { env?: NodeJS.ProcessEnv; jwt?: { issuer: string; audience: string }; cognitoIssuerBase?: string } = {},
): Promise<number> {
  const env = options.env ?? process.env;
  const guarded = cdklocalEnvironment(env);
  if ('env' in guarded) {
    const health = `${guarded.env.AWS_ENDPOINT_URL!.replace(/\/$/, '')}/_localstack/health`;
    const answer = await fetch(health, { signal: AbortSignal.timeout(10_000) }).catch((error: Error) => error);
    if (answer instanceof Error || !answer.ok) {
      process.stderr.write(
        `no LocalStack answers at ${health} (${answer instanceof Error ? ((answer.cause as Error)?.message ?? answer.message) : answer.status}): start it first (README, "LocalStack")\n`,
      );
      return 1;
    }
  }
  const context = contextFor(setup, options.jwt, options.cognitoIssuerBase);
  // the free tier has no ECR: its bootstrap stack leaves the container-assets repository out
  const template = setup === 'core' ? ['--template', await writeFreeTierBootstrapTemplate()] : [];
  const bootstrapped = await cdklocal(['bootstrap', ...template, ...context], env);
  if (bootstrapped !== 0) return bootstrapped;
  return cdklocal(['deploy', '--require-approval', 'never', '--outputs-file', 'cdk-outputs.json', ...context], env);
}
