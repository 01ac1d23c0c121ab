/// <reference lib="dom" />
// Callbacks given to page.evaluate run in the browser.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet } from 'jose';
import Provider from 'oidc-provider';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { EmbeddedStack } from '../../local/embedded-stack.js';
import { demoWorld } from '../integration/harness.js';
import { launchChromium, newPage } from './browser.js';

/**
 * Deployed sign-in: the console configured for OpenID Connect (`/config.json` mode `oidc`) signs in with the
 * authorization code flow and PKCE against a real OpenID Connect provider (the `oidc-provider` package, with its
 * development login and consent pages), and the API's JWT authorizer accepts the provider's ID token, as a stack
 * deployed with `offboard:jwtIssuer` would.
 */
const embeddedOnly = process.env.OFFBOARD_TARGET === 'stack' ? describe.skip : describe;
const CLIENT_ID = 'offboard-console';

let idp: Server;
let stack: EmbeddedStack;
let browser: Browser;
const tokenRequests: string[] = [];
beforeAll(async () => {
  // Every server listens on port 0 and is asked its port: a port picked, freed and bound later can be taken in between.
  let callback: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  idp = createServer((req, res) => (callback ? callback(req, res) : res.writeHead(503).end()));
  await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
  const { startEmbeddedStack } = await import('../../local/embedded-stack.js');
  [stack, browser] = await Promise.all([
    startEmbeddedStack({
      dynamodbEndpoint: inject('dynamodbEndpoint'),
      s3Endpoint: inject('s3Endpoint'),
      prefix: `o${Math.random().toString(36).slice(2, 8)}`,
      world: demoWorld(),
      identity: {
        jwt: { key: createRemoteJWKSet(new URL(`${issuer}/jwks`)), issuer, audience: CLIENT_ID },
        consoleConfig: { apiUrl: '', auth: { mode: 'oidc', authority: issuer, clientId: CLIENT_ID, scope: 'openid', tokenType: 'id' } },
      },
    }),
    launchChromium(),
  ]);
  const consoleUrl = stack.url;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        token_endpoint_auth_method: 'none',
        redirect_uris: [`${consoleUrl}/`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    clientBasedCORS: () => true,
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
    findAccount: (_ctx: unknown, id: string) => ({ accountId: id, claims: () => ({ sub: id }) }),
  });
  provider.on('grant.success', (ctx: any) => tokenRequests.push(String(ctx.oidc.params?.code_verifier ? 'pkce' : 'no-pkce')));
  callback = provider.callback();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  idp?.closeAllConnections();
  idp?.close();
});

embeddedOnly('OpenID Connect sign-in', () => {
  it('signs in with the authorization code and PKCE at the configured issuer, and the API accepts the token', async () => {
    const { page, context } = await newPage(browser);
    await page.goto(`${stack.url}/`);
    expect(await page.locator('h1').innerText()).toBe('Sign in');
    await page.getByRole('button', { name: 'Sign in' }).click();
    // the provider's own login page: the authorization request carried a PKCE challenge
    await page.waitForURL((u) => u.origin !== stack.url);
    await page.locator('input[name="login"]').fill('adminA');
    await page.locator('input[name="password"]').fill('any');
    await page.locator('button[type="submit"]').click();
    await page.locator('button[type="submit"]').click(); // consent
    await page.waitForURL((u) => u.origin === stack.url);
    await expect.poll(() => page.locator('.who').innerText()).toBe('Signed in as Ayumi Admin (Company A)');
    expect(await page.locator('h1').innerText()).toBe('My organization: Company A');
    expect(tokenRequests).toEqual(['pkce']);
    // the code and state are gone from the address bar
    expect(new URL(page.url()).search).toBe('');
    await context.close();
  });
});
