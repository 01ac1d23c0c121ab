import type { ClientMiddleware } from '../functions/store/clients.js';
import { currentInvocation, type InvocationScope } from './functions.js';
import { requestUnits, writtenKeys, type Units } from '../bench/request-units.js';

/**
 * Requests the functions' SDK clients make in this process, by service and operation, for the benchmark and the
 * console's scale test. Installed by the embedded stack through the store's client hook (functions/store/clients.ts).
 *
 * Besides the counts, every request is recorded (`takeRequestRecords`): its operation, table and index, the request
 * units DynamoDB on-demand bills for it (bench/request-units.ts: every DynamoDB request is sent with
 * `ReturnConsumedCapacity: 'INDEXES'` and DynamoDB Local's answer is used, except where DynamoDB Local is known to
 * answer otherwise than AWS bills), the keys it writes, whether a Query page was not the last, and the Lambda
 * invocation it was made from (so the benchmark can attribute it to an operation).
 */
const requestCounts = new Map<string, number>();

export interface RequestRecord {
  service: string;
  /** The SDK command without `Command` (`Query`, `BatchWriteItem`, `DeleteObjects`, …). */
  op: string;
  table?: string;
  index?: string;
  units: Units;
  /** `PK\u0000SK` of every item the request writes (puts, updates, deletes). */
  writes: string[];
  /** A Query or Scan page with a LastEvaluatedKey (more pages follow). */
  morePages?: boolean;
  /** A Query or Scan: the items it read (ScannedCount, before any filter). */
  itemsRead?: number;
  /** A Query: the partition it read (its key condition's `:pk`), as the table or index names it. */
  partition?: string;
  /** The Lambda invocation the request was made from (absent: the harness's own requests). */
  invocation?: InvocationScope;
  /** S3: object bytes the request read (GetObject's body) or wrote (PutObject's, UploadPart's body). */
  bytes?: { read: number; written: number };
}

/** The length of a request body the SDK was handed as bytes or text (lib-storage hands every part as bytes). */
const bodyLength = (body: unknown): number =>
  typeof body === 'string' ? Buffer.byteLength(body) : ArrayBuffer.isView(body) ? body.byteLength : 0;
let records: RequestRecord[] = [];
/** Off unless the benchmark turns it on: a test suite on the embedded stack would otherwise keep every request. */
let recording = false;

/** Starts (or stops) recording each request for `takeRequestRecords`. */
export function recordRequests(on: boolean): void {
  recording = on;
  if (!on) records = [];
}

/** DynamoDB operations that take ReturnConsumedCapacity. */
const CAPACITY_OPS = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'BatchWriteItem',
  'TransactGetItems',
  'TransactWriteItems',
  'ExecuteStatement',
  'BatchExecuteStatement',
  'ExecuteTransaction',
]);
const opOf = (context: any) => String(context.commandName ?? 'unknown').replace(/Command$/, '');

export const countRequests: ClientMiddleware = (client, service) => {
  client.middlewareStack.add(
    (next: any, context: any) => async (args: any) => {
      const op = opOf(context);
      const key = `${service}.${op}`;
      requestCounts.set(key, (requestCounts.get(key) ?? 0) + 1);
      if (recording && service === 'DynamoDB' && CAPACITY_OPS.has(op) && args.input && args.input.ReturnConsumedCapacity === undefined) {
        args.input.ReturnConsumedCapacity = 'INDEXES';
      }
      return next(args);
    },
    { step: 'initialize', name: 'offboardRequestCounter' },
  );
  // After serialization: the body is the wire request (attribute values marshalled, whichever client sent it).
  client.middlewareStack.add(
    (next: any, context: any) => async (args: any) => {
      if (!recording) return next(args);
      const op = opOf(context);
      const invocation = currentInvocation();
      if (service !== 'DynamoDB') {
        const written = op === 'PutObject' || op === 'UploadPart' ? bodyLength(args.input?.Body) : 0;
        const result = await next(args);
        const read = op === 'GetObject' ? Number(result?.output?.ContentLength ?? 0) : 0;
        records.push({
          service,
          op,
          units: { wru: 0, rru: 0, estimated: 0 },
          writes: [],
          invocation,
          ...(service === 'S3' ? { bytes: { read, written } } : {}),
        });
        return result;
      }
      let request: any = {};
      try {
        const body = args.request?.body;
        // the SDK's JSON protocol hands a byte array (Uint8Array) as the body
        request =
          typeof body === 'string'
            ? JSON.parse(body)
            : ArrayBuffer.isView(body)
              ? JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'))
              : {};
      } catch {
        request = {};
      }
      const result = await next(args);
      const output = result?.output ?? {};
      records.push({
        service,
        op,
        table: request.TableName ?? Object.keys(request.RequestItems ?? {})[0],
        index: request.IndexName,
        units: requestUnits(op, request, output),
        writes: writtenKeys(op, request),
        ...(op === 'Query' || op === 'Scan'
          ? { morePages: Boolean(output.LastEvaluatedKey), itemsRead: Number(output.ScannedCount ?? 0) }
          : {}),
        ...(op === 'Query' && request.ExpressionAttributeValues?.[':pk']?.S
          ? { partition: request.ExpressionAttributeValues[':pk'].S }
          : {}),
        invocation,
      });
      return result;
    },
    { step: 'build', name: 'offboardRequestRecorder' },
  );
};

/** Requests made since the last call, by service and operation; starts counting again from zero. */
export function takeRequestCounts(): Record<string, number> {
  const out = Object.fromEntries([...requestCounts.entries()].sort());
  requestCounts.clear();
  return out;
}

/** Requests recorded since the last call (see `RequestRecord`); starts recording again from nothing. */
export function takeRequestRecords(): RequestRecord[] {
  const out = records;
  records = [];
  return out;
}
