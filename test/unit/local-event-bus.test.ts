import { beforeAll, describe, expect, it } from 'vitest';
import { LocalEventBus, PUT_EVENTS_MAX_BYTES } from '../../local/event-bus.js';
import { LocalLambda } from '../../local/functions.js';
import { LocalNames, synthesizeTemplate } from '../../local/template.js';

// The embedded stack's EventBridge refuses a PutEvents request over AWS's quotas whole (ValidationException), as
// AWS does: 10 entries a request, 256 KB of entries. functions/store/event-bus.ts sends within them.
let bus: LocalEventBus;
beforeAll(() => {
  bus = new LocalEventBus(new LocalNames(synthesizeTemplate(), 'offboard'), new LocalLambda([]), 'http://127.0.0.1:9');
});
const entry = (bytes: number) => ({
  Source: 's',
  DetailType: 't',
  Detail: JSON.stringify({ pad: 'x'.repeat(bytes) }),
  EventBusName: 'nowhere',
});
const body = (entries: unknown[]) => JSON.stringify({ Entries: entries });

describe('local EventBridge: PutEvents quotas', () => {
  it('refuses 11 entries, and none, naming the limit', () => {
    expect(() => bus.acceptPutEvents(body(Array.from({ length: 11 }, () => entry(10))))).toThrow(/less than or equal to 10/);
    expect(() => bus.acceptPutEvents(body([]))).toThrow(/greater than or equal to 1/);
  });

  it('refuses entries of more than 256 KB together; takes 10 small ones, answering each (here: an unknown bus)', () => {
    expect(() => bus.acceptPutEvents(body([entry(PUT_EVENTS_MAX_BYTES / 2), entry(PUT_EVENTS_MAX_BYTES / 2)]))).toThrow(/Total size/);
    const answer = bus.acceptPutEvents(body(Array.from({ length: 10 }, () => entry(PUT_EVENTS_MAX_BYTES / 20))));
    expect(answer.FailedEntryCount).toBe(10);
    expect(answer.Entries[0]).toMatchObject({ ErrorCode: 'ResourceNotFoundException' });
  });
});
