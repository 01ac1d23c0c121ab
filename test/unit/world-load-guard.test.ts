import { describe, expect, it } from 'vitest';
import { isLoopbackEndpoint, loadRefusal } from '../../local/cli/args.js';

/** `npm run world -- load FILE --stack NAME` (local/cli/world.ts): replacing a deployed world needs a local endpoint or the stack's name. */
describe('world load --stack: the guard', () => {
  it('loopback endpoints are local; any other address, a name that does not resolve, or no endpoint (AWS) is not', async () => {
    for (const url of [
      'http://localhost:4566',
      'http://127.0.0.1:4566',
      'http://127.8.9.10',
      'http://[::1]:4566',
      'https://s3.localhost:4566',
    ])
      expect(await isLoopbackEndpoint(url), url).toBe(true);
    for (const url of [
      undefined,
      '',
      'not a url',
      'http://192.0.2.2:4566',
      'https://dynamodb.us-east-1.amazonaws.com',
      'http://edge.invalid:4566',
      'http://[::2]:4566',
    ])
      expect(await isLoopbackEndpoint(url), url).toBe(false);
  });
  it('refused without the exact stack name unless every service is reached locally; the refusal names the endpoints and what is missing', async () => {
    const local = { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' };
    expect(await loadRefusal('Offboard', undefined, local)).toBeUndefined();
    expect(
      await loadRefusal('Offboard', undefined, { ...local, AWS_ENDPOINT_URL_DYNAMODB: 'https://dynamodb.eu-west-1.amazonaws.com' }),
    ).toMatch(
      /\(DynamoDB at https:\/\/dynamodb\.eu-west-1\.amazonaws\.com: not a local endpoint\); refused, nothing changed: without --yes-replace-everything\. To replace everything there, add --yes-replace-everything Offboard$/,
    );
    expect(await loadRefusal('Offboard', 'Offboard2', {})).toContain(
      'refused, nothing changed: --yes-replace-everything names Offboard2, not Offboard',
    );
    expect(await loadRefusal('Offboard', true, {})).toContain('--yes-replace-everything names no stack');
    expect(await loadRefusal('Offboard', 'Offboard', {})).toBeUndefined();
  });
});
