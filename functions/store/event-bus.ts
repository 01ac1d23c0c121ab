import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { hooked } from './clients.js';

/**
 * The operation event bus (docs/EVENTS.md): every PutEvents of the functions goes through here. Endpoint from the
 * standard variables (AWS_ENDPOINT_URL_EVENTBRIDGE, AWS_ENDPOINT_URL), so the embedded stack and LocalStack receive
 * them as AWS would.
 */
export const eventBridge = hooked('EventBridge', new EventBridgeClient({ maxAttempts: 6 }));

/** EventBridge's limits: 10 entries a PutEvents request, 256 KB an entry (its Detail, DetailType, Source, …). */
export const PUT_EVENTS_MAX_ENTRIES = 10;
export const PUT_EVENTS_MAX_ENTRY_BYTES = 256 * 1024;

export interface BusEntry {
  source: string;
  detailType: string;
  detail: Record<string, unknown>;
}

/** An entry's size as EventBridge counts it (UTF-8 bytes of Source, DetailType, Detail and the bus name). */
export const entrySize = (e: BusEntry, busName: string) => Buffer.byteLength(e.source) + Buffer.byteLength(e.detailType) + Buffer.byteLength(JSON.stringify(e.detail)) + Buffer.byteLength(busName);

/**
 * Puts the entries on `busName`, 10 a request; entries EventBridge reports failed are put again (up to 3 rounds; the
 * SDK retries whole requests on its own). Answers how many requests were made and the entries that never landed.
 */
export async function putOnBus(busName: string, entries: readonly BusEntry[]): Promise<{ requests: number; failed: { entry: BusEntry; error: string }[] }> {
  let requests = 0;
  let pending = [...entries];
  let failed: { entry: BusEntry; error: string }[] = [];
  for (let round = 0; round < 3 && pending.length; round++) {
    failed = [];
    for (let i = 0; i < pending.length; i += PUT_EVENTS_MAX_ENTRIES) {
      const chunk = pending.slice(i, i + PUT_EVENTS_MAX_ENTRIES);
      const Entries: PutEventsRequestEntry[] = chunk.map((e) => ({ EventBusName: busName, Source: e.source, DetailType: e.detailType, Detail: JSON.stringify(e.detail) }));
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
