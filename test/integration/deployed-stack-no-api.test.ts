import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { EmbeddedStack } from '../../local/embedded-stack.js';
import { openEdgeStack, transferA1ToC } from './edge.js';
import { byId, demoWorld, ids, type Target } from './harness.js';

/**
 * A stack deployed with `-c offboard:api=none` (LocalStack's free tier: no API Gateway v2, no Cognito), reached as
 * `npm run test:localstack` reaches it: no ApiUrl output, so the project's own gateway serves the routes of the full
 * template in front of lambda:Invoke on the deployed API functions, found by logical id (ListStackResources).
 */
let stack: EmbeddedStack;
let target: Target;

// the embedded stack's own edge: nothing to test against LocalStack or AWS themselves
describe.skipIf(process.env.OFFBOARD_TARGET === 'stack')(
  'api=none: the local gateway in front of lambda:Invoke on the deployed functions',
  () => {
    beforeAll(async () => {
      ({ stack, target } = await openEdgeStack('none'));
    });
    afterAll(async () => {
      await target?.close();
      await stack?.stop();
    });
    beforeEach(async () => target.load(demoWorld()));

    it('the stack has no ApiUrl, and the gateway answers the contract on a loopback port', async () => {
      expect(target.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(await target.call('GET', '/health')).toEqual({ status: 200, body: { status: 'ok' } });
      const anonymous = await target.call('POST', '/previews', { body: { operation: 'deletion', userId: 'a2' } });
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.error.code).toBe('unauthenticated');
    });

    it('T10: a1 moves from A to C, every API call a lambda:Invoke through the endpoint', async () => {
      const { final } = await transferA1ToC(target);
      expect(final.status).toBe('succeeded');
      const w = await target.export();
      expect(byId(w.users, 'a1').organizationId).toBe('C'); // T9
      expect(ids(w.chats)).not.toContain('dm-a1-b1'); // T7
    });

    it('lambda:Invoke through the endpoint answers as Lambda does: a function error with its type, an unknown function as ResourceNotFoundException', async () => {
      const { InvokeCommand, LambdaClient } = await import('@aws-sdk/client-lambda');
      const lambda = new LambdaClient({});
      const seats = Object.keys(stack.template.Resources).find(
        (id) => id.startsWith('BillingSeatsChanged') && stack.template.Resources[id]!.Type === 'AWS::Lambda::Function',
      )!;
      const malformed = {
        version: '0',
        id: 'e-1',
        'detail-type': 'Seats Changed',
        source: 'billing',
        account: '000000000000',
        time: '2026-11-22T00:00:00Z',
        region: 'us-east-1',
        resources: [],
        detail: { organizationId: 'D', seats: 'many' },
      };
      const out = await lambda.send(
        new InvokeCommand({ FunctionName: stack.names.physicalName(seats), Payload: Buffer.from(JSON.stringify(malformed)) }),
      );
      expect(out.FunctionError).toBe('Unhandled');
      expect(JSON.parse(Buffer.from(out.Payload!).toString())).toMatchObject({
        errorType: 'InvalidBillingEvent',
        errorMessage: expect.stringMatching(/detail\.seats/),
      });
      await expect(lambda.send(new InvokeCommand({ FunctionName: 'NoSuchFunction', Payload: Buffer.from('{}') }))).rejects.toMatchObject({
        name: 'ResourceNotFoundException',
      });
      lambda.destroy();
    });

    it('T1, D1: refusals answer 422 citing their rule through Invoke, as through API Gateway', async () => {
      const t1 = await target.call('POST', '/transfers', { as: 'adminA', body: { userId: 'a2', destinationOrganizationId: 'F' } });
      expect(t1.status).toBe(422);
      expect(t1.body.error.reasons.map((r: any) => r.rule)).toContain('T1');
      const gone = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'old1' } });
      expect(gone.status).toBe(422);
      expect(gone.body.error.reasons.map((r: any) => r.rule)).toContain('D1');
    });
  },
);
