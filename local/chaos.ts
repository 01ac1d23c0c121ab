import { ProvisionedThroughputExceededException, ThrottlingException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { S3ServiceException } from '@aws-sdk/client-s3';
import type { ClientMiddleware } from '../functions/store/clients.js';

/**
 * Throttling and partial failures injected at the SDK client (issue 10), for the embedded stack only: it installs
 * `chaosMiddleware` through the store's client hook (functions/store/clients.ts), off until `setChaos` (from
 * `OFFBOARD_CHAOS=seed:rate` given to `npm start`, or `PUT /_local/chaos`). Nothing of this is in a Lambda bundle.
 *
 * At `rate`, a request is picked (a seeded PRNG decides) and fails the way DynamoDB and S3 fail under load:
 * - any request: throttled (`ProvisionedThroughputExceededException`/`ThrottlingException`, S3 `SlowDown` 503),
 *   on one attempt or, at `rate` again each, several in a row; thrown below the SDK's own retry, as the service would;
 * - BatchWriteItem / BatchGetItem: only part really processed, the rest returned as `UnprocessedItems`/`UnprocessedKeys`;
 * - BatchExecuteStatement: only part executed, the rest answered with per-statement throttling errors;
 * - TransactWriteItems: cancelled with a `TransactionConflict` reason, nothing written;
 * - DeleteObjects: only part deleted, the rest reported per key in `Errors` (`SlowDown`, `InternalError`).
 */
export interface ChaosSettings {
  seed: number;
  rate: number;
}

export type ChaosKind =
  'throttled' | 'unprocessed-items' | 'unprocessed-keys' | 'statement-errors' | 'transaction-conflict' | 'slow-down' | 'delete-errors';

let settings: ChaosSettings | undefined;
let random: () => number = Math.random;
const injected = new Map<ChaosKind, number>();

/** mulberry32: small, fast, and the same sequence for the same seed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `seed:rate` (e.g. `42:0.2`), or undefined to turn chaos off. */
export function parseChaos(spec: string | undefined): ChaosSettings | undefined {
  if (!spec) return undefined;
  const m = /^(\d+):(0?\.\d+|0|1)$/.exec(spec.trim());
  if (!m) throw new Error(`OFFBOARD_CHAOS must be seed:rate (e.g. 42:0.2), not ${JSON.stringify(spec)}`);
  return { seed: Number(m[1]), rate: Number(m[2]) };
}

export function setChaos(next: ChaosSettings | undefined): void {
  settings = next;
  random = next ? seeded(next.seed) : Math.random;
  injected.clear();
}

/** Failures injected since chaos was last set, by kind. */
export function chaosCounts(): Record<ChaosKind, number> & { total: number } {
  const counts = Object.fromEntries([...injected.entries()].sort()) as Record<ChaosKind, number>;
  return { ...counts, total: [...injected.values()].reduce((a, b) => a + b, 0) };
}

const count = (kind: ChaosKind) => injected.set(kind, (injected.get(kind) ?? 0) + 1);

/** Splits `items` at random into a non-empty part to process and the rest (empty when there is one item). */
function split<T>(items: readonly T[]): [T[], T[]] {
  const keep: T[] = [];
  const rest: T[] = [];
  for (const item of items) (random() < 0.5 ? keep : rest).push(item);
  if (keep.length === 0) keep.push(rest.shift()!);
  return [keep, rest];
}

const message = 'injected by OFFBOARD_CHAOS';
/** More throttled attempts in a row than the SDK makes (6): some reach the store's own retry. */
const MAX_FAILURES_IN_A_ROW = 8;

function throttle(service: 'DynamoDB' | 'S3'): Error {
  if (service === 'S3') {
    count('slow-down');
    return new S3ServiceException({
      name: 'SlowDown',
      $fault: 'server',
      $metadata: { httpStatusCode: 503 },
      message: `Please reduce your request rate (${message})`,
    });
  }
  count('throttled');
  return random() < 0.5
    ? new ProvisionedThroughputExceededException({ $metadata: { httpStatusCode: 400 }, message })
    : new ThrottlingException({ $metadata: { httpStatusCode: 400 }, message });
}

type Args = { input: any; request?: unknown };
type Next = (args: Args) => Promise<{ output: any; response: unknown }>;

/**
 * Partial processing, decided once per command sent (before the SDK's retry, which does not retry partial
 * results: the store must). Returns undefined when this command is not picked for a partial failure.
 */
async function partially(service: 'DynamoDB' | 'S3', command: string, args: Args, next: Next) {
  const input = args.input;
  if (service === 'DynamoDB' && command === 'BatchWriteItemCommand') {
    const entries = Object.entries<any[]>(input.RequestItems ?? {}).flatMap(([table, list]) => list.map((r) => [table, r] as const));
    if (entries.length < 2) return undefined;
    const [keep, rest] = split(entries);
    const group = (list: typeof entries) => list.reduce<Record<string, any[]>>((acc, [t, r]) => ((acc[t] ??= []).push(r), acc), {});
    const result = await next({ ...args, input: { ...input, RequestItems: group(keep) } });
    count('unprocessed-items');
    const unprocessed = { ...(result.output.UnprocessedItems ?? {}) };
    for (const [t, list] of Object.entries(group(rest))) unprocessed[t] = [...(unprocessed[t] ?? []), ...list];
    return { ...result, output: { ...result.output, UnprocessedItems: unprocessed } };
  }
  if (service === 'DynamoDB' && command === 'BatchGetItemCommand') {
    const [table, spec] = Object.entries<any>(input.RequestItems ?? {})[0] ?? [];
    if (!table || Object.keys(input.RequestItems).length !== 1 || spec.Keys.length < 2) return undefined;
    const [keep, rest] = split<any>(spec.Keys);
    const result = await next({ ...args, input: { ...input, RequestItems: { [table]: { ...spec, Keys: keep } } } });
    count('unprocessed-keys');
    const already = result.output.UnprocessedKeys?.[table]?.Keys ?? [];
    return {
      ...result,
      output: {
        ...result.output,
        UnprocessedKeys: { ...(result.output.UnprocessedKeys ?? {}), [table]: { ...spec, Keys: [...already, ...rest] } },
      },
    };
  }
  if (service === 'DynamoDB' && command === 'BatchExecuteStatementCommand') {
    const statements: any[] = input.Statements ?? [];
    if (statements.length < 2) return undefined;
    const indexed = statements.map((s, i) => ({ s, i }));
    const [keep] = split(indexed);
    const kept = new Set(keep.map((k) => k.i));
    const result = await next({ ...args, input: { ...input, Statements: keep.map((k) => k.s) } });
    count('statement-errors');
    const answers = [...(result.output.Responses ?? [])];
    const responses = statements.map((_, i) =>
      kept.has(i) ? answers.shift() : { Error: { Code: 'ProvisionedThroughputExceeded', Message: message } },
    );
    return { ...result, output: { ...result.output, Responses: responses } };
  }
  if (service === 'S3' && command === 'DeleteObjectsCommand') {
    const objects: any[] = input.Delete?.Objects ?? [];
    if (objects.length < 2) return undefined;
    const [keep, rest] = split(objects);
    const result = await next({ ...args, input: { ...input, Delete: { ...input.Delete, Objects: keep } } });
    count('delete-errors');
    const errors = rest.map((o) => ({ Key: o.Key, Code: random() < 0.5 ? 'SlowDown' : 'InternalError', Message: message }));
    return { ...result, output: { ...result.output, Errors: [...(result.output.Errors ?? []), ...errors] } };
  }
  if (service === 'DynamoDB' && command === 'TransactWriteItemsCommand') {
    count('transaction-conflict');
    const items: unknown[] = input.TransactItems ?? [];
    const conflicted = Math.floor(random() * items.length);
    throw new TransactionCanceledException({
      $metadata: { httpStatusCode: 400 },
      message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${message}]`,
      CancellationReasons: items.map((_, i) =>
        i === conflicted ? { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' } : { Code: 'None' },
      ),
    });
  }
  return undefined;
}

/** Adds the chaos middlewares to a client; they do nothing while chaos is off. */
export function withChaos<T extends { middlewareStack: { add: (...args: any[]) => void; addRelativeTo: (...args: any[]) => void } }>(
  service: 'DynamoDB' | 'S3',
  client: T,
): T {
  // Once per command: pick it or not; a picked batch is processed in part, anything else throttled on some attempts.
  client.middlewareStack.add(
    (next: Next, context: any) => async (args: Args) => {
      if (!settings || random() >= settings.rate) return next(args);
      if (random() < 0.5) {
        const partial = await partially(service, String(context.commandName), args, next);
        if (partial) return partial;
      }
      let failures = 1;
      while (failures < MAX_FAILURES_IN_A_ROW && random() < settings.rate) failures++;
      context.offboardChaosFailures = failures;
      return next(args);
    },
    { step: 'serialize', priority: 'high', name: 'offboardChaosPick' },
  );
  // Below the SDK's retry: each throttled attempt is retried by the SDK as a real one would be, until its attempts run out.
  client.middlewareStack.addRelativeTo(
    (next: Next, context: any) => async (args: Args) => {
      if (context.offboardChaosFailures > 0) {
        context.offboardChaosFailures--;
        throw throttle(service);
      }
      return next(args);
    },
    { relation: 'after', toMiddleware: 'retryMiddleware', name: 'offboardChaosThrottle' },
  );
  return client;
}

/** The hook's installer: chaos on the store's DynamoDB and S3 clients (Step Functions calls are left alone). */
export const chaosMiddleware: ClientMiddleware = (client, service) => {
  if (service === 'DynamoDB' || service === 'S3') withChaos(service, client);
};
