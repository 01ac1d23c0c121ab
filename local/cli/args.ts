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
    res = await fetch(`${url}${path}`, { method, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  } catch {
    fail(`no embedded stack answers at ${url}: start it with \`npm start\` (or pass --port)`);
  }
  return { status: res.status, json: await res.json() };
}
