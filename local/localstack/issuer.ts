import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose';

export const ISSUER_KID = 'offboard';

/**
 * An identity provider for the full LocalStack setup: a key pair whose private half signs the tests' tokens (written
 * to a file for OFFBOARD_JWT_PRIVATE_KEY_FILE) and a server that publishes the public half as OpenID discovery and a
 * JWKS, where an HTTP API's JWT authorizer looks for it (`{issuer}/.well-known/openid-configuration`, and the
 * `jwks.json` beside it). The issuer is the URL the LocalStack container reaches this server at.
 */
export async function startIssuer(
  issuerFor: (port: number) => string,
): Promise<{ port: number; issuer: string; keyFile: string; close(): Promise<void> }> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const keyFile = path.join(mkdtempSync(path.join(tmpdir(), 'offboard-issuer-')), 'key.pem');
  writeFileSync(keyFile, await exportPKCS8(privateKey), { mode: 0o600 });
  const jwk = { ...(await exportJWK(publicKey)), kid: ISSUER_KID, alg: 'RS256', use: 'sig' };
  let issuer = '';
  const server: Server = createServer((req, res) => {
    const json = (body: unknown) => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.url === '/.well-known/openid-configuration')
      return json({ issuer, jwks_uri: `${issuer}/.well-known/jwks.json`, id_token_signing_alg_values_supported: ['RS256'] });
    if (req.url === '/.well-known/jwks.json') return json({ keys: [jwk] });
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as any).port as number;
  issuer = issuerFor(port);
  return { port, issuer, keyFile, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
