import { lookup } from 'node:dns/promises';
import { readFileSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../../infra/constructs/offboard-function.js';

/** `--name value` and `--flag` options, and the remaining positional arguments. */
export function parseArgs(argv: string[]): { options: Record<string, string | true>; positional: string[] } {
  const options: Record<string, string | true> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith('--')) {
      const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
      if (inline !== undefined) options[name] = inline;
      else if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) options[name] = argv[++i]!;
      else options[name] = true;
    } else positional.push(arg);
  }
  return { options, positional };
}

export const STATE_FILE = path.join(REPO_ROOT, '.offboard', 'stack.json');

/** The running embedded stack's URL: --port, PORT, the state file `npm start` writes, or the default port. */
export function stackUrl(options: Record<string, string | true>): string {
  const port = typeof options.port === 'string' ? options.port : process.env.PORT;
  if (port) return `http://127.0.0.1:${port}`;
  if (existsSync(STATE_FILE)) return JSON.parse(readFileSync(STATE_FILE, 'utf8')).url;
  return 'http://127.0.0.1:3000';
}

export function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

export async function callStack(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  let res: Response;
  try {
    res = await fetch(`${url}${path}`, {
      method,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
  } catch {
    fail(`no embedded stack answers at ${url}: start it with \`npm start\` (or pass --port)`);
  }
  return { status: res.status, json: await res.json() };
}

const isLoopbackAddress = (address: string) =>
  /^127(\.\d{1,3}){3}$/.test(address) || address === '::1' || address === '::ffff:7f00:1' || /^::ffff:127(\.\d{1,3}){3}$/.test(address);

/**
 * Whether an endpoint URL reaches this machine only: its host is `localhost` (or `*.localhost`), a loopback address
 * (127.0.0.0/8, ::1), or a name every address of which is one (as `localhost.localstack.cloud`).
 */
export async function isLoopbackEndpoint(url: string | undefined): Promise<boolean> {
  if (!url) return false;
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  } catch {
    return false;
  }
  if (host === 'localhost' || host.endsWith('.localhost') || isLoopbackAddress(host)) return true;
  try {
    const addresses = await lookup(host, { all: true });
    return addresses.length > 0 && addresses.every((a) => isLoopbackAddress(a.address));
  } catch {
    return false; // a name that does not resolve is not known to be local
  }
}

/**
 * `world load --stack NAME` replaces every organization's data in that stack's table and bucket. It runs without
 * asking only where every service it writes to (DynamoDB, S3) and the stack lookup (CloudFormation) are reached at a
 * loopback endpoint; anywhere else `--yes-replace-everything NAME` must name the stack exactly. Answers why it is
 * refused (naming what is missing), or undefined.
 */
export async function loadRefusal(
  stack: string,
  confirm: string | true | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  const endpoints = {
    DynamoDB: env.AWS_ENDPOINT_URL_DYNAMODB || env.AWS_ENDPOINT_URL,
    S3: env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL,
    CloudFormation: env.AWS_ENDPOINT_URL_CLOUDFORMATION || env.AWS_ENDPOINT_URL,
  };
  const local = await Promise.all(Object.values(endpoints).map(isLoopbackEndpoint));
  const remote = Object.entries(endpoints).filter((_, i) => !local[i]);
  if (remote.length === 0 || confirm === stack) return undefined;
  const where = remote.map(([service, url]) => `${service} at ${url || 'its AWS endpoint'}`).join(', ');
  const asked =
    confirm === undefined
      ? 'without --yes-replace-everything'
      : confirm === true
        ? '--yes-replace-everything names no stack'
        : `--yes-replace-everything names ${confirm}, not ${stack}`;
  return `world load --stack ${stack} would replace every organization's data in stack ${stack} (${where}: not a local endpoint); refused, nothing changed: ${asked}. To replace everything there, add --yes-replace-everything ${stack}`;
}
