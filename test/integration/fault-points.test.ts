import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { faultWorld, FAULT_WORLD_SIZES } from '../../fixtures/fault-world.js';
import { localFunctions, LocalNames, resourcesOfType, synthesizeTemplate } from '../../local/template.js';
import { billingEvent, openTarget, withApplyWork, type Target } from './harness.js';

/**
 * Fault injection at every boundary (issue 10): for each Task state of each state machine, as synthesized, a failure
 * (a) before its first write, (b) after its writes but before it returns, (c) a timeout part way through its writes.
 * Each run is retried to `succeeded` by the state machine's Retry, or ends `failed` and is resumed through the API;
 * then the exported world equals the fault-free run's, byte for byte, and the world check finds nothing.
 */
type Machine = 'transfer' | 'deletion' | 'cancellation' | 'planning';
type Kind = 'before' | 'after' | 'mid';
type FaultSpec = { times: number; when: Kind; error: string; afterWrites?: number };

/** Which machine a state machine resource is (by its construct path). */
const machineOf = (logicalId: string): Machine | undefined =>
  logicalId.startsWith('TransferWorkflow')
    ? 'transfer'
    : logicalId.startsWith('DeletionWorkflow')
      ? 'deletion'
      : logicalId.includes('Cancellation')
        ? 'cancellation'
        : logicalId.startsWith('PlanningWorkflow')
          ? 'planning'
          : undefined;

/**
 * How each Task state is reached. Every Task state of the template needs an entry here (the coverage test fails
 * otherwise): a state reached only from a Catch names the fault that sends the run there (`via`); `full` runs the
 * transfer into an organization without a free seat (AwaitSeat, T4), then a Seats Changed event (B2) lets it finish;
 * `grace` deletes under a one-day grace period (D7) and moves the stack's clock past the purge date (StartPurge).
 */
const SETUP: Record<
  Machine,
  Record<string, { via?: { fn: string; fault: FaultSpec }; full?: boolean; grace?: boolean; applyWork?: string; slice?: string }>
> = {
  transfer: {
    // a run planned at its approval skips PlanImpact (AlreadyPlanned); a resumed run checks its plan there
    PlanImpact: { via: { fn: 'apply', fault: { times: 1, when: 'before', error: 'AccessDeniedException' } } },
    ExportFiles: {}, // X4: every run here is requested with an export
    Apply: {},
    // failed before taking its seat, C's seats cut to 1 meanwhile: the resumed run finds no seat and waits (T4)
    AwaitSeat: { full: true, via: { fn: 'apply', fault: { times: 1, when: 'before', error: 'AccessDeniedException' } } },
    // the run spread over several Apply invocations (APPLY_WORK_PER_INVOCATION): Apply finalizes a run it applied whole
    Finalize: { applyWork: '3' },
    MarkFailed: { via: { fn: 'apply', fault: { times: 1, when: 'before', error: 'AccessDeniedException' } } },
  },
  deletion: {
    StartPurge: { grace: true },
    PlanImpact: { via: { fn: 'apply', fault: { times: 1, when: 'before', error: 'AccessDeniedException' } } },
    ExportFiles: {}, // X4: every run here is requested with an export
    Apply: {},
    Finalize: { applyWork: '3' },
    MarkFailed: { via: { fn: 'apply', fault: { times: 1, when: 'before', error: 'AccessDeniedException' } } },
  },
  cancellation: {
    StartRun: {},
    DeleteBatch: {},
    RecordBatchFailed: { via: { fn: 'delete-batch', fault: { times: 1, when: 'before', error: 'AccessDeniedException' } } },
    DeleteOwnedFiles: {},
    FinishRun: {},
    FailRun: { via: { fn: 'finish-run', fault: { times: 1, when: 'before', error: 'AccessDeniedException' } } },
  },
  // CONTRACT.md planning: the deletion planned in the background (the request's budget set to nothing), then run;
  // `slice`: u0's 42 chats planned in slices of 8 (PLAN_SLICE_CHATS), a Map of 6 children, then Merge
  planning: {
    Plan: {},
    PlanSlice: { slice: '8' },
    Merge: { slice: '8' },
    PlanFailed: { via: { fn: 'plan', fault: { times: 1, when: 'before', error: 'AccessDeniedException' } } },
  },
};

/**
 * The three faults: (a) an error no Retry matches (a missing permission: the run ends failed and is resumed);
 * (b) a Lambda service error after the work (the Retry runs the step again); (c) a Lambda timeout after half of the
 * invocation's writes (measured in (b)), which no Retry matches either.
 */
const FAULTS: Record<Kind, (writes: number) => FaultSpec> = {
  before: () => ({ times: 1, when: 'before', error: 'AccessDeniedException' }),
  after: () => ({ times: 1, when: 'after', error: 'Lambda.ServiceException' }),
  mid: (writes) => ({ times: 1, when: 'mid', error: 'Sandbox.Timedout', afterWrites: Math.floor(writes / 2) }),
};

/** Every Task state of every state machine in the synthesized template, with the function it invokes. */
function taskStates(): { machine: Machine; state: string; fn: string }[] {
  const template = synthesizeTemplate();
  const names = new LocalNames(template, 'faults');
  const fnByArn = new Map(localFunctions(names).map((f) => [f.arn, path.basename(f.entry, '.ts')]));
  const out: { machine: Machine; state: string; fn: string }[] = [];
  for (const [id, r] of resourcesOfType(template, 'AWS::StepFunctions::StateMachine')) {
    const machine = machineOf(id);
    if (!machine) throw new Error(`state machine ${id} is not known to the fault scenarios`);
    const definition = JSON.parse(names.resolve(r.Properties.DefinitionString));
    // the states of Map iterations too (the planning workflow's PlanSlices)
    const visit = (states: Record<string, any>) => {
      for (const [state, s] of Object.entries<any>(states)) {
        if (s.Type === 'Map') visit((s.ItemProcessor ?? s.Iterator).States);
        if (s.Type !== 'Task') continue;
        const fn = fnByArn.get(s.Resource ?? s.Parameters?.FunctionName);
        if (!fn) throw new Error(`${machine} ${state}: no local function for ${s.Resource}`);
        out.push({ machine, state, fn });
      }
    };
    visit(definition.States);
  }
  return out;
}

const STATES = taskStates();
const PINNED = '2026-11-20T09:00:00.000Z';
let target: Target;
let operator = '';
const survived: string[] = [];
const scenarios = STATES.filter((s) => SETUP[s.machine][s.state]).flatMap((s) =>
  (['before', 'after', 'mid'] as Kind[]).map((kind) => ({ ...s, kind })),
);
const references = new Map<string, string>();
const writesOf = new Map<string, number>();

beforeAll(async () => {
  target = await openTarget();
  if (target.canInjectFaults) {
    await target.pinClock(PINNED); // deletedAt (D2) is the same in every run
    operator = await target.operator.token();
  }
}, 120_000);
afterAll(async () => {
  console.log(`fault points survived: ${survived.length}/${scenarios.length}`);
  if (target?.canInjectFaults) await target.pinClock(undefined);
  await target?.close();
});

/** Runs the machine's operation on a fresh world to `succeeded`, resuming it while it ends failed. Returns the resumptions. */
async function run(machine: Machine, full: boolean, grace = false): Promise<number> {
  await target.load(faultWorld({ ...FAULT_WORLD_SIZES, ...(full ? { seatsAtC: 2 } : {}) }));
  if (grace)
    expect((await target.call('PUT', '/organizations/A/settings', { as: 'adminA', body: { deletionGraceDays: 1 } })).status).toBe(200);
  let resumed = 0;
  if (machine === 'cancellation') {
    const { eventId } = await target.billing(billingEvent('Contract Cancelled', { organizationId: 'A' }));
    const route = `/billing-runs/b1-${eventId}`;
    for (;;) {
      // every execution ended: the run is settled, or still `running` when its FailRun itself failed
      expect((await target.call('POST', '/_local/idle')).status).toBe(200);
      const done = (await target.call('GET', route, { token: operator })).body;
      if (done.status === 'succeeded') return resumed;
      if (++resumed > 3) throw new Error(`${route} did not succeed after 3 resumptions: ${JSON.stringify(done)}`);
      const again = await target.call('POST', `${route}/resumption`, { token: operator });
      expect(again.status, JSON.stringify(again.body)).toBe(202);
    }
  }
  let route: string;
  let reader: string;
  if (machine === 'transfer') {
    const requested = await target.call('POST', '/transfers', {
      as: 'adminA',
      body: { userId: 'u0', destinationOrganizationId: 'C', export: true },
    });
    expect(requested.status, JSON.stringify(requested.body)).toBe(201);
    route = `/transfers/${requested.body.id}`;
    reader = 'adminC';
    expect((await target.call('POST', `${route}/approval`, { as: 'adminC' })).status).toBe(202);
  } else {
    if (machine === 'planning') process.env.PLAN_INLINE_MAX_CHATS = '0';
    const requested = await target.call('POST', '/deletions', { as: 'adminA', body: { userId: 'u0', export: true } });
    delete process.env.PLAN_INLINE_MAX_CHATS;
    expect(requested.status, JSON.stringify(requested.body)).toBe(202);
    if (machine === 'planning') expect(requested.body.status).toBe('planning');
    route = `/deletions/${requested.body.id}`;
    reader = 'adminA';
    if (grace) {
      expect(requested.body.status).toBe('scheduled');
      await target.clock({ advanceMs: 24 * 3600_000 + 60_000 }); // D7: past the purge date, the Wait ends
    }
  }
  let seatsAdded = false;
  let seatsCut = false;
  const seats = async (n: number) => {
    await target.billing(billingEvent('Seats Changed', { organizationId: 'C', seats: n }));
    expect((await target.call('POST', '/_local/idle')).status).toBe(200);
  };
  for (;;) {
    // every execution ended: the operation is settled, or still `running` when its MarkFailed itself failed
    expect((await target.call('POST', '/_local/idle')).status).toBe(200);
    const op = (await target.call('GET', route, { as: reader })).body;
    if (op.status === 'succeeded') {
      if (full && !seatsAdded) await seats(5);
      return resumed;
    }
    if (op.status === 'awaiting-seat' && full && !seatsAdded) {
      seatsAdded = true; // B2: seats at C; the waiting transfer resumes
      await seats(5);
      continue;
    }
    if (op.status === 'failed' && full && !seatsCut) {
      seatsCut = true;
      await seats(1);
    }
    if (op.status === 'awaiting-seat' || ++resumed > 3)
      throw new Error(`${route} is ${op.status} after ${resumed} resumptions: ${JSON.stringify(op.error)}`);
    const again = await target.call('POST', `${route}/resumption`, { as: 'adminA' });
    expect(again.status, JSON.stringify(again.body)).toBe(202);
  }
}

describe('fault injection at every Task state (issue 10)', () => {
  it('every Task state of every state machine has its scenarios (a new state cannot be added without one)', () => {
    const missing = STATES.filter((s) => !SETUP[s.machine][s.state]).map((s) => `${s.machine} ${s.state}`);
    expect(missing).toEqual([]);
    const stale = Object.entries(SETUP).flatMap(([m, states]) =>
      Object.keys(states)
        .filter((st) => !STATES.some((s) => s.machine === m && s.state === st))
        .map((st) => `${m} ${st}`),
    );
    expect(stale).toEqual([]);
    expect(new Set(STATES.map((s) => s.machine))).toEqual(new Set(['transfer', 'deletion', 'cancellation', 'planning']));
  });

  it.each(scenarios)(
    '$machine $state: $kind',
    async ({ machine, state, fn, kind }) => {
      if (!target.canInjectFaults) return; // faults are injected in the embedded stack's functions only
      const setup = SETUP[machine][state]!;
      const key = `${machine}${setup.full ? ' full' : ''}${setup.grace ? ' grace' : ''}${setup.slice ? ' sliced' : ''}`;
      if (setup.slice) process.env.PLAN_SLICE_CHATS = setup.slice;
      await withApplyWork(setup.applyWork, async () => {
        if (!references.has(key)) {
          await run(machine, Boolean(setup.full), Boolean(setup.grace));
          references.set(key, JSON.stringify(await target.export()));
          expect(await target.check()).toEqual([]);
        }
        await faultAt(machine, fn, kind, setup);
      }).finally(() => delete process.env.PLAN_SLICE_CHATS);
      expect(JSON.stringify(await target.export())).toBe(references.get(key));
      expect(await target.check()).toEqual([]);
      survived.push(`${machine} ${state} ${kind}`);
    },
    120_000,
  );
});

/** One fault in `fn`, the run to its end (resumed as needed); the fault fired exactly once. */
async function faultAt(machine: Machine, fn: string, kind: Kind, setup: (typeof SETUP)[Machine][string]) {
  await target.faultReport(); // resets the counters
  const fault = FAULTS[kind](writesOf.get(`${fn}${setup.applyWork ?? ''}`) ?? 0);
  await target.fault(fn, fault);
  if (setup.via) await target.fault(setup.via.fn, setup.via.fault);
  try {
    await run(machine, Boolean(setup.full), Boolean(setup.grace));
  } finally {
    await target.fault(fn);
    if (setup.via) await target.fault(setup.via.fn);
  }
  const report = await target.faultReport();
  expect(report.fired[fn], `the ${kind} fault in ${fn} fired`).toBe(1);
  if (kind === 'after') writesOf.set(`${fn}${setup.applyWork ?? ''}`, report.mostWrites[fn] ?? 0);
}
