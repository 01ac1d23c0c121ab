import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/constructs/offboard-function.js';
import { billingEvent, byId, demoWorld, openTarget, settle, withApplyWork, type Target } from './harness.js';

/**
 * docs/EVENTS.md: the operation bus's events as the embedded stack recorded them (`GET /_local/events`), each
 * validated against its JSON Schema in docs/events/. Embedded stack only (a deployed bus is read by its own rules).
 */
const onDeployedStack = process.env.OFFBOARD_TARGET === 'stack';
const DAY_MS = 24 * 3600 * 1000;

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const ajv = addFormats(new Ajv2020({ allErrors: true, strict: false }));
const SCHEMA_DIR = path.join(REPO_ROOT, 'docs', 'events');
const validators = new Map<string, ReturnType<Ajv2020['compile']>>();
for (const f of readdirSync(SCHEMA_DIR)) ajv.addSchema(JSON.parse(readFileSync(path.join(SCHEMA_DIR, f), 'utf8')));
for (const f of readdirSync(SCHEMA_DIR).filter((f) => f !== 'common.schema.json')) {
  const schema = JSON.parse(readFileSync(path.join(SCHEMA_DIR, f), 'utf8'));
  validators.set(schema.title, ajv.getSchema(schema.$id)!);
}

let target: Target;
let seen = 0;
beforeAll(async () => {
  if (!onDeployedStack) target = await openTarget();
});
afterAll(async () => target?.close());

interface BusEvent {
  'detail-type': string;
  source: string;
  detail: any;
}

/** The operation bus's events since the last call, each checked against its schema. */
async function newEvents(): Promise<BusEvent[]> {
  await target.call('POST', '/_local/idle');
  const res = await fetch(`${target.url}/_local/events?after=${seen}`);
  const { events, last } = (await res.json()) as { events: { bus: string; event: BusEvent }[]; last: number };
  seen = last;
  const out = events.filter((e) => e.bus.endsWith('-operations')).map((e) => e.event);
  for (const e of out) {
    const validate = validators.get(e['detail-type']);
    expect(validate, `a schema for ${e['detail-type']}`).toBeDefined();
    expect(validate!(e), `${e['detail-type']} ${JSON.stringify(e.detail).slice(0, 300)}: ${ajv.errorsText(validate!.errors)}`).toBe(true);
  }
  return out;
}

const lifecycle = (events: BusEvent[], operationId: string) =>
  events.filter((e) => e['detail-type'] !== 'Affected' && e.detail.operationId === operationId).map((e) => e['detail-type']);
const affected = (events: BusEvent[], operationId: string, phase: string) =>
  events.filter((e) => e['detail-type'] === 'Affected' && e.detail.operationId === operationId && e.detail.phase === phase);

async function load(world: unknown) {
  await target.load(world);
  await newEvents(); // what the load's stack did before
}

/** Each person the test expects an `Affected` for, read off the impact's effects (docs/EVENTS.md "who is told"). */
function peopleOf(subject: string, effects: any[]): Set<string> {
  const people = new Set<string>();
  for (const e of effects) {
    if (e.kind === 'contact-removed' || e.kind === 'admin-granted') e.userIds.forEach((u: string) => people.add(u));
    else if (['chat-left', 'membership-changed', 'security-changed', 'user-deleted', 'api-token-revoked'].includes(e.kind))
      people.add(e.userId);
    else people.add(subject);
  }
  return people;
}

describe.skipIf(onDeployedStack)('outbound events (issue 22, docs/EVENTS.md)', () => {
  it('T3, X1: a transfer emits Requested, Approved, Succeeded once each, in order, each valid against its schema with its idempotency key', async () => {
    await load(demoWorld());
    const requested = await target.call('POST', '/transfers', { as: 'adminA', body: { userId: 'a1', destinationOrganizationId: 'C' } });
    expect(requested.status).toBe(201);
    const id = requested.body.id;
    expect((await target.call('POST', `/transfers/${id}/approval`, { as: 'adminC' })).status).toBe(202);
    const done = await settle(target, `/transfers/${id}`, 'adminA');
    expect(done.status).toBe('succeeded');
    const events = await newEvents();
    expect(lifecycle(events, id)).toEqual(['Transfer Requested', 'Transfer Approved', 'Transfer Succeeded']);
    const byType = Object.fromEntries(
      events.filter((e) => e.detail.operationId === id && e['detail-type'] !== 'Affected').map((e) => [e['detail-type'], e.detail]),
    );
    expect(byType['Transfer Requested']).toMatchObject({
      id: `${id}:request:0`,
      from: null,
      status: 'awaiting-approval',
      by: 'adminA',
      sourceOrganizationId: 'A',
      destinationOrganizationId: 'C',
      organizationIds: ['A', 'C'],
      link: `/transfers/${id}`,
      rule: 'T3',
    });
    expect(byType['Transfer Approved']).toMatchObject({
      id: `${id}:approve:1`,
      from: 'awaiting-approval',
      status: 'running',
      by: 'adminC',
    });
    expect(byType['Transfer Succeeded']).toMatchObject({ id: `${id}:succeed:1`, from: 'running', status: 'succeeded', by: 'system' });
    // the counts by kind and rule are the impact's
    expect(byType['Transfer Succeeded'].counts).toEqual(done.impact.summary);
    expect(byType['Transfer Succeeded'].effectCount).toBe(done.impact.effectCount);
  });

  it('O1, O2, D7: a step retried after its work (Apply finalizing a small run, Finalize, MarkFailed, StartPurge: Lambda.ServiceException) emits its transition exactly once', async () => {
    // a small run is applied and finalized in one Apply invocation; APPLY_WORK_PER_INVOCATION=2 spreads the same
    // run over several, so that the Finalize step runs
    for (const [step, work] of [
      ['apply', undefined],
      ['finalize', '2'],
    ] as const) {
      await load(demoWorld());
      await target.faultReport();
      await target.fault(step, { times: 1, when: 'after', error: 'Lambda.ServiceException' });
      try {
        await withApplyWork(work, async () => {
          const id = (await target.call('POST', '/transfers', { as: 'adminA', body: { userId: 'a1', destinationOrganizationId: 'C' } }))
            .body.id;
          await target.call('POST', `/transfers/${id}/approval`, { as: 'adminC' });
          expect((await settle(target, `/transfers/${id}`, 'adminA')).status).toBe('succeeded');
          await target.call('POST', '/_local/idle'); // the execution ends after the retried step
          expect((await target.faultReport()).fired).toMatchObject({ [step]: 1 });
          expect(lifecycle(await newEvents(), id)).toEqual(['Transfer Requested', 'Transfer Approved', 'Transfer Succeeded']);
          expect(await target.check()).toEqual([]);
        });
      } finally {
        await target.fault(step);
      }
    }
    // O1: CheckEligibility refuses (no Retry matches), MarkFailed fails the transfer and is retried after its work
    await load(demoWorld());
    await target.fault('apply', { times: 1, when: 'before', error: 'AccessDeniedException' });
    await target.fault('mark-failed', { times: 1, when: 'after', error: 'Lambda.ServiceException' });
    try {
      const id = (await target.call('POST', '/transfers', { as: 'adminA', body: { userId: 'a1', destinationOrganizationId: 'C' } })).body
        .id;
      await target.call('POST', `/transfers/${id}/approval`, { as: 'adminC' });
      expect((await settle(target, `/transfers/${id}`, 'adminA')).status).toBe('failed');
      await target.call('POST', '/_local/idle');
      expect((await target.faultReport()).fired).toMatchObject({ apply: 1, 'mark-failed': 1 });
      const events = await newEvents();
      expect(lifecycle(events, id)).toEqual(['Transfer Requested', 'Transfer Approved', 'Transfer Failed']);
      expect(events.find((e) => e['detail-type'] === 'Transfer Failed')!.detail.error).toMatchObject({ code: 'AccessDeniedException' });
    } finally {
      await target.fault('apply');
      await target.fault('mark-failed');
    }
    // D7: StartPurge begins the purge, then is retried: Purge Started once
    const w = demoWorld();
    byId(w.organizations, 'A').deletionGraceDays = 7;
    await load(w);
    await target.fault('start-purge', { times: 1, when: 'after', error: 'Lambda.ServiceException' });
    try {
      const id = (await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a2' } })).body.id;
      await target.clock({ advanceMs: 7 * DAY_MS + 60_000 });
      expect((await settle(target, `/deletions/${id}`, 'adminA')).status).toBe('succeeded');
      await target.call('POST', '/_local/idle');
      expect((await target.faultReport()).fired).toMatchObject({ 'start-purge': 1 });
      expect(lifecycle(await newEvents(), id)).toEqual(['Deletion Scheduled', 'Deletion Purge Started', 'Deletion Succeeded']);
    } finally {
      await target.fault('start-purge');
    }
  });

  it('O1, T3: at least once across a crash: Finalize stopped between its commit and PutEvents, PutEvents failing at Finalize or at the approval; each event exactly once, same id and time', async () => {
    const transferOnce = async () => {
      const id = (await target.call('POST', '/transfers', { as: 'adminA', body: { userId: 'a1', destinationOrganizationId: 'C' } })).body
        .id;
      expect((await target.call('POST', `/transfers/${id}/approval`, { as: 'adminC' })).status).toBe(202);
      expect((await settle(target, `/transfers/${id}`, 'adminA')).status).toBe('succeeded');
      await target.call('POST', '/_local/idle');
      const events = await newEvents();
      expect(lifecycle(events, id)).toEqual(['Transfer Requested', 'Transfer Approved', 'Transfer Succeeded']);
      const ids = events.filter((e) => e.detail.operationId === id).map((e) => e.detail.id);
      expect(new Set(ids).size, 'no event twice').toBe(ids.length);
      return { id, events };
    };
    // a crash: the step that finalizes stops between the transition's transaction (with its outbox entry) and its
    // PutEvents, so nothing of it reaches the bus; MarkFailed (its Catch) reads the operation and delivers the outbox.
    // Apply finalizes a small run itself; APPLY_WORK_PER_INVOCATION=2 spreads it over several, then Finalize does.
    for (const [step, work] of [
      ['apply', undefined],
      ['finalize', '2'],
    ] as const) {
      await withApplyWork(work, async () => {
        // the step's writes in a run without faults: the last is the outbox's removal, after PutEvents; the one
        // before it commits the transition
        await load(demoWorld());
        await target.faultReport();
        await transferOnce();
        const writes = (await target.faultReport()).mostWrites[step]!;
        await load(demoWorld());
        await target.fault(step, { times: 1, when: 'mid', afterWrites: writes - 1, error: 'Sandbox.Timedout' });
        try {
          const { id, events } = await transferOnce();
          expect((await target.faultReport()).fired).toMatchObject({ [step]: 1 });
          expect(events.find((e) => e['detail-type'] === 'Transfer Succeeded')!.detail).toMatchObject({
            id: `${id}:succeed:1`,
            status: 'succeeded',
          });
          const audit = (await target.call('GET', `/operations/${id}/audit`, { as: 'adminA' })).body;
          expect(JSON.stringify(audit)).toContain('finalize-interrupted'); // the crash really happened after the commit
        } finally {
          await target.fault(step);
        }
        // PutEvents refused where the run is finalized: the step fails (EventsNotPublished), its Retry delivers the outbox
        await load(demoWorld());
        await target.fault(step, { times: 1, when: 'mid', atWrite: '^PutEvents ', error: 'InternalException' });
        try {
          const { events } = await transferOnce();
          expect((await target.faultReport()).fired).toMatchObject({ [step]: 1 });
          expect(events.filter((e) => e['detail-type'] === 'Affected' && e.detail.phase === 'applied').length).toBeGreaterThan(0);
        } finally {
          await target.fault(step);
        }
      });
    }
    // PutEvents refused at the approval (an API call: it answers 202, the transition stands): the execution's first
    // step delivers Transfer Approved, once, with the id and time the transition recorded
    await load(demoWorld());
    await target.fault('transfers', { times: 1, when: 'mid', atWrite: '^PutEvents .*Transfer Approved', error: 'InternalException' });
    try {
      const { id, events } = await transferOnce();
      expect((await target.faultReport()).fired).toMatchObject({ transfers: 1 });
      const approved = events.find((e) => e['detail-type'] === 'Transfer Approved')!.detail;
      expect(approved).toMatchObject({ id: `${id}:approve:1`, by: 'adminC' });
      const op = (await target.call('GET', `/transfers/${id}`, { as: 'adminA' })).body;
      expect(Date.parse(approved.at)).toBeLessThanOrEqual(Date.parse(op.updatedAt));
    } finally {
      await target.fault('transfers');
    }
  });

  // docs/EVENTS.md, the outbox sweeper: what no retry path delivers (an API call's last transition, a request left
  // unapproved) is delivered by the scheduled sweeper once its entry is older than 2 minutes, with the same ids
  const sweep = async () => {
    const answer = await target.call('POST', '/_local/schedules', { body: { rule: 'OperationEventsOutboxSweep' } });
    expect(answer.status).toBe(200);
    const [delivery] = answer.body.deliveries;
    expect(delivery, 'the sweeper ran').toMatchObject({ outcome: 'delivered' });
    return delivery.result as { due: number; claimed: number; delivered: number; left: number };
  };
  const SWEEP_AGE_MS = 2 * 60_000;

  it('O1, D7, T3: a transition whose invocation stopped after its commit (PutEvents refused, or stopped outright) is not on the bus until the outbox sweeper runs; then once, with the id and time it recorded; a second sweep sends nothing', async () => {
    const w = demoWorld();
    byId(w.organizations, 'A').deletionGraceDays = 7;
    for (const stop of [
      { times: 1, when: 'mid', atWrite: '^PutEvents .*Deletion Undone', error: 'InternalException' },
      // the undo's first write is its transition (with the reactivation and the outbox entry); it stops right after
      { times: 1, when: 'mid', afterWrites: 1, error: 'Sandbox.Timedout' },
    ] as const) {
      await load(w);
      const id = (await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a2' } })).body.id;
      expect(lifecycle(await newEvents(), id)).toEqual(['Deletion Scheduled']);
      await target.faultReport();
      await target.fault('deletions', stop);
      try {
        const undo = await target.call('POST', `/deletions/${id}/undo`, { as: 'adminA' });
        expect(undo.status, stop.error).toBe(stop.error === 'InternalException' ? 200 : 500);
        expect((await target.faultReport()).fired).toMatchObject({ deletions: 1 });
      } finally {
        await target.fault('deletions');
      }
      const op = (await target.call('GET', `/deletions/${id}`, { as: 'adminA' })).body;
      expect(op.status, 'the transition committed').toBe('cancelled');
      expect(lifecycle(await newEvents(), id), 'not on the bus').toEqual([]);
      // younger than the sweeper's age: left to its own invocation's retry path
      expect(await sweep()).toMatchObject({ claimed: 0, delivered: 0 });
      expect(lifecycle(await newEvents(), id)).toEqual([]);
      await target.clock({ advanceMs: SWEEP_AGE_MS + 60_000 });
      expect(await sweep()).toMatchObject({ claimed: 1, delivered: 1, left: 0 });
      const events = await newEvents();
      expect(lifecycle(events, id)).toEqual(['Deletion Undone']);
      const undone = events.find((e) => e['detail-type'] === 'Deletion Undone')!.detail;
      expect(undone).toMatchObject({ id: `${id}:undo:0`, by: 'adminA', from: 'scheduled', status: 'cancelled' });
      expect(Date.parse(undone.at), 'the time the transition recorded').toBeLessThanOrEqual(Date.parse(op.updatedAt));
      // the sweep removed the entry and the index keys with it: nothing is due, however long after
      await target.clock({ advanceMs: SWEEP_AGE_MS + 60_000 });
      expect(await sweep()).toMatchObject({ due: 0, claimed: 0, delivered: 0 });
      expect(await newEvents()).toEqual([]);
    }
  });

  it('T3, X1: a request whose PutEvents failed and that nobody approves: the sweeper puts Transfer Requested and one Affected per person, from the stored plan; the approval later sends each once', async () => {
    await load(demoWorld());
    await target.fault('transfers', { times: 1, when: 'mid', atWrite: '^PutEvents .*Transfer Requested', error: 'InternalException' });
    let id: string;
    try {
      const requested = await target.call('POST', '/transfers', { as: 'adminA', body: { userId: 'a1', destinationOrganizationId: 'C' } });
      expect(requested.status).toBe(201);
      id = requested.body.id;
      expect((await target.faultReport()).fired).toMatchObject({ transfers: 1 });
    } finally {
      await target.fault('transfers');
    }
    expect((await newEvents()).filter((e) => e.detail.operationId === id)).toEqual([]);
    await target.clock({ advanceMs: SWEEP_AGE_MS + 60_000 });
    expect(await sweep()).toMatchObject({ claimed: 1, delivered: 1, left: 0 });
    const swept = await newEvents();
    expect(lifecycle(swept, id)).toEqual(['Transfer Requested']);
    expect(swept.find((e) => e['detail-type'] === 'Transfer Requested')!.detail).toMatchObject({ id: `${id}:request:0`, by: 'adminA' });
    const effects = (await target.call('GET', `/transfers/${id}/effects`, { as: 'adminA' })).body.effects;
    const told = affected(swept, id, 'requested');
    expect(told.map((e) => e.detail.affectedUserId).sort()).toEqual([...peopleOf('a1', effects)].sort());
    for (const e of told) expect(e.detail.id).toBe(`${id}:requested:0:${e.detail.affectedUserId}`);
    expect((await target.call('POST', `/transfers/${id}/approval`, { as: 'adminC' })).status).toBe(202);
    expect((await settle(target, `/transfers/${id}`, 'adminA')).status).toBe('succeeded');
    expect(lifecycle(await newEvents(), id)).toEqual(['Transfer Approved', 'Transfer Succeeded']);
    // each transition's own invocation removed its entry and the index keys in the same write: nothing left to sweep
    await target.clock({ advanceMs: SWEEP_AGE_MS + 60_000 });
    expect(await sweep()).toMatchObject({ due: 0 });
  });

  it('a transition leaves another invocation’s undelivered entry younger than 2 minutes to it (it may still be putting its events) and the steps after; an older one it delivers', async () => {
    for (const waitMs of [0, SWEEP_AGE_MS + 60_000]) {
      await load(demoWorld());
      await target.fault('transfers', { times: 1, when: 'mid', atWrite: '^PutEvents .*Transfer Requested', error: 'InternalException' });
      let id: string;
      try {
        id = (await target.call('POST', '/transfers', { as: 'adminA', body: { userId: 'a1', destinationOrganizationId: 'C' } })).body.id;
        expect((await target.faultReport()).fired).toMatchObject({ transfers: 1 });
      } finally {
        await target.fault('transfers');
      }
      if (waitMs) await target.clock({ advanceMs: waitMs });
      expect((await target.call('POST', `/transfers/${id}/approval`, { as: 'adminC' })).status).toBe(202);
      expect((await settle(target, `/transfers/${id}`, 'adminA')).status).toBe('succeeded');
      await target.call('POST', '/_local/idle');
      const events = await newEvents();
      // young: the approval puts its own event only, the run's step delivers the request's after it; old: the
      // approval delivers the request's first, then its own (one publish, in outbox order)
      expect(lifecycle(events, id), `after ${waitMs} ms`).toEqual(
        waitMs
          ? ['Transfer Requested', 'Transfer Approved', 'Transfer Succeeded']
          : ['Transfer Approved', 'Transfer Requested', 'Transfer Succeeded'],
      );
      const ids = events.filter((e) => e.detail.operationId === id).map((e) => e.detail.id);
      expect(new Set(ids).size, 'no event twice').toBe(ids.length);
    }
  });

  it('two sweeps at once deliver each entry once (the claim); a direct path whose removal was lost after its PutEvents is swept again with the same id and the same event, which a consumer drops by id', async () => {
    const w = demoWorld();
    byId(w.organizations, 'A').deletionGraceDays = 7;
    await load(w);
    const ids: string[] = [];
    for (const userId of ['a2', 'a3']) {
      ids.push((await target.call('POST', '/deletions', { as: 'adminA', body: { userId } })).body.id);
    }
    await newEvents();
    await target.fault('deletions', { times: 2, when: 'mid', atWrite: '^PutEvents .*Deletion Undone', error: 'InternalException' });
    try {
      for (const id of ids) expect((await target.call('POST', `/deletions/${id}/undo`, { as: 'adminA' })).status).toBe(200);
    } finally {
      await target.fault('deletions');
    }
    expect((await newEvents()).filter((e) => e['detail-type'] === 'Deletion Undone')).toEqual([]);
    await target.clock({ advanceMs: SWEEP_AGE_MS + 60_000 });
    const both = await Promise.all([sweep(), sweep()]);
    expect(
      both.reduce((n, r) => n + r.claimed, 0),
      'each operation taken by one sweep',
    ).toBe(2);
    expect(both.reduce((n, r) => n + r.delivered, 0)).toBe(2);
    const undone = (await newEvents()).filter((e) => e['detail-type'] === 'Deletion Undone').map((e) => e.detail.id);
    expect(undone.sort()).toEqual(ids.map((id) => `${id}:undo:0`).sort());
    await target.clock({ advanceMs: SWEEP_AGE_MS + 60_000 });
    expect(await sweep()).toMatchObject({ due: 0, claimed: 0 });

    // the direct path's PutEvents lands and its removal of the entry is lost (it stops there): at least once, so the
    // sweeper puts the same event again, the same id, time and contents; deduplicated by id, each transition once
    await load(demoWorld());
    const id = (await target.call('POST', '/transfers', { as: 'adminA', body: { userId: 'a1', destinationOrganizationId: 'C' } })).body.id;
    await newEvents();
    await target.fault('transfers', { times: 1, when: 'mid', atWrite: '^UpdateItem .*REMOVE #o0', error: 'InternalServerError' });
    try {
      expect((await target.call('POST', `/transfers/${id}/cancellation`, { as: 'adminA' })).status).toBe(200);
      expect((await target.faultReport()).fired).toMatchObject({ transfers: 1 });
    } finally {
      await target.fault('transfers');
    }
    const direct = await newEvents();
    expect(lifecycle(direct, id)).toEqual(['Transfer Cancelled']);
    await target.clock({ advanceMs: SWEEP_AGE_MS + 60_000 });
    expect(await sweep()).toMatchObject({ claimed: 1, delivered: 1 });
    const again = await newEvents();
    expect(lifecycle(again, id)).toEqual(['Transfer Cancelled']);
    expect(again.find((e) => e.detail.operationId === id)!.detail).toEqual(direct.find((e) => e.detail.operationId === id)!.detail);
    const seen = new Map([...direct, ...again].filter((e) => e.detail.operationId === id).map((e) => [e.detail.id, e.detail]));
    expect([...seen.keys()]).toEqual([`${id}:cancel:0`]);
    await target.clock({ advanceMs: SWEEP_AGE_MS + 60_000 });
    expect(await sweep()).toMatchObject({ due: 0 });
  });

  /** A billing run's own events (its transitions), in the order the bus recorded them. */
  const runLifecycle = (events: BusEvent[], runId: string) =>
    events.filter((e) => e['detail-type'].startsWith('Billing Run') && e.detail.runId === runId);
  const runOf = async (runId: string) =>
    (await target.call('GET', `/billing-runs/${runId}`, { token: await target.operator.token() })).body;
  /** B1 for organization B of the demo world, with `fault` set on one function for it; answers the run's id. */
  const cancelContractWith = async (fn: string, fault: Parameters<Target['fault']>[1]) => {
    await load(demoWorld());
    await target.faultReport();
    await target.fault(fn, fault);
    try {
      const { eventId } = await target.billing(billingEvent('Contract Cancelled', { organizationId: 'B' }));
      await target.call('POST', '/_local/idle');
      expect((await target.faultReport()).fired, `the fault in ${fn} fired`).toMatchObject({ [fn]: 1 });
      return `b1-${eventId}`;
    } finally {
      await target.fault(fn);
    }
  };

  it('B1: a billing run transition whose PutEvents was refused (its creation) is delivered by the run’s next step (StartRun), once, with the id and time it recorded; nothing is left to sweep', async () => {
    const runId = await cancelContractWith('contract-cancelled', {
      times: 1,
      when: 'mid',
      atWrite: '^PutEvents .*Billing Run Created',
      error: 'InternalException',
    });
    const events = runLifecycle(await newEvents(), runId);
    expect(events.map((e) => e['detail-type'])).toEqual(['Billing Run Created', 'Billing Run Succeeded']);
    const run = await runOf(runId);
    expect(run.status).toBe('succeeded');
    expect(events[0]!.detail).toMatchObject({ id: `${runId}:create:0`, transition: 'create', status: 'running', by: 'system' });
    expect(Date.parse(events[0]!.detail.at), 'the time the creation recorded').toBeLessThanOrEqual(Date.parse(run.createdAt));
    expect(events[1]!.detail).toMatchObject({ id: `${runId}:succeed:0`, counts: { total: run.total, done: run.done, failed: run.failed } });
    // StartRun removed the entry and the run's outbox index keys: nothing is due, however long after
    await target.clock({ advanceMs: SWEEP_AGE_MS + 60_000 });
    expect(await sweep()).toMatchObject({ due: 0, claimed: 0 });
    expect(await newEvents()).toEqual([]);
  });

  it('B1: a billing run step stopped right after its commit: the creation (delivered by the retried delivery of the billing event) and FinishRun (delivered by FailRun, its Catch); each event once', async () => {
    // the billing target's first write is the run's Put with its outbox entry; it stops right after it, and
    // EventBridge's retry of the target finds the run (a duplicate) and delivers what the first attempt left
    let runId = await cancelContractWith('contract-cancelled', { times: 1, when: 'mid', afterWrites: 1, error: 'Sandbox.Timedout' });
    let events = runLifecycle(await newEvents(), runId);
    expect(events.map((e) => e['detail-type'])).toEqual(['Billing Run Created', 'Billing Run Succeeded']);
    expect(events[0]!.detail.id).toBe(`${runId}:create:0`);
    expect((await runOf(runId)).status).toBe('succeeded');
    // FinishRun's writes: the organization's counters, then the transition with its outbox entry; it stops there
    runId = await cancelContractWith('finish-run', { times: 1, when: 'mid', afterWrites: 2, error: 'Sandbox.Timedout' });
    events = runLifecycle(await newEvents(), runId);
    expect(events.map((e) => e['detail-type'])).toEqual(['Billing Run Created', 'Billing Run Succeeded']);
    const run = await runOf(runId);
    expect(run.status, 'the transition committed before the stop').toBe('succeeded');
    // B1, O3: the organization's mark (no transfer out while its members are deleted) went with the run's end, by the retry
    expect(await target.check(), 'the world check, cancellation-mark-without-run among its invariants').toEqual([]);
    expect(events[1]!.detail).toMatchObject({ id: `${runId}:succeed:0`, status: 'succeeded', by: 'system' });
    expect(Date.parse(events[1]!.detail.at)).toBeLessThanOrEqual(Date.parse(run.updatedAt));
    await target.clock({ advanceMs: SWEEP_AGE_MS + 60_000 });
    expect(await sweep()).toMatchObject({ due: 0 });
    expect(await newEvents()).toEqual([]);
  });

  it('B1: a billing run transition no step follows (FinishRun’s) whose PutEvents was refused is swept once after 2 minutes, with its recorded id, time and counts; a second sweep finds nothing', async () => {
    const runId = await cancelContractWith('finish-run', {
      times: 1,
      when: 'mid',
      atWrite: '^PutEvents .*Billing Run Succeeded',
      error: 'InternalException',
    });
    expect(runLifecycle(await newEvents(), runId).map((e) => e['detail-type'])).toEqual(['Billing Run Created']);
    const run = await runOf(runId);
    expect(run.status, 'the transition committed').toBe('succeeded');
    // younger than the sweeper's age: left alone
    expect(await sweep()).toMatchObject({ claimed: 0, delivered: 0 });
    expect(await newEvents()).toEqual([]);
    await target.clock({ advanceMs: SWEEP_AGE_MS + 60_000 });
    expect(await sweep()).toMatchObject({ due: 1, claimed: 1, delivered: 1, left: 0 });
    const swept = runLifecycle(await newEvents(), runId);
    expect(swept.map((e) => e['detail-type'])).toEqual(['Billing Run Succeeded']);
    expect(swept[0]!.detail).toMatchObject({
      id: `${runId}:succeed:0`,
      status: 'succeeded',
      by: 'system',
      counts: { total: run.total, done: run.done, failed: run.failed, skipped: run.skipped },
    });
    expect(Date.parse(swept[0]!.detail.at), 'the time the transition recorded').toBeLessThanOrEqual(Date.parse(run.updatedAt));
    await target.clock({ advanceMs: SWEEP_AGE_MS + 60_000 });
    expect(await sweep()).toMatchObject({ due: 0, claimed: 0, delivered: 0 });
    expect(await newEvents()).toEqual([]);
  });

  it('B1: a batch retried after its Affected were put (its end not recorded) puts them again with the same ids, which a consumer drops; the run’s own events once', async () => {
    // DeleteBatch's last table write but the journal's: the batch recorded done with the run's counters (refused once:
    // the step fails and its Retry applies the batch's stored plan again)
    const runId = await cancelContractWith('delete-batch', {
      times: 1,
      when: 'mid',
      atWrite: '^TransactWriteItems .*ADD done :done',
      error: 'InternalServerError',
    });
    const events = await newEvents();
    expect(runLifecycle(events, runId).map((e) => e['detail-type'])).toEqual(['Billing Run Created', 'Billing Run Succeeded']);
    const told = events.filter((e) => e['detail-type'] === 'Affected' && e.detail.runId === runId);
    const ids = told.map((e) => e.detail.id);
    const once = [...new Set(ids)];
    expect(once.length).toBeGreaterThan(0);
    expect(ids.sort(), 'each put twice, with the same id').toEqual([...once, ...once].sort());
    for (const id of once) {
      const [first, second] = told.filter((e) => e.detail.id === id).map((e) => e.detail);
      expect({ ...second, when: first.when }, id).toEqual(first); // the same event; `when` is the retry's time
    }
    expect((await runOf(runId)).status).toBe('succeeded');
  });

  it('T4, B2: a transfer into a full organization emits Waiting For Seat, then Seat Freed when a billing event adds seats, then Succeeded', async () => {
    await load(demoWorld());
    const id = (await target.call('POST', '/transfers', { as: 'adminA', body: { userId: 'a3', destinationOrganizationId: 'D' } })).body.id;
    const approved = await target.call('POST', `/transfers/${id}/approval`, { as: 'adminD' });
    expect(approved.body.status).toBe('awaiting-seat');
    await target.billing(billingEvent('Seats Changed', { organizationId: 'D', seats: 5 }));
    expect((await settle(target, `/transfers/${id}`, 'adminA')).status).toBe('succeeded');
    const events = await newEvents();
    expect(lifecycle(events, id)).toEqual(['Transfer Requested', 'Transfer Waiting For Seat', 'Transfer Seat Freed', 'Transfer Succeeded']);
    expect(events.find((e) => e['detail-type'] === 'Transfer Waiting For Seat')!.detail).toMatchObject({
      by: 'system',
      from: 'awaiting-approval',
    });
  });

  it('D1–D6: a deletion emits one Affected per affected person at request and when applied, with that person’s effects; nothing of a message or file but ids', async () => {
    await load(demoWorld());
    const requested = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a2' } });
    expect(requested.status).toBe(202);
    const id = requested.body.id;
    const done = await settle(target, `/deletions/${id}`, 'adminA');
    expect(done.status).toBe('succeeded');
    const effects = (await target.call('GET', `/deletions/${id}/effects`, { as: 'adminA' })).body.effects;
    const events = await newEvents();
    expect(lifecycle(events, id)).toEqual(['Deletion Requested', 'Deletion Started', 'Deletion Succeeded']);
    const people = peopleOf('a2', effects);
    for (const phase of ['requested', 'applied']) {
      const told = affected(events, id, phase);
      expect(told.map((e) => e.detail.affectedUserId).sort(), phase).toEqual([...people].sort());
      expect(new Set(told.map((e) => e.detail.id)).size).toBe(told.length); // one each
      // every effect of the impact is told to someone; a broken contact to both sides
      const toldKinds = told.flatMap((e) => e.detail.effects.map((x: any) => x.kind));
      expect(new Set(toldKinds)).toEqual(new Set(effects.map((e: any) => e.kind)));
    }
    const applied = Object.fromEntries(affected(events, id, 'applied').map((e) => [e.detail.affectedUserId, e.detail]));
    // D4: b1 loses the contact with a2; the subject is told it is deleted (D2)
    const contact = effects.find((e: any) => e.kind === 'contact-removed');
    const other = contact.userIds.find((u: string) => u !== 'a2');
    expect(applied[other].effects).toContainEqual({ kind: 'contact-removed', rule: contact.rule, withUserId: 'a2' });
    expect(applied.a2.subject).toBe(true);
    expect(applied.a2.effects).toContainEqual(expect.objectContaining({ kind: 'user-deleted' }));
    // D5: each member made administrator is told of that chat
    for (const g of effects.filter((e: any) => e.kind === 'admin-granted'))
      for (const u of g.userIds) expect(applied[u].effects).toContainEqual({ kind: 'admin-granted', rule: g.rule, chatId: g.chatId });
    // never a message's text, a file's contents or a display name (the world's message bodies and names are not in any event)
    const world = demoWorld();
    const text = JSON.stringify(events);
    for (const m of world.messages) if (m.body) expect(text).not.toContain(m.body);
    expect(text).not.toContain(byId(world.users, 'a2').name);
  });

  it('D7: a scheduled deletion emits Deletion Scheduled with its purge date and Affected "when" the purge date; the undo emits Deletion Undone and no Affected applied', async () => {
    const w = demoWorld();
    byId(w.organizations, 'A').deletionGraceDays = 7;
    await load(w);
    const scheduled = (await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'a2' } })).body;
    expect(scheduled.status).toBe('scheduled');
    expect((await target.call('POST', `/deletions/${scheduled.id}/undo`, { as: 'adminA' })).status).toBe(200);
    const events = await newEvents();
    expect(lifecycle(events, scheduled.id)).toEqual(['Deletion Scheduled', 'Deletion Undone']);
    const [first] = events.filter((e) => e['detail-type'] === 'Deletion Scheduled');
    expect(first!.detail).toMatchObject({ purgeAt: scheduled.purgeAt, status: 'scheduled', rule: 'D1, D7' });
    expect(Date.parse(scheduled.purgeAt) - Date.parse(first!.detail.at)).toBeGreaterThan(7 * DAY_MS - 60_000);
    const told = affected(events, scheduled.id, 'requested');
    expect(told.length).toBeGreaterThan(1);
    for (const e of told) expect(e.detail.when).toBe(scheduled.purgeAt);
    expect(affected(events, scheduled.id, 'applied')).toEqual([]);
    expect(events.find((e) => e['detail-type'] === 'Deletion Undone')!.detail).toMatchObject({
      by: 'adminA',
      status: 'cancelled',
      from: 'scheduled',
    });
  });

  it('B1: a contract cancellation emits Billing Run Created and Succeeded with its counts, and one Affected per person its batch names', async () => {
    await load(demoWorld());
    const put = await target.billing(billingEvent('Contract Cancelled', { organizationId: 'B' }));
    expect(put.eventId).toBeTruthy();
    await target.call('POST', '/_local/idle');
    const all = await newEvents();
    const events = all.filter((e) => e['detail-type'].startsWith('Billing Run'));
    expect(events.map((e) => e['detail-type'])).toEqual(['Billing Run Created', 'Billing Run Succeeded']);
    // B1: one Affected per person the run's batch names: each member deleted (subject), each contact of theirs
    const told = all.filter((e) => e['detail-type'] === 'Affected' && e.detail.runId === events[0]!.detail.runId);
    const members = demoWorld()
      .users.filter((u: any) => u.organizationId === 'B')
      .map((u: any) => u.id);
    expect(members.length).toBeGreaterThan(0);
    expect(new Set(told.map((e) => e.detail.id)).size).toBe(told.length);
    expect(new Set(told.map((e) => e.detail.affectedUserId)).size).toBe(told.length); // one batch: one each
    for (const m of members)
      expect(told.find((e) => e.detail.affectedUserId === m)?.detail, m).toMatchObject({
        subject: true,
        phase: 'applied',
        effects: expect.arrayContaining([expect.objectContaining({ kind: 'user-deleted' })]),
      });
    for (const c of demoWorld().contacts) {
      const [x, y] = c as [string, string];
      if (members.includes(x) !== members.includes(y)) {
        const other = members.includes(x) ? y : x;
        expect(told.find((e) => e.detail.affectedUserId === other)?.detail.effects, `contact ${x}-${y}`).toContainEqual(
          expect.objectContaining({ kind: 'contact-removed' }),
        );
      }
    }
    const runId = events[0]!.detail.runId;
    const run = (await target.call('GET', `/billing-runs/${runId}`, { token: await target.operator.token() })).body;
    expect(events[1]!.detail).toMatchObject({
      id: `${runId}:succeed:0`,
      organizationId: 'B',
      status: 'succeeded',
      counts: { total: run.total, done: run.done, failed: run.failed },
    });
  });
});
