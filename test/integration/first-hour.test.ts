import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
 * The README's "Try it" block is run as it is written, in bash, each line's comment checked against what it printed.
 */
const embeddedOnly = process.env.OFFBOARD_TARGET === 'stack' ? describe.skip : describe;
const run = promisify(execFile);

/** `npm run SCRIPT -- ARGS` as the package's script runs it; answers its exit code, stdout and stderr. */
async function npmRun(script: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    const out = await run(process.execPath, ['--import', './local/preload.mjs', `local/cli/${script}.ts`, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
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

/** The README's "Try it" shell block, line by line. */
function readmeTryIt(): string[] {
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.split('\n## Try it\n')[1]?.split('\n## ')[0] ?? '';
  const block = /```sh\n([\s\S]*?)\n```/.exec(section)?.[1];
  if (!block) throw new Error('README.md has no ```sh block under "## Try it"');
  return block.split('\n');
}

/**
 * What a line's comment says it prints: `→ 202` (the status `api` prints), `status "running"` and `rule "T1"` (those
 * fields of the body), and any `text in backquotes` as it is.
 */
function expectationsOf(line: string): string[] {
  const comment = /\s#\s(.*)$/.exec(line)?.[1] ?? '';
  return [
    ...[...comment.matchAll(/→ (\d{3})/g)].map((m) => `→ ${m[1]}`),
    ...[...comment.matchAll(/\b(status|rule) "([^"]+)"/g)].map((m) => `"${m[1]}":"${m[2]}"`),
    ...[...comment.matchAll(/`([^`]+)`/g)].map((m) => m[1]!),
  ];
}

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
    const stale = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256' })
      .setSubject('adminA')
      .setIssuer('http://127.0.0.1/local-idp')
      .setAudience('offboard-local')
      .setIssuedAt()
      .setExpirationTime('12h')
      .sign(privateKey);
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
    writeFileSync(
      file,
      JSON.stringify({ Source: 'billing', DetailType: 'Contract Canceled', Detail: JSON.stringify({ organizationId: 'B' }) }),
    );
    const r = await npmRun('billing', ['put', file, '--port', port]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('detail-type "Contract Canceled") matched no rule; nothing was delivered');
    for (const known of ['Contract Cancelled', 'Contract Reinstated', 'Plan Changed', 'Seats Changed'])
      expect(r.stderr).toContain(`"${known}"`);
    expect(await target.export()).toEqual(before);
    // a known event is delivered and exits 0
    const good = await npmRun('billing', ['put', path.join(REPO_ROOT, 'fixtures', 'billing', 'seats-changed-D.json'), '--port', port]);
    expect(good.code).toBe(0);
  });

  it('the README\'s "Try it" runs as written on a fresh demo world, and prints what each line\'s comment says', async () => {
    await target.load(demoWorld());
    const lines = readmeTryIt();
    const checked = lines.flatMap((l, i) => (expectationsOf(l).length > 0 ? [i] : []));
    expect(checked.length, 'lines whose comment says what they print').toBeGreaterThanOrEqual(8);
    // a line that starts by waiting (`sleep N; …`) is run again, a second apart, until it prints what it says (a person
    // looks again); every other line runs once
    const script = [
      'set -e -o pipefail',
      ...lines.flatMap((line, i) => {
        const expected = expectationsOf(line);
        const wait = /^sleep \d+; (.*)$/.exec(line);
        if (!wait || expected.length === 0) return [`echo '@@${i}'`, line];
        const holds = expected.map((e) => `[[ "$out" == *'${e}'* ]]`).join(' && ');
        const command = wait[1]!.replace(/\s#\s.*$/, '');
        return [`echo '@@${i}'`, `for try in $(seq 60); do out=$(${command}); if ${holds}; then break; fi; sleep 1; done; echo "$out"`];
      }),
    ].join('\n');
    const options = { cwd: REPO_ROOT, env: { ...process.env, PORT: port }, timeout: 240_000, maxBuffer: 16 << 20 };
    const r = await run('bash', ['-c', script], options).catch((e: { stdout: string; stderr: string; code: number }) => ({
      ...e,
      failed: e.code,
    }));
    expect((r as { failed?: number }).failed, `the block stopped: ${r.stderr}`).toBeUndefined();
    const printed = new Map(
      r.stdout
        .split(/^@@/m)
        .slice(1)
        .map((part) => [Number(part.slice(0, part.indexOf('\n'))), part]),
    );
    for (const i of checked) {
      for (const e of expectationsOf(lines[i]!)) expect(printed.get(i) ?? '', `README "Try it": ${lines[i]!.trim()}`).toContain(e);
    }
  }, 300_000);
});
