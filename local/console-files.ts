import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import * as path from 'node:path';
import { REPO_ROOT } from '../infra/constructs/offboard-function.js';

/** The admin console (console/): a static single-page app built by Vite into console/dist. */
export const CONSOLE_DIR = path.join(REPO_ROOT, 'console');
export const CONSOLE_DIST = path.join(CONSOLE_DIR, 'dist');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/** The console's settings on the embedded stack: the API on the same origin, local sign-in. */
export const LOCAL_CONSOLE_CONFIG = { apiUrl: '', auth: { mode: 'local' } } as const;

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name === 'node_modules') continue;
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds the console when console/dist is missing or older than its sources (a fresh clone, an edit). */
export async function ensureConsoleBuilt(log: (line: string) => void = () => undefined): Promise<void> {
  const index = path.join(CONSOLE_DIST, 'index.html');
  if (existsSync(index) && statSync(index).mtimeMs >= newestSource(CONSOLE_DIR)) return;
  log('Building the admin console (vite build console)…\n');
  const { build } = await import('vite');
  await build({ configFile: path.join(CONSOLE_DIR, 'vite.config.ts'), logLevel: 'warn' });
}

/**
 * Serves `/` (index.html), `/assets/*` and `/config.json`; answers false for anything else (the API's routes).
 * Files are read only from console/dist: a path that leaves it is not served.
 */
export function serveConsole(method: string, pathname: string, res: ServerResponse, config: unknown = LOCAL_CONSOLE_CONFIG): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  if (pathname === '/config.json') {
    res
      .writeHead(200, { 'content-type': CONTENT_TYPES['.json']!, 'cache-control': 'no-store' })
      .end(method === 'HEAD' ? undefined : JSON.stringify(config));
    return true;
  }
  const file =
    pathname === '/' || pathname === '/index.html' ? 'index.html' : pathname.startsWith('/assets/') ? pathname.slice(1) : undefined;
  if (!file) return false;
  const full = path.resolve(CONSOLE_DIST, file);
  if (!full.startsWith(CONSOLE_DIST + path.sep) || !existsSync(full) || !statSync(full).isFile()) {
    if (file === 'index.html') {
      res
        .writeHead(503, { 'content-type': 'text/plain; charset=utf-8' })
        .end('The admin console is not built: run `npm run build:console`.\n');
      return true;
    }
    return false;
  }
  res.writeHead(200, {
    'content-type': CONTENT_TYPES[path.extname(full)] ?? 'application/octet-stream',
    'x-content-type-options': 'nosniff',
    // hashed asset names never change; index.html must be read again to find new ones
    'cache-control': file === 'index.html' ? 'no-cache' : 'public, max-age=31536000, immutable',
  });
  if (method === 'HEAD') res.end();
  else createReadStream(full).pipe(res);
  return true;
}
