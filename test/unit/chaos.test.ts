import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  DynamoDBClient,
  BatchWriteItemCommand,
  BatchGetItemCommand,
  BatchExecuteStatementCommand,
  TransactWriteItemsCommand,
  GetItemCommand,
} from '@aws-sdk/client-dynamodb';
import { chaosCounts, parseChaos, setChaos, withChaos } from '../../local/chaos.js';

/**
 * The chaos middleware (local/chaos.ts) really processes only part of a picked batch and returns the rest,
 * throttles below the SDK's retry, and does nothing while off. The service is replaced by a middleware that
 * answers each request as DynamoDB would when everything is processed, and records what it was sent.
 */
function client(answer: (command: string, input: any) => any, maxAttempts = 1) {
  const sent: { command: string; input: any }[] = [];
  const c = withChaos(
    'DynamoDB',
    new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts }),
  );
  c.middlewareStack.add(
    (_next: any, context: any) => async (args: any) => {
      sent.push({ command: context.commandName, input: args.input });
      return { output: { $metadata: {}, ...answer(context.commandName, args.input) }, response: {} };
    },
    { step: 'finalizeRequest', priority: 'low', name: 'fakeService' },
  );
  return { c, sent };
}
const item = (i: number) => ({ PutRequest: { Item: { PK: { S: `P#${i}` }, SK: { S: 'S' } } } });

afterEach(() => {
  setChaos(undefined);
  vi.useRealTimers();
});

describe('chaos at the SDK client (issue 10)', () => {
  it('reads seed:rate and refuses anything else', () => {
    expect(parseChaos('42:0.2')).toEqual({ seed: 42, rate: 0.2 });
    expect(parseChaos(undefined)).toBeUndefined();
    expect(() => parseChaos('fast')).toThrow(/seed:rate/);
  });

  it('does nothing while off', async () => {
    const { c, sent } = client(() => ({}));
    const out = await c.send(new BatchWriteItemCommand({ RequestItems: { T: [item(1), item(2), item(3)] } }));
    expect(out.UnprocessedItems ?? {}).toEqual({});
    expect(sent).toHaveLength(1);
    expect(chaosCounts().total).toBe(0);
  });

  it('BatchWriteItem: what it sends and what it returns unprocessed are the whole batch, each once, and it sends at least one', async () => {
    setChaos({ seed: 7, rate: 1 });
    const { c, sent } = client(() => ({ UnprocessedItems: {} }));
    let partials = 0;
    for (let n = 0; n < 40; n++) {
      const batch = Array.from({ length: 10 }, (_, i) => item(i));
      sent.length = 0;
      const out = await c.send(new BatchWriteItemCommand({ RequestItems: { T: batch } })).catch((e) => e);
      if (out instanceof Error) continue; // throttled past the SDK's attempts
      const processed = sent.at(-1)!.input.RequestItems.T.map((r: any) => r.PutRequest.Item.PK.S);
      const rest = (out.UnprocessedItems?.T ?? []).map((r: any) => r.PutRequest!.Item!.PK!.S);
      if (rest.length > 0) partials++;
      expect(processed.length).toBeGreaterThan(0);
      expect([...processed, ...rest].sort()).toEqual(batch.map((b) => b.PutRequest.Item.PK.S).sort());
    }
    expect(partials).toBeGreaterThan(5);
    expect(chaosCounts()['unprocessed-items']).toBe(partials);
  });

  it('BatchGetItem: the unprocessed keys are exactly the ones not asked for', async () => {
    setChaos({ seed: 11, rate: 1 });
    const { c, sent } = client((_, input) => ({ Responses: { T: input.RequestItems.T.Keys } }));
    const keys = Array.from({ length: 8 }, (_, i) => ({ PK: { S: `P#${i}` }, SK: { S: 'S' } }));
    let checked = 0;
    for (let n = 0; n < 30; n++) {
      const out = await c.send(new BatchGetItemCommand({ RequestItems: { T: { Keys: keys, ConsistentRead: true } } })).catch((e) => e);
      if (out instanceof Error || !out.UnprocessedKeys?.T) continue;
      const got = out.Responses!.T!.map((k: any) => k.PK.S);
      const left = out.UnprocessedKeys.T.Keys!.map((k: any) => k.PK!.S);
      expect([...got, ...left].sort()).toEqual(keys.map((k) => k.PK.S).sort());
      expect(out.UnprocessedKeys.T.ConsistentRead).toBe(true);
      checked++;
    }
    expect(checked).toBeGreaterThan(3);
    expect(sent.length).toBeGreaterThan(0);
  });

  it('BatchExecuteStatement: unexecuted statements answer a throttling error in their own place', async () => {
    setChaos({ seed: 3, rate: 1 });
    const { c, sent } = client((_, input) => ({ Responses: input.Statements.map((s: any) => ({ TableName: s.Parameters[0].S })) }));
    const statements = Array.from({ length: 6 }, (_, i) => ({
      Statement: 'UPDATE "T" SET x = 1 WHERE PK = ?',
      Parameters: [{ S: `s${i}` }],
    }));
    let checked = 0;
    for (let n = 0; n < 30; n++) {
      const out = await c.send(new BatchExecuteStatementCommand({ Statements: statements })).catch((e) => e);
      if (out instanceof Error || !out.Responses!.some((r: any) => r.Error)) continue;
      const executed = new Set(sent.at(-1)!.input.Statements.map((s: any) => s.Parameters[0].S));
      out.Responses!.forEach((r: any, i: number) => {
        if (executed.has(`s${i}`)) expect(r).toEqual({ TableName: `s${i}` });
        else expect(r.Error.Code).toBe('ProvisionedThroughputExceeded');
      });
      checked++;
    }
    expect(checked).toBeGreaterThan(3);
  });

  it('TransactWriteItems: cancelled with one TransactionConflict reason, nothing sent', async () => {
    setChaos({ seed: 5, rate: 1 });
    const { c, sent } = client(() => ({}));
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () =>
        c
          .send(
            new TransactWriteItemsCommand({
              TransactItems: [{ Put: { TableName: 'T', Item: { PK: { S: 'a' } } } }, { Put: { TableName: 'T', Item: { PK: { S: 'b' } } } }],
            }),
          )
          .catch((e) => e),
      ),
    );
    const conflicts = outcomes.filter((e) => e?.name === 'TransactionCanceledException');
    expect(conflicts.length).toBeGreaterThan(3);
    for (const e of conflicts) expect(e.CancellationReasons.map((r: any) => r.Code).sort()).toEqual(['None', 'TransactionConflict']);
    expect(sent.filter((s) => s.command === 'TransactWriteItemsCommand').length).toBe(
      20 - outcomes.filter((e) => e instanceof Error).length,
    );
  });

  it("throttles below the SDK's retry: a throttled attempt is retried by the SDK itself", async () => {
    vi.useFakeTimers(); // the SDK's backoff between attempts
    setChaos({ seed: 9, rate: 0.5 });
    const { c } = client(() => ({ Item: { PK: { S: 'x' } } }), 6);
    let retried = 0;
    for (let n = 0; n < 20; n++) {
      const sending = c.send(new GetItemCommand({ TableName: 'T', Key: { PK: { S: 'x' } } })).catch((e) => e);
      await vi.runAllTimersAsync();
      const out = await sending;
      if (!(out instanceof Error) && out.$metadata.attempts! > 1) retried++;
    }
    expect(retried).toBeGreaterThan(0);
    expect(chaosCounts().throttled).toBeGreaterThan(0);
  });
});
