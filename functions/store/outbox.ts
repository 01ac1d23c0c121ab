import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { conditionFailed } from './conditions.js';
import { ddb } from './clients.js';
import { keys, OUTBOX_INDEX, outboxShard, outboxShards } from './keys.js';
import { tableName } from './table.js';
import type { OperationRecord, Status } from './operations.js';
import type { RunRecord } from './runs.js';

/**
 * docs/EVENTS.md, at least once: a transition's events, recorded on the item it changes (an operation's, or a billing
 * run's) by the write that commits the transition (an attribute `outbox:<transition>:<run or attempt>`; no item
 * another operation writes, no extra item in a transaction), removed once they are on the bus. The events are built
 * again from it, the same ids and `at`.
 */
interface OutboxEntryFacts {
  /** The transition event's id (its idempotency key): `<operation>:<transition>:<run>`, `<run>:<transition>:<attempt>`. */
  key: string;
  name: string;
  at: string;
  by: string;
}
/** A transfer's or a deletion's transition: the operation as it left it. */
export interface OperationOutboxEntry extends OutboxEntryFacts {
  from: Status | null;
  op: OperationRecord;
}
/** A billing run's transition (or its creation, B1): the run as it left it. */
export interface RunOutboxEntry extends OutboxEntryFacts {
  run: RunRecord;
}
export type OutboxEntry = OperationOutboxEntry | RunOutboxEntry;

/**
 * docs/EVENTS.md: how long an outbox entry is left to its own invocation and its execution's retry path (a step's
 * retries of EventsNotPublished span about a minute): the sweeper delivers entries older than this, and a later
 * transition leaves a younger one of another invocation alone (services/events.ts deliverPending).
 */
export const OUTBOX_SWEEP_AGE_MS = 2 * 60_000;

/** The item an outbox is on (its table keys). */
export interface OutboxItemKey {
  PK: string;
  SK: string;
}

/** The item a record's outbox is on: the operation's, or the billing run's. */
export const outboxItemOf = (record: OperationRecord | RunRecord): OutboxItemKey =>
  'operation' in record ? keys.operation(record.id) : keys.run(record.id);

/** What an item with an outbox carries besides its record: its entries not yet delivered, and its outbox mark. */
export interface WithOutbox<E extends OutboxEntry> {
  /** docs/EVENTS.md outbox: committed transitions whose events are not yet known to be on the bus (oldest first). */
  pendingEvents?: E[];
  /**
   * docs/EVENTS.md, the outbox sweeper: the item's outbox mark as read or written (GSI2SK, store/keys.ts): the write
   * that removes the last entries removes the index keys too, only while the mark is still this one.
   */
  outboxMark?: string;
}

const OUTBOX_PREFIX = 'outbox:';
const ownerOf = (e: OutboxEntry) => ('op' in e ? e.op.id : e.run.id);
/** The entry's transition within its item: `<transition>:<run or attempt>` (unique on the item). */
const suffixOf = (e: OutboxEntry) => e.key.slice(ownerOf(e).length + 1);
const outboxAttribute = (e: OutboxEntry) => `${OUTBOX_PREFIX}${suffixOf(e)}`;
/** The outbox mark an entry's write leaves (GSI2SK): when, and which transition. */
export const outboxMarkOf = (e: OutboxEntry) => `${e.at}#${suffixOf(e)}`;
/** The outbox index keys of the item (store/keys.ts GSI2), with the mark of its last outbox write. */
const outboxIndexKeys = (ownerId: string, mark: string) => ({ GSI2PK: outboxShard(ownerId), GSI2SK: mark });

/** A created item's outbox entries, and the index keys the sweeper finds them by (a Put's attributes). */
export function outboxAttributes(outbox: readonly OutboxEntry[]): Record<string, unknown> {
  if (!outbox.length) return {};
  const last = outbox.at(-1)!;
  return { ...Object.fromEntries(outbox.map((e) => [outboxAttribute(e), e])), ...outboxIndexKeys(ownerOf(last), outboxMarkOf(last)) };
}

/**
 * The outbox entries as SET clauses of the UpdateItem that commits their transition, with the index keys and this
 * write's mark (placeholders `#o<n>`, `:o<n>`, `:oshard`, `:omark`).
 */
export function outboxSets(outbox: readonly OutboxEntry[]): {
  sets: string[];
  names: Record<string, string>;
  values: Record<string, unknown>;
  mark?: string;
} {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const sets = outbox.map((e, i) => {
    names[`#o${i}`] = outboxAttribute(e);
    values[`:o${i}`] = e;
    return `#o${i} = :o${i}`;
  });
  if (!outbox.length) return { sets, names, values };
  const last = outbox.at(-1)!;
  const mark = outboxMarkOf(last);
  Object.assign(values, { ':oshard': outboxShard(ownerOf(last)), ':omark': mark });
  sets.push('GSI2PK = :oshard', 'GSI2SK = :omark');
  return { sets, names, values, mark };
}

/** An item as read: its own attributes, its outbox entries (oldest first) and its mark; the index keys dropped. */
export function splitOutbox<E extends OutboxEntry>({
  GSI2PK,
  GSI2SK,
  ...item
}: Record<string, any>): {
  rest: Record<string, any>;
  outbox: WithOutbox<E>;
} {
  const rest: Record<string, any> = {};
  const pending: E[] = [];
  for (const [k, v] of Object.entries(item)) {
    if (k.startsWith(OUTBOX_PREFIX)) pending.push(v);
    else rest[k] = v;
  }
  pending.sort((a, b) => a.at.localeCompare(b.at) || a.key.localeCompare(b.key));
  return { rest, outbox: { ...(pending.length ? { pendingEvents: pending } : {}), ...(GSI2SK ? { outboxMark: GSI2SK as string } : {}) } };
}

/**
 * docs/EVENTS.md: the entries' events are on the bus; an item gone meanwhile (a world load) is not written again.
 * `lastMark`: these were all the entries the caller knows of, and the item's outbox mark was this: the outbox index
 * keys go too, in the same write, unless the mark changed meanwhile (another outbox write, or the sweeper's claim):
 * then the entries alone go, and the keys stay for whoever wrote the new mark (the sweeper drops keys that name no
 * entry).
 */
export async function removeOutbox(key: OutboxItemKey, entries: readonly OutboxEntry[], lastMark?: string): Promise<void> {
  if (entries.length === 0 && !lastMark) return;
  const names: Record<string, string> = Object.fromEntries(entries.map((e, i) => [`#o${i}`, outboxAttribute(e)]));
  const remove = (withIndex: boolean) =>
    ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: key,
        UpdateExpression: `REMOVE ${[...Object.keys(names), ...(withIndex ? ['GSI2PK', 'GSI2SK'] : [])].join(', ')}`,
        ConditionExpression: withIndex ? 'attribute_exists(PK) AND GSI2SK = :mark' : 'attribute_exists(PK)',
        ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
        ...(withIndex ? { ExpressionAttributeValues: { ':mark': lastMark } } : {}),
      }),
    );
  try {
    await remove(lastMark !== undefined);
    return;
  } catch (error) {
    if (!conditionFailed(error)) throw error;
  }
  if (entries.length === 0) return;
  try {
    await remove(false);
  } catch (error) {
    if (!conditionFailed(error)) throw error;
  }
}

/** An item the outbox index lists: its keys, its id (an operation's or a billing run's) and its mark. */
export interface DueOutbox {
  key: OutboxItemKey;
  id: string;
  mark: string;
}

/**
 * docs/EVENTS.md, the outbox sweeper: the items (operations and billing runs) whose last outbox write (or claim) is
 * older than `before`, oldest first, at most `limit`, from every partition of the outbox index (eventually
 * consistent: the claim decides).
 */
export async function dueOutboxes(before: string, limit: number): Promise<DueOutbox[]> {
  const found = await Promise.all(
    outboxShards().map(async (shard) => {
      const { Items = [] } = await ddb.send(
        new QueryCommand({
          TableName: tableName(),
          IndexName: OUTBOX_INDEX,
          KeyConditionExpression: 'GSI2PK = :shard AND GSI2SK < :before',
          ExpressionAttributeValues: { ':shard': shard, ':before': before },
          Limit: limit,
        }),
      );
      return Items.map((i) => ({ key: { PK: i.PK as string, SK: i.SK as string }, id: i.id as string, mark: i.GSI2SK as string }));
    }),
  );
  return found
    .flat()
    .sort((a, b) => a.mark.localeCompare(b.mark))
    .slice(0, limit);
}

/**
 * The sweeper takes an item's outbox: its mark moves from `seen` to `claim` (a fresh one, so the index lists it as due
 * again only after the sweeper's age, should this sweeper stop), in one conditional write that also reads the item.
 * Answers its entries and the new mark, or undefined when the mark moved since the index was read (another sweep took
 * it, the entries were delivered, or a transition wrote a new one: its own invocation delivers them).
 */
export async function claimOutbox(key: OutboxItemKey, seen: string, claim: string): Promise<WithOutbox<OutboxEntry> | undefined> {
  try {
    const { Attributes } = await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: key,
        UpdateExpression: 'SET GSI2SK = :claim',
        ConditionExpression: 'GSI2SK = :seen',
        ExpressionAttributeValues: { ':claim': claim, ':seen': seen },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return splitOutbox(Attributes!).outbox;
  } catch (error) {
    if (conditionFailed(error)) return undefined;
    throw error;
  }
}
