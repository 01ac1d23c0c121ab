import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/constructs/offboard-function.js';
import { demoWorld, openTarget, type Target } from './harness.js';

/**
 * A newcomer's first hour outside the console (issue 21): the commands the README prints, run as a person runs them,
 * against the embedded stack. A command that cannot do what was asked says why in one line and exits non-zero.
 */
const embeddedOnly = process.env.OFFBOARD_TARGET === 'stack' ? describe.skip : describe;
const run = promisify(execFile);

/** `npm run SCRIPT -- ARGS` as the package's script runs it; answers its exit code, stdout and stderr. */
async function npmRun(script: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    const out = await run(process.execPath, ['--import', './local/preload.mjs', `local/cli/${script}.ts`, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, timeout: 60_000 });
    return { code: 0, stdout: out.stdout, stderr: out.stderr };
  } catch (error) {
    const e = error as { code?: number; stdout: string; stderr: string };
    return { code: e.code ?? -1, stdout: e.stdout, stderr: e.stderr };
  }
}

let target: Target;
let port: string;
beforeAll(async () => {
  target = await openTarget();
  await target.load(demoWorld());
  port = new URL(target.url).port;
}, 180_000);
afterAll(async () => target?.close());

embeddedOnly('first hour outside the console', () => {
  it('npm start without Java stops at once, saying in one line what to install', async () => {
    const started = Date.now();
    const r = await npmRun('start', ['--port', '0'], { JAVA: path.join(tmpdir(), 'no-such-java') });
    expect(r.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/DynamoDB Local needs Java, and .*no-such-java was not found: install a Java runtime 17 or newer/);
    expect(r.stderr).not.toContain('ENOENT');
  });

  it('npm run token refuses an unknown user (a typo), naming it, and gives a token for a known one', async () => {
    const typo = await npmRun('token', ['admina', '--port', port]);
    expect(typo.code).toBe(1);
    expect(typo.stdout).toBe('');
    expect(typo.stderr).toContain('no user "admina" in the loaded world');
    const ok = await npmRun('token', ['adminA', '--port', port]);
    expect(ok.code).toBe(0);
    const me = await fetch(`${target.url}/me`, { headers: { authorization: `Bearer ${ok.stdout.trim()}` } });
    expect(me.status).toBe(200);
  });

  it('a token from an earlier run of the stack (another signing key) answers 401 saying the stack was restarted', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const stale = await new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setSubject('adminA').setIssuer('http://127.0.0.1/local-idp')
      .setAudience('offboard-local').setIssuedAt().setExpirationTime('12h').sign(privateKey);
    const res = await fetch(`${target.url}/me`, { headers: { authorization: `Bearer ${stale}` } });
    expect(res.status).toBe(401);
    const body = await res.json();
    expect(body.error.code).toBe('unauthenticated');
    expect(body.error.message).toContain('issued by an earlier run of the stack');
    expect(body.error.message).toContain('npm run token');
    // a token that is simply missing says only that
    const none = await (await fetch(`${target.url}/me`)).json();
    expect(none.error.message).not.toContain('earlier run');
  });

  it('npm run billing -- put exits 2 on an event that matches no rule, naming the known detail-types, and changes nothing', async () => {
    const before = await target.export();
    const dir = mkdtempSync(path.join(tmpdir(), 'billing-'));
    const file = path.join(dir, 'typo.json');
    writeFileSync(file, JSON.stringify({ Source: 'billing', DetailType: 'Contract Canceled', Detail: JSON.stringify({ organizationId: 'B' }) }));
    const r = await npmRun('billing', ['put', file, '--port', port]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('detail-type "Contract Canceled") matched no rule; nothing was delivered');
    for (const known of ['Contract Cancelled', 'Contract Reinstated', 'Plan Changed', 'Seats Changed']) expect(r.stderr).toContain(`"${known}"`);
    expect(await target.export()).toEqual(before);
    // a known event is delivered and exits 0
    const good = await npmRun('billing', ['put', path.join(REPO_ROOT, 'fixtures', 'billing', 'seats-changed-D.json'), '--port', port]);
    expect(good.code).toBe(0);
  });
});
