/**
 * The request units DynamoDB on-demand bills for one request, from the request as sent (wire JSON: attribute values
 * marshalled) and DynamoDB's answer (its `ConsumedCapacity`, which local/request-counts.ts asks for on every request
 * with `ReturnConsumedCapacity: 'INDEXES'`). Pure.
 *
 * Billing (https://aws.amazon.com/dynamodb/pricing/on-demand/, "Key terms"): a write request unit (WRU) writes up
 * to 1 KB of an item, per item, transactional writes 2 per KB, and every global secondary index the item is in
 * (GSI1 projects all attributes) is written again, unless the write changes none of the index's keys and projected
 * attributes; a read request unit (RRU) reads up to 4 KB strongly consistent,
 * eventually consistent reads half, transactional reads 2; a Query or Scan bills the total size it read rounded up to
 * 4 KB (at least one unit, an empty page too); BatchGetItem bills per item, an item not found too.
 *
 * Where the units come from (probed on DynamoDB Local, the jar of amplify-dynamodb-simulator, 2026-12-01):
 *  - PutItem, UpdateItem, DeleteItem, BatchWriteItem, GetItem, BatchGetItem, Query, Scan, TransactGetItems:
 *    DynamoDB Local's ConsumedCapacity (its figures match the rules above, GSI writes included, a missing GetItem
 *    0.5), plus the minimum DynamoDB Local leaves out (it answers 0): an empty Query/Scan page, and each key a
 *    BatchGetItem did not find, are billed one unit (0.5 eventually consistent);
 *  - TransactWriteItems: computed here (`transactionalItemUnits`), because DynamoDB Local answers 4 WRU for one 1 KB
 *    Put (AWS bills 2) and 4 for two: Put 2 × ⌈item KB⌉ (twice when the item has GSI1PK); Update, Delete and
 *    ConditionCheck 2 each (the items the product changes in transactions are records under 1 KB), plus GSI1's share
 *    for an item in it. These units are `estimated`;
 *  - (Batch)ExecuteStatement, for which DynamoDB Local returns no ConsumedCapacity: `statementWriteUnits` per
 *    update (the product's PartiQL updates are conditional updates of items under 1 KB), 1 WRU for one whose
 *    condition failed, 0.5 RRU per read statement (`estimated`); any other request without ConsumedCapacity: 1 WRU
 *    per written item, one read unit per read (`estimated`).
 */
export interface Units {
  wru: number;
  rru: number;
  /** Units of `wru + rru` computed here rather than taken from DynamoDB's answer. */
  estimated: number;
}

const READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

/** The size DynamoDB counts for a marshalled attribute value (names + values; numbers ⌈digits/2⌉ + 1). */
export function attributeValueBytes(v: any): number {
  if (!v || typeof v !== 'object') return 0;
  if ('S' in v) return Buffer.byteLength(String(v.S));
  if ('N' in v) return Math.ceil(String(v.N).replace(/^-/, '').replace('.', '').replace(/^0+/, '').length / 2) + 1;
  if ('B' in v) return typeof v.B === 'string' ? Buffer.from(v.B, 'base64').length : (v.B?.length ?? 0);
  if ('BOOL' in v || 'NULL' in v) return 1;
  if ('SS' in v) return (v.SS as string[]).reduce((n, s) => n + Buffer.byteLength(s), 0);
  if ('NS' in v) return (v.NS as string[]).reduce((n, s) => n + attributeValueBytes({ N: s }), 0);
  if ('BS' in v) return (v.BS as string[]).reduce((n, s) => n + attributeValueBytes({ B: s }), 0);
  if ('L' in v) return 3 + (v.L as any[]).reduce((n, x) => n + 1 + attributeValueBytes(x), 0);
  if ('M' in v)
    return 3 + Object.entries(v.M as Record<string, any>).reduce((n, [k, x]) => n + Buffer.byteLength(k) + attributeValueBytes(x), 0);
  return 0;
}

/** A marshalled item's size in bytes. */
export function marshalledItemBytes(item: Record<string, any>): number {
  return Object.entries(item ?? {}).reduce((n, [k, v]) => n + Buffer.byteLength(k) + attributeValueBytes(v), 0);
}

/** Write units of one item put in a transaction: 2 per KB, and again for GSI1 when the item has its key. */
export function transactionalPutUnits(item: Record<string, any>): number {
  const units = 2 * Math.max(1, Math.ceil(marshalledItemBytes(item) / 1024));
  return item?.GSI1PK ? 2 * units : units;
}

/**
 * Write units of one TransactItem: a Put by its size (`transactionalPutUnits`); an Update, Delete or ConditionCheck of
 * an item under 1 KB 2, and for GSI1 2 more when the item is in it, 4 more when an Update sets GSI1PK (old entry
 * deleted, new one written).
 */
export function transactionalItemUnits(t: any): number {
  if (t.Put) return transactionalPutUnits(t.Put.Item);
  const spec = t.Update ?? t.Delete ?? t.ConditionCheck;
  if (!spec || t.ConditionCheck) return 2;
  const pk = String(spec.Key?.PK?.S ?? '');
  const sk = String(spec.Key?.SK?.S ?? '');
  const names = spec.ExpressionAttributeNames ?? {};
  const setClause = String(spec.UpdateExpression ?? '').split(/\b(REMOVE|ADD|DELETE)\b/i)[0] ?? '';
  const setsGsiKey = t.Update && [...setClause.matchAll(/(#?\w+)\s*=/g)].some(([, n]) => (names[n!] ?? n) === 'GSI1PK');
  return 2 * (1 + (setsGsiKey ? 2 : IN_GSI1(pk, sk) ? 1 : 0));
}

const totalOf = (consumed: any): number | undefined => {
  if (consumed === undefined || consumed === null) return undefined;
  const list = Array.isArray(consumed) ? consumed : [consumed];
  return list.reduce((n: number, c: any) => n + Number(c?.CapacityUnits ?? 0), 0);
};

const isWriteStatement = (s: string) => /^\s*(UPDATE|INSERT|DELETE)\b/i.test(s);

export function requestUnits(op: string, request: any, output: any): Units {
  const consumed = totalOf(output?.ConsumedCapacity);
  if (op === 'TransactWriteItems') {
    const wru = (request.TransactItems ?? []).reduce((n: number, t: any) => n + transactionalItemUnits(t), 0);
    return { wru, rru: 0, estimated: wru };
  }
  if (op === 'ExecuteStatement' || op === 'BatchExecuteStatement') {
    const statements = op === 'BatchExecuteStatement' ? (request.Statements ?? []) : [request];
    const writes = statements.filter((x: any) => isWriteStatement(String(x.Statement ?? '')));
    const reads = statements.length - writes.length;
    if (consumed !== undefined)
      return writes.length >= reads ? { wru: consumed, rru: 0, estimated: 0 } : { wru: 0, rru: consumed, estimated: 0 };
    const responses: any[] = op === 'BatchExecuteStatement' ? (output?.Responses ?? []) : [];
    let wru = 0;
    statements.forEach((x: any, i: number) => {
      if (!isWriteStatement(String(x.Statement ?? ''))) return;
      wru += responses[i]?.Error?.Code === 'ConditionalCheckFailed' ? 1 : statementWriteUnits(String(x.Statement), x.Parameters ?? []);
    });
    return { wru, rru: reads * 0.5, estimated: wru + reads * 0.5 };
  }
  if (WRITES.has(op)) {
    if (consumed !== undefined) return { wru: consumed, rru: 0, estimated: 0 };
    const items = op === 'BatchWriteItem' ? Object.values(request.RequestItems ?? {}).reduce((n: number, l: any) => n + l.length, 0) : 1;
    return { wru: items, rru: 0, estimated: items };
  }
  if (READS.has(op)) {
    const minimum = request.ConsistentRead ? 1 : 0.5;
    if (op === 'BatchGetItem') {
      let missingUnits = 0;
      let keys = 0;
      for (const [table, spec] of Object.entries<any>(request.RequestItems ?? {})) {
        const asked = (spec.Keys ?? []).length;
        keys += asked;
        const found = (output?.Responses?.[table] ?? []).length;
        const unprocessed = (output?.UnprocessedKeys?.[table]?.Keys ?? []).length;
        missingUnits += Math.max(0, asked - found - unprocessed) * (spec.ConsistentRead ? 1 : 0.5);
      }
      if (consumed === undefined) return { wru: 0, rru: keys * 0.5, estimated: keys * 0.5 };
      return { wru: 0, rru: consumed + missingUnits, estimated: missingUnits };
    }
    if (consumed === undefined) return { wru: 0, rru: minimum, estimated: minimum };
    if (consumed === 0 && op !== 'TransactGetItems') return { wru: 0, rru: minimum, estimated: minimum };
    return { wru: 0, rru: consumed, estimated: 0 };
  }
  return { wru: 0, rru: 0, estimated: 0 };
}

/**
 * Items of the table that GSI1 holds (functions/store/keys.ts), by sort key (and partition prefix); checked against
 * the items records.ts builds (test/unit/bench-request-units.test.ts). A file is in GSI3 only, which projects none of
 * what an update of it changes (its owner, F1): its update is billed for the table alone.
 */
export const IN_GSI1 = (pk: string, sk: string) =>
  (pk.startsWith('USER#') && (sk === 'USER' || sk.startsWith('HANDED#'))) ||
  /^(MEMBER|TASK)#/.test(sk) ||
  (pk.startsWith('OP#') && sk === 'OP') ||
  (pk.startsWith('ORG#') && sk === 'ORG') ||
  (pk.startsWith('RUN#') && sk === 'RUN');

/**
 * A PartiQL update of one item under 1 KB: 1 WRU for the table, and for GSI1 2 more when it sets GSI1PK (the old
 * index entry deleted, the new one written) or 1 when the item is in GSI1 (its projection rewritten).
 */
export function statementWriteUnits(statement: string, parameters: any[]): number {
  const key = statementKey(statement, parameters);
  const [pk = '', sk = ''] = key?.split('\u0000') ?? [];
  const set = statement.split(/\bWHERE\b/i)[0] ?? '';
  if (/"?GSI1PK"?\s*=/.test(set)) return 3;
  return IN_GSI1(pk, sk) ? 2 : 1;
}

const keyString = (k: any): string | undefined =>
  k?.PK?.S !== undefined && k?.SK?.S !== undefined ? `${k.PK.S}\u0000${k.SK.S}` : undefined;

/** The keys a PartiQL statement names (`"PK" = ? AND "SK" = ?`), from its parameters. */
function statementKey(statement: string, parameters: any[]): string | undefined {
  const at = (name: string) => {
    const i = statement.search(new RegExp(`"?${name}"?\\s*=\\s*\\?`));
    return i < 0 ? -1 : (statement.slice(0, i).match(/\?/g) ?? []).length;
  };
  const pk = at('PK');
  const sk = at('SK');
  if (pk < 0 || sk < 0) return undefined;
  return keyString({ PK: parameters?.[pk], SK: parameters?.[sk] });
}

/** `PK\u0000SK` of every item a request writes (put, update, delete; not a ConditionCheck). */
export function writtenKeys(op: string, request: any): string[] {
  const out: (string | undefined)[] = [];
  switch (op) {
    case 'PutItem':
      out.push(keyString(request.Item));
      break;
    case 'UpdateItem':
    case 'DeleteItem':
      out.push(keyString(request.Key));
      break;
    case 'BatchWriteItem':
      for (const list of Object.values<any>(request.RequestItems ?? {}))
        for (const r of list) out.push(keyString(r.PutRequest?.Item ?? r.DeleteRequest?.Key));
      break;
    case 'TransactWriteItems':
      for (const t of request.TransactItems ?? []) out.push(keyString(t.Put?.Item ?? t.Update?.Key ?? t.Delete?.Key));
      break;
    case 'ExecuteStatement':
      if (isWriteStatement(String(request.Statement ?? ''))) out.push(statementKey(String(request.Statement), request.Parameters ?? []));
      break;
    case 'BatchExecuteStatement':
      for (const s of request.Statements ?? [])
        if (isWriteStatement(String(s.Statement ?? ''))) out.push(statementKey(String(s.Statement), s.Parameters ?? []));
      break;
  }
  return out.filter((k): k is string => k !== undefined);
}
