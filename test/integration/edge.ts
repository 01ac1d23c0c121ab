import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { exportPKCS8, generateKeyPair } from 'jose';
import { expect, inject } from 'vitest';
import type { EmbeddedStack } from '../../local/embedded-stack.js';
import { openDeployedTarget, settle, type Target } from './harness.js';

/**
 * The embedded stack presenting itself as a deployed one (local/edge.ts): one endpoint for every service, a
 * CloudFormation that answers its outputs. The target is then opened exactly as `OFFBOARD_TARGET=stack` opens a
 * LocalStack or AWS stack, from the standard AWS environment and the OFFBOARD_* variables a user sets; with an HTTP
 * API, tokens are signed with a key given in a file, as for a stack deployed with `-c offboard:jwtIssuer=…`.
 */
export async function openEdgeStack(api: 'http' | 'none'): Promise<{ stack: EmbeddedStack; target: Target; env: Record<string, string> }> {
  const { startEmbeddedStack } = await import('../../local/embedded-stack.js');
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const dir = mkdtempSync(path.join(tmpdir(), 'offboard-edge-'));
  const keyFile = path.join(dir, 'issuer-key.pem');
  writeFileSync(keyFile, await exportPKCS8(privateKey));
  const issuer = 'https://id.chat.example/offboard';
  const audience = 'chat-admin-console';
  const stackName = `Edge${Math.random().toString(36).slice(2, 8)}`;
  const stack = await startEmbeddedStack({
    dynamodbEndpoint: inject('dynamodbEndpoint'),
    s3Endpoint: inject('s3Endpoint'),
    prefix: stackName.toLowerCase(),
    stackName,
    edge: true,
    api,
    identity: { jwt: { key: publicKey, issuer, audience } },
  });
  // what a user exports before `npm run test:localstack` or `npm run world -- … --stack`
  const env = {
    AWS_ENDPOINT_URL: stack.edgeUrl!,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    OFFBOARD_STACK: stackName,
    OFFBOARD_JWT_PRIVATE_KEY_FILE: keyFile,
    OFFBOARD_JWT_ISSUER: issuer,
    OFFBOARD_JWT_AUDIENCE: audience,
  };
  Object.assign(process.env, env);
  // nothing the embedded stack set for its handlers may stand in for the stack outputs
  delete process.env.TABLE_NAME;
  delete process.env.BUCKET_NAME;
  return { stack, target: await openDeployedTarget(), env };
}

/** T10 through whatever serves the API: a1 moves from A to C; the requested and the settled transfer. */
export async function transferA1ToC(target: Target): Promise<{ requested: any; final: any }> {
  const requested = await target.call('POST', '/transfers', { as: 'adminA', body: { userId: 'a1', destinationOrganizationId: 'C' } });
  expect(requested.status, JSON.stringify(requested.body)).toBe(201);
  expect((await target.call('POST', `/transfers/${requested.body.id}/approval`, { as: 'adminC' })).status).toBe(202);
  return { requested: requested.body, final: await settle(target, `/transfers/${requested.body.id}`, 'adminC') };
}
