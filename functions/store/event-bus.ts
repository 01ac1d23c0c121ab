import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { hooked } from './clients.js';

/**
 * The operation event bus (docs/EVENTS.md): every PutEvents of the functions goes through here. Endpoint from the
 * standard variables (AWS_ENDPOINT_URL_EVENTBRIDGE, AWS_ENDPOINT_URL), so the embedded stack and LocalStack receive
 * them as AWS would.
 */
export const eventBridge = hooked('EventBridge', new EventBridgeClient({ maxAttempts: 6 }));

/** EventBridge's limits: 10 entries a PutEvents request, 256 KB an entry (its Detail, DetailType, Source, …) and a request's entries together. */
export const PUT_EVENTS_MAX_ENTRIES = 10;
export const PUT_EVENTS_MAX_ENTRY_BYTES = 256 * 1024;

export interface BusEntry {
  source: string;
  detailType: string;
  detail: Record<string, unknown>;
}

/** An entry's size as EventBridge counts it (UTF-8 bytes of Source, DetailType, Detail and the bus name). */
export const entrySize = (e: BusEntry, busName: string) =>
  Buffer.byteLength(e.source) + Buffer.byteLength(e.detailType) + Buffer.byteLength(JSON.stringify(e.detail)) + Buffer.byteLength(busName);

/** The PutEvents requests for `entries`, in order: at most 10 entries and 256 KB of entries each. */
export function requestChunks<E extends BusEntry>(entries: readonly E[], busName: string): E[][] {
  const chunks: E[][] = [];
  let bytes = 0;
  for (const e of entries) {
    const size = entrySize(e, busName);
    const last = chunks[chunks.length - 1];
    if (!last || last.length === PUT_EVENTS_MAX_ENTRIES || bytes + size > PUT_EVENTS_MAX_ENTRY_BYTES) {
      chunks.push([e]);
      bytes = size;
    } else {
      last.push(e);
      bytes += size;
    }
  }
  return chunks;
}

/**
 * Puts the entries on `busName`, 10 (and 256 KB) a request; entries EventBridge reports failed are put again (up to 3 rounds; the
 * SDK retries whole requests on its own). Answers how many requests were made and the entries that never landed.
 */
export async function putOnBus(
  busName: string,
  entries: readonly BusEntry[],
): Promise<{ requests: number; failed: { entry: BusEntry; error: string }[] }> {
  let requests = 0;
  let pending = [...entries];
  let failed: { entry: BusEntry; error: string }[] = [];
  for (let round = 0; round < 3 && pending.length; round++) {
    failed = [];
    for (const chunk of requestChunks(pending, busName)) {
      const Entries: PutEventsRequestEntry[] = chunk.map((e) => ({
        EventBusName: busName,
        Source: e.source,
        DetailType: e.detailType,
        Detail: JSON.stringify(e.detail),
      }));
      requests++;
      const out = await eventBridge.send(new PutEventsCommand({ Entries }));
      (out.Entries ?? []).forEach((r, n) => {
        if (r.ErrorCode) failed.push({ entry: chunk[n]!, error: `${r.ErrorCode}: ${r.ErrorMessage ?? ''}` });
      });
    }
    pending = failed.map((f) => f.entry);
  }
  return { requests, failed };
}
