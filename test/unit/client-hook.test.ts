import { describe, expect, it } from 'vitest';
import { GetItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { hooked, registerClientMiddleware, type ClientMiddleware } from '../../functions/store/clients.js';

/**
 * The store's one hook for harness middleware (issue 17): an installer reaches every hooked SDK client, whether it
 * was registered before or after the client was created, once per middleware stack (the DynamoDB document client
 * shares its raw client's stack, so one request is seen once).
 */
function fakeService(client: DynamoDBClient) {
  client.middlewareStack.add(() => async () => ({ output: { $metadata: {}, Item: { PK: { S: 'x' } } }, response: {} }), {
    step: 'finalizeRequest',
    priority: 'low',
    name: 'fakeService',
  });
  return client;
}
const newClient = () =>
  fakeService(new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 }));

function recorder() {
  const seen: string[] = [];
  const installer: ClientMiddleware = (client, service) => {
    client.middlewareStack.add(
      (next: any, context: any) => async (args: any) => {
        seen.push(`${service}.${context.commandName}`);
        return next(args);
      },
      { step: 'initialize', name: `recorder${Math.random()}` },
    );
  };
  return { seen, installer };
}

describe('the client hook (issue 17)', () => {
  it('reaches a client created before the installer was registered, and one created after', async () => {
    const { seen, installer } = recorder();
    const before = hooked('DynamoDB', newClient());
    registerClientMiddleware(installer);
    const after = hooked('DynamoDB', newClient());
    await before.send(new GetItemCommand({ TableName: 'T', Key: { PK: { S: 'x' } } }));
    await after.send(new GetItemCommand({ TableName: 'T', Key: { PK: { S: 'x' } } }));
    expect(seen).toEqual(['DynamoDB.GetItemCommand', 'DynamoDB.GetItemCommand']);
  });

  it('installs once per middleware stack: the document client and its raw client share one', async () => {
    const { seen, installer } = recorder();
    const raw = hooked('DynamoDB', newClient());
    const doc = hooked('DynamoDB', DynamoDBDocumentClient.from(raw));
    registerClientMiddleware(installer);
    registerClientMiddleware(installer); // a second registration of the same installer changes nothing
    await doc.send(new GetCommand({ TableName: 'T', Key: { PK: 'x' } }));
    await raw.send(new GetItemCommand({ TableName: 'T', Key: { PK: { S: 'x' } } }));
    expect(seen).toEqual(['DynamoDB.GetItemCommand', 'DynamoDB.GetItemCommand']); // each request once, not twice
  });

  it('leaves a client that was not hooked alone', async () => {
    const { seen, installer } = recorder();
    registerClientMiddleware(installer);
    await newClient().send(new GetItemCommand({ TableName: 'T', Key: { PK: { S: 'x' } } }));
    expect(seen).toEqual([]);
  });
});
