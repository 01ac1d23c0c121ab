import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/constructs/offboard-function.js';
import type { EmbeddedStack } from '../../local/embedded-stack.js';
import { openEdgeStack, transferA1ToC } from './edge.js';
import { billingEvent, byId, demoWorld, eventually, ids, settle, type Target } from './harness.js';

/**
 * The code paths a deployed stack takes (LocalStack, AWS), run against the embedded stack behind its edge endpoint:
 * outputs read through CloudFormation, every SDK client on AWS_ENDPOINT_URL, the API reached by the URL built from
 * `ApiUrl`, tokens signed with a given key, billing events by PutEvents to the bus the outputs name, dead letters
 * from the queue they name, and `npm run world -- … --stack NAME` in a process of its own.
 */
let stack: EmbeddedStack;
let target: Target;
let env: Record<string, string>;

const run = promisify(execFile);
/** `npm run world -- ARGS` as a user runs it against a deployed stack: only the standard AWS variables point it there. */
async function worldCli(args: string[], extra: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const childEnv: Record<string, string | undefined> = { ...process.env, ...env };
  for (const k of Object.keys(childEnv)) if (/^(TABLE_NAME|BUCKET_NAME|AWS_ENDPOINT_URL_)/.test(k)) delete childEnv[k];
  Object.assign(childEnv, extra);
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', './local/preload.mjs', 'local/cli/world.ts', ...args], {
      cwd: REPO_ROOT,
      env: childEnv,
      maxBuffer: 64 << 20,
    });
    return { code: 0, stdout, stderr };
  } catch (error: any) {
    return { code: error.code ?? 1, stdout: error.stdout ?? '', stderr: error.stderr ?? '' };
  }
}

// the embedded stack's own edge: nothing to test against LocalStack or AWS themselves
describe.skipIf(process.env.OFFBOARD_TARGET === 'stack')(
  'a deployed stack reached through one endpoint (OFFBOARD_TARGET=stack paths, LocalStack edge)',
  () => {
    beforeAll(async () => {
      ({ stack, target, env } = await openEdgeStack('http'));
    });
    afterAll(async () => {
      await target?.close();
      await stack?.stop();
    });
    beforeEach(async () => target.load(demoWorld()));

    it('the API is reached at the URL built from the ApiUrl output, not at ApiUrl itself', async () => {
      expect(target.url).toMatch(new RegExp(`^${env.AWS_ENDPOINT_URL}/_aws/execute-api/[a-z0-9]{10}$`));
      const health = await target.call('GET', '/health');
      expect(health).toEqual({ status: 200, body: { status: 'ok' } });
    });

    it('a token for the right issuer and audience but signed with another key is refused with 401', async () => {
      const { generateKeyPair, SignJWT } = await import('jose');
      const { privateKey } = await generateKeyPair('RS256');
      const forged = await new SignJWT({})
        .setProtectedHeader({ alg: 'RS256' })
        .setSubject('adminA')
        .setIssuer(env.OFFBOARD_JWT_ISSUER!)
        .setAudience(env.OFFBOARD_JWT_AUDIENCE!)
        .setExpirationTime('1h')
        .sign(privateKey);
      const a = await target.call('POST', '/previews', { token: forged, body: { operation: 'deletion', userId: 'a2' } });
      expect(a.status).toBe(401);
      expect(a.body.error.code).toBe('unauthenticated');
    });

    it('T10: a1 moves from A to C through the API URL with given-key tokens; the export read from the stack outputs shows it', async () => {
      const { requested, final } = await transferA1ToC(target);
      expect(final.status).toBe('succeeded');
      expect(final.impact).toEqual(requested.impact); // X1
      const w = await target.export();
      expect(byId(w.users, 'a1')).toMatchObject({ organizationId: 'C', allowOutsideCommunication: false, apiToken: null }); // T6, T9
      expect(ids(w.chats)).not.toContain('dm-a1-b1'); // T7
      expect(await target.objectKeys()).not.toContain('chats/dm-a1-b1/files/f-a1-dm-b1'); // F2, bytes gone from the bucket the outputs name
    });

    it('D3–D6: deleting a2 runs the deletion state machine the API function started through the endpoint', async () => {
      const requested = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a2' } });
      expect(requested.status, JSON.stringify(requested.body)).toBe(202);
      const final = await settle(target, `/deletions/${requested.body.id}`, 'adminA');
      expect(final.status).toBe('succeeded');
      const w = await target.export();
      expect(byId(w.users, 'a2')).toMatchObject({ status: 'deleted', displayName: 'Asuka Aoki (cancelled)', apiToken: null }); // D2
      expect(ids(w.chats)).not.toContain('mychat-a2'); // D3
    });

    it('B2: a Seats Changed event put on the bus named by the outputs resumes the transfer waiting for a seat', async () => {
      const requested = await target.call('POST', '/transfers', { as: 'adminA', body: { userId: 'a3', destinationOrganizationId: 'D' } });
      const approved = await target.call('POST', `/transfers/${requested.body.id}/approval`, { as: 'adminD' });
      expect(approved.body.status).toBe('awaiting-seat'); // T4
      const { eventId } = await target.billing(billingEvent('Seats Changed', { organizationId: 'D', seats: 5 }));
      expect(eventId).toMatch(/^[0-9a-f-]{36}$/);
      const final = await settle(target, `/transfers/${requested.body.id}`, 'adminD', (b) => b.status === 'succeeded');
      expect(final.status).toBe('succeeded');
      expect(byId((await target.export()).organizations, 'D').seats).toBe(5);
    });

    it('a malformed billing event changes nothing and reaches the dead-letter queue the outputs name, with its reason', async () => {
      const before = await target.export();
      const { eventId } = await target.billing(billingEvent('Seats Changed', { organizationId: 'D', seats: 'many' }));
      const letter = await eventually(async () => (await target.deadLetters()).find((m) => m.requestPayload?.id === eventId));
      expect(letter.responsePayload).toMatchObject({
        errorType: 'InvalidBillingEvent',
        errorMessage: expect.stringMatching(/detail\.seats: must be a number/),
      });
      expect(await target.export()).toEqual(before);
    });

    it('world --stack: export reads the stack the outputs name, through the endpoint, in a process of its own', async () => {
      const out = await worldCli(['export', '--stack', env.OFFBOARD_STACK!]);
      expect(out.code, out.stderr).toBe(0);
      expect(JSON.parse(out.stdout)).toEqual(await target.export());
    });

    it('world --stack: load replaces the world; a file that does not match the schema is refused naming its path, and nothing changes', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'offboard-world-'));
      const changed = demoWorld();
      byId(changed.users, 'a3').name = 'Aoi Arai';
      writeFileSync(path.join(dir, 'good.json'), JSON.stringify(changed));
      const loaded = await worldCli(['load', path.join(dir, 'good.json'), '--stack', env.OFFBOARD_STACK!]);
      expect(loaded.code, loaded.stderr).toBe(0);
      expect(loaded.stdout).toMatch(/^loaded .*good\.json: \d+ items, \d+ objects/);
      const after = await target.export();
      expect(byId(after.users, 'a3').displayName).toBe('Aoi Arai');

      const bad = demoWorld();
      bad.users[2].organizationId = 'ZZ';
      writeFileSync(path.join(dir, 'bad.json'), JSON.stringify(bad));
      const refused = await worldCli(['load', path.join(dir, 'bad.json'), '--stack', env.OFFBOARD_STACK!]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/refused, nothing changed: .*\/users\/2\/organizationId/);
      expect(await target.export()).toEqual(after);
    });

    /** The edge endpoint as a remote stack would be reached: at this machine's first non-loopback address, relayed to the edge. */
    async function remoteEdge(): Promise<{ url: string; server: Server } | undefined> {
      const address = Object.values(networkInterfaces())
        .flat()
        .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
      if (!address) return undefined;
      const edge = new URL(env.AWS_ENDPOINT_URL!);
      const server = createServer((socket) => socket.pipe(createConnection({ host: edge.hostname, port: Number(edge.port) })).pipe(socket));
      await new Promise<void>((resolve) => server.listen(0, address, resolve));
      return { url: `http://${address}:${(server.address() as { port: number }).port}`, server };
    }

    it('world --stack: load refuses a stack reached at an endpoint that is not local unless --yes-replace-everything names it exactly, changing nothing', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'offboard-world-'));
      const changed = demoWorld();
      byId(changed.users, 'a3').name = 'Aoi Arai';
      writeFileSync(path.join(dir, 'changed.json'), JSON.stringify(changed));
      const file = path.join(dir, 'changed.json');
      const stackName = env.OFFBOARD_STACK!;
      const remote = await remoteEdge();
      // without one, an endpoint nothing answers at stands in: a refusal never reaches it anyway
      const endpoint = remote?.url ?? 'http://edge.invalid:4566';
      try {
        const before = await target.export();
        const refusals = [
          { args: [], says: 'without --yes-replace-everything' },
          { args: ['--yes-replace-everything'], says: '--yes-replace-everything names no stack' },
          { args: ['--yes-replace-everything', `${stackName}x`], says: `--yes-replace-everything names ${stackName}x, not ${stackName}` },
          {
            args: ['--yes-replace-everything', stackName.toLowerCase()],
            says: `--yes-replace-everything names ${stackName.toLowerCase()}, not ${stackName}`,
          },
        ];
        for (const { args, says } of refusals) {
          const out = await worldCli(['load', file, '--stack', stackName, ...args], { AWS_ENDPOINT_URL: endpoint });
          expect(out.code, out.stdout).toBe(1);
          expect(out.stderr).toContain(`refused, nothing changed: ${says}`);
          expect(out.stderr).toContain(`DynamoDB at ${endpoint}, S3 at ${endpoint}, CloudFormation at ${endpoint}: not a local endpoint`);
          expect(out.stderr).toContain(`add --yes-replace-everything ${stackName}`);
        }
        // no endpoint at all is AWS itself
        const aws = await worldCli(['load', file, '--stack', stackName], { AWS_ENDPOINT_URL: '' });
        expect(aws.code).toBe(1);
        expect(aws.stderr).toContain(
          'DynamoDB at its AWS endpoint, S3 at its AWS endpoint, CloudFormation at its AWS endpoint: not a local endpoint',
        );
        // one service elsewhere is enough to ask
        const split = await worldCli(['load', file, '--stack', stackName], { AWS_ENDPOINT_URL_S3: endpoint });
        expect(split.code).toBe(1);
        expect(split.stderr).toContain(`(S3 at ${endpoint}: not a local endpoint)`);
        expect(await target.export()).toEqual(before);
        if (!remote) return;
        const confirmed = await worldCli(['load', file, '--stack', stackName, '--yes-replace-everything', stackName], {
          AWS_ENDPOINT_URL: endpoint,
        });
        expect(confirmed.code, confirmed.stderr).toBe(0);
        expect(byId((await target.export()).users, 'a3').displayName).toBe('Aoi Arai');
      } finally {
        remote?.server.close();
      }
    });

    it('world --stack with a stack name that does not exist fails naming it and the endpoint', async () => {
      const out = await worldCli(['export', '--stack', 'NoSuchStack']);
      expect(out.code).toBe(1);
      expect(out.stderr).toContain(`cannot read stack NoSuchStack at ${env.AWS_ENDPOINT_URL}`);
    });
  },
);
