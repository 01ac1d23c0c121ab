import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import { REPO_ROOT } from '../infra/constructs/offboard-function.js';
import { startEmbeddedStack } from '../local/embedded-stack.js';
import { largeOrganizationWorld } from '../fixtures/large-organization.js';
import { LARGE_USER_SIZES, largeUserWorld } from '../fixtures/large-user.js';
import { concurrencyWorld, type SmallOperation } from '../fixtures/concurrency-world.js';
import { floorRequests, safeFloor, type Operation, type World } from './floor.js';
import { findDynamoDbLocalPid, sampleRss } from './measure.js';
import {
  describeCost,
  PLANNING_PROBE,
  PLANNING_STEPS_PROBE,
  PLANNING_TARGET,
  planningProbe,
  planningStepsProbe,
} from './planning-probe.js';
import { costOf, PRICES, s3ClassOf, type Usage } from './cost.js';
import {
  allowCancellation,
  allowEffects,
  cancellationRunId,
  changesOutsidePlans,
  emptyAllowed,
  hottestKeys,
  operationOf,
  type HotKey,
} from './attribution.js';
import type { RequestRecord } from '../local/request-counts.js';

/**
 * The benchmark. Every case runs in this one process on the embedded stack, and is compared with its floor: the
 * smallest request sequence that turns the same before-world into the same after-world (bench/floor.ts).
 *
 * Per case: load the before-world; run the operation through the HTTP API (wall time, request counts, state
 * transitions, payloads, invocation times and RSS are taken around the operation only, not the load); export the
 * after-world; compute the floor from before, after and the operation; load the before-world again and replay the
 * floor's requests raw with the SDK (its time is `floorSeconds`); with BENCH_VERIFY (default on) export again and
 * check that the replay produced the same after-world.
 *
 * Per case too: request units (WRU, RRU) as DynamoDB on-demand bills them (bench/request-units.ts, from every request
 * recorded by local/request-counts.ts), S3 requests by price class, Lambda invocations and GB-seconds (duration ×
 * the function's MemorySize in the synthesized template), API requests, state transitions, and what it all costs at
 * us-east-1 on-demand prices (bench/cost.ts); the floor replayed in dependency waves at the product's concurrency,
 * with the Query pages DynamoDB really returned, beside the safe floor (bench/floor.ts); and the key outside the
 * world's own data written by the most distinct operations (bench/attribution.ts).
 *
 * concurrency-N (`runConcurrency`): N small operations across N/2 organizations started at once while a contract
 * cancellation runs (fixtures/concurrency-world.ts); it reports their statuses, the world check, whether anything
 * changed outside the union of their plans, the hottest key, and its requests against the sum of the same operations
 * run alone: each distinct shape (one deletion, one transfer) run alone once on the same world without the large
 * organization, times how many of that shape ran, plus the cancellation run alone (the `cancellation-M` case of
 * this run when it ran, else run here).
 *
 * BENCH_SCALE=small: deletion-S, transfer-S, transfer-T10, deletion-demo, cancellation-1000, concurrency-20 (20
 * operations, 10 organizations, a 1,000-member cancellation). Default: all cases (concurrency-200: 200 operations,
 * 100 organizations, a 10,000-member cancellation), and planning-one-chat (issue 18: the CPU time and peak heap of
 * planning one chat of 100,000 files, bench/planning-probe.ts).
 * BENCH_SCALE=xl: all of those and the XL user's (deletion-XL, transfer-XL: 50,000 group chats, 500,000 files).
 * BENCH_CASES=name,name: only those. BENCH_TIMEOUT_S: per-case limit for every case (defaults: 60 s for the demo world,
 * 120 s for S, 600 s for M, 1,200 s for L, 3,600 s for XL, 240 s for 1,000 and 1,200 s for 10,000 members). A case that times out is
 * recorded as `status: "timeout"`, its executions are aborted, and the run goes on; its floor is then the floor of the
 * partial change it made (`floorOf: "partial"`).
 */
const SCALE = process.env.BENCH_SCALE === 'small' ? 'small' : process.env.BENCH_SCALE === 'xl' ? 'xl' : 'all';
/** The XL user's cases (50,000 chats, 500,000 files) run only when asked for: BENCH_SCALE=xl or BENCH_CASES. */
const isXl = (name: string) => name.endsWith('-XL');
const ONLY = process.env.BENCH_CASES?.split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const VERIFY = process.env.BENCH_VERIFY !== '0';
/** BENCH_REPLAY=0: floors are computed but not replayed (no world reload: the XL cases' takes over 10 minutes). */
const REPLAY = process.env.BENCH_REPLAY !== '0';
const POLL_MS = 1000;

interface Case {
  name: string;
  small: boolean;
  timeoutS: number;
  world: () => World;
  operation: Operation;
  /** Who requests the operation (and so its preview), when not the world's default administrator. */
  requester?: string;
  /** What its preview names besides the operation (the successor, X3): the request names the same. */
  previewExtra?: Record<string, string>;
  /** Starts the operation through the API, naming the saved preview (as the console does); returns how to read its status. */
  start: (previewId?: string) => Promise<{
    id: string;
    effectCount?: number;
    status: () => Promise<{ status: string; body: any }>;
    httpStatus: number;
    answer: any;
    confirmed?: boolean;
  }>;
  /** More figures for the case's result, from the operation's last answer and its requests (the X3/X4 case). */
  report?: (
    final: any,
    records: readonly RequestRecord[],
    measured: { floor: { dynamodb: number; s3: number }; requests: { dynamodb: number; s3: number } },
  ) => Record<string, unknown>;
}

const timeoutFor = (defaultS: number) => Number(process.env.BENCH_TIMEOUT_S ?? 0) || defaultS;
const demo: World = JSON.parse(readFileSync(path.join(REPO_ROOT, 'fixtures', 'demo-world.json'), 'utf8'));

// Abort handles of every execution, so a case that times out can stop its executions before the next case loads
// another world (the embedded stack itself has no StopExecution).
const running = new Set<() => void>();
const originalRun = StateMachine.prototype.run;
StateMachine.prototype.run = function (this: StateMachine, ...args: Parameters<StateMachine['run']>) {
  const execution = originalRun.apply(this, args);
  running.add(execution.abort);
  execution.result.then(
    () => running.delete(execution.abort),
    () => running.delete(execution.abort),
  );
  return execution;
} as StateMachine['run'];

const stack = await startEmbeddedStack({ port: 0 });
const { takeRequestCounts, takeRequestRecords, recordRequests } = await import('../local/request-counts.js');
const { checkWorld } = await import('../local/world/check.js');
recordRequests(true);
const { loadWorld, exportWorld } = await import('../local/world/world-store.js');
const { replayFloor, PRODUCT_IN_FLIGHT } = await import('./replay.js');
const javaPid = findDynamoDbLocalPid();
const table = process.env.TABLE_NAME!;
const bucket = process.env.BUCKET_NAME!;

/** HTTP API requests sent (the operation's own are those sent by a case's `start`). */
let apiCalls = 0;
async function call(method: string, route: string, as: string, body?: unknown, scopes?: string[]): Promise<{ status: number; body: any }> {
  apiCalls++;
  const res = await fetch(`${stack.url}${route}`, {
    method,
    headers: { authorization: `Bearer ${await stack.token(as, scopes)}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: text };
  }
}
const effectCountOf = (impact: any): number | undefined => impact?.effectCount ?? impact?.effects?.length;
const sum = (counts: Record<string, number>, prefix: string) =>
  Object.entries(counts)
    .filter(([k]) => k.startsWith(prefix))
    .reduce((n, [, v]) => n + v, 0);
const addCounts = (into: Record<string, number>, more: Record<string, number>) => {
  for (const [k, v] of Object.entries(more)) into[k] = (into[k] ?? 0) + v;
  return into;
};
const secs = (ms: number) => Number((ms / 1000).toFixed(2));
const ratio = (a: number, b: number) => (b > 0 ? Number((a / b).toFixed(2)) : null);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const anyRunning = () => stack.stepFunctions.list().some((e) => e.status === 'RUNNING');

type Billed = Record<string, { invocations: number; gbSeconds: number }>;
const billedNow = (): Billed => Object.fromEntries([...stack.lambda.billed.entries()].map(([k, v]) => [k, { ...v }]));
/** a − b, by architecture. */
const billedMinus = (a: Billed, b: Billed): Billed =>
  Object.fromEntries(
    Object.entries(a).map(([k, v]) => [
      k,
      { invocations: v.invocations - (b[k]?.invocations ?? 0), gbSeconds: v.gbSeconds - (b[k]?.gbSeconds ?? 0) },
    ]),
  );
const billedPlus = (a: Billed, b: Billed): Billed =>
  Object.fromEntries(
    [...new Set([...Object.keys(a), ...Object.keys(b)])].map((k) => [
      k,
      { invocations: (a[k]?.invocations ?? 0) + (b[k]?.invocations ?? 0), gbSeconds: (a[k]?.gbSeconds ?? 0) + (b[k]?.gbSeconds ?? 0) },
    ]),
  );
const round = (x: number, digits = 6) => Number(x.toFixed(digits));

/** Request units, S3 requests by class, Lambda, API requests and state transitions of a case, and their cost. */
function usageOf(records: readonly RequestRecord[], billed: Billed, stateTransitions: number, apiRequests: number) {
  let wru = 0;
  let rru = 0;
  let estimated = 0;
  const s3 = { put: 0, get: 0, delete: 0 };
  for (const r of records) {
    wru += r.units.wru;
    rru += r.units.rru;
    estimated += r.units.estimated;
    if (r.service === 'S3') s3[s3ClassOf(r.op)]++;
  }
  const usage: Usage = { wru, rru, stateTransitions, lambda: billed, s3, apiRequests };
  const cost = costOf(usage);
  return {
    requestUnits: { wru: round(wru, 1), rru: round(rru, 1), estimated: round(estimated, 1) },
    s3ByClass: s3,
    lambda: Object.fromEntries(
      Object.entries(billed).map(([k, v]) => [k, { invocations: v.invocations, gbSeconds: round(v.gbSeconds, 3) }]),
    ),
    apiRequests,
    costUsd: Object.fromEntries(Object.entries(cost).map(([k, v]) => [k, round(v, 6)])) as Record<keyof typeof cost, number>,
  };
}

/** Each request attributed to an operation (bench/attribution.ts); invocations without one get their own name. */
function attribute(records: readonly RequestRecord[]): { op: string; r: RequestRecord }[] {
  const own = new WeakMap<object, string>();
  let n = 0;
  return records.map((r) => ({
    r,
    op: operationOf(r.invocation, () => {
      const inv = r.invocation as object;
      if (!own.has(inv)) own.set(inv, String(++n));
      return own.get(inv)!;
    }),
  }));
}
/**
 * The operation's DynamoDB requests in order, by the invocation that made them (`function: Op Op …`, the harness's own
 * as `harness`): which step makes which requests (issue 18).
 */
function requestsByInvocation(records: readonly RequestRecord[]): string[] {
  const out: { inv: object | undefined; name: string; ops: string[] }[] = [];
  for (const r of records) {
    if (r.service !== 'DynamoDB') continue;
    const last = out[out.length - 1];
    if (last && last.inv === r.invocation) last.ops.push(r.op);
    else out.push({ inv: r.invocation, name: r.invocation?.name ?? 'harness', ops: [r.op] });
  }
  return out.map((x) => `${x.name}: ${x.ops.join(' ')}`);
}
function hotKeysOf(records: readonly RequestRecord[]): HotKey[] {
  return hottestKeys(attribute(records).flatMap(({ op, r }) => r.writes.map((key) => ({ key, operation: op }))));
}

function userOperation(
  name: string,
  small: boolean,
  timeoutS: number,
  world: () => World,
  op: Operation,
  as: { requester: string; approver?: string },
): Case {
  return {
    name,
    small,
    timeoutS,
    world,
    operation: op,
    requester: as.requester,
    async start(previewId) {
      const named = previewId ? { previewId } : {};
      if (op.kind === 'deletion') {
        const d = await call('POST', '/deletions', as.requester, { userId: op.userId, ...named });
        if (d.status >= 300)
          return { id: '', httpStatus: d.status, answer: d.body, status: async () => ({ status: `refused-${d.status}`, body: d.body }) };
        return {
          id: d.body?.id,
          httpStatus: d.status,
          answer: d.body,
          effectCount: effectCountOf(d.body?.impact),
          status: async () => {
            const r = await call('GET', `/deletions/${d.body?.id}`, as.requester);
            return { status: r.body?.status ?? `http-${r.status}`, body: r.body };
          },
        };
      }
      if (op.kind !== 'transfer') throw new Error('not a user operation');
      let t = await call('POST', '/transfers', as.requester, { userId: op.userId, destinationOrganizationId: op.to, ...named });
      if (t.status !== 201)
        return { id: '', httpStatus: t.status, answer: t.body, status: async () => ({ status: `refused-${t.status}`, body: t.body }) };
      // CONTRACT.md planning: a large transfer is approved once its plan is computed (it awaits approval)
      while (t.body?.status === 'planning') {
        await Promise.race([stack.stepFunctions.idle(), sleep(POLL_MS)]);
        t = { ...t, body: (await call('GET', `/transfers/${t.body.id}`, as.requester)).body };
      }
      const a = await call('POST', `/transfers/${t.body.id}/approval`, as.approver!);
      if (a.status >= 300)
        return {
          id: t.body.id,
          httpStatus: a.status,
          answer: a.body,
          status: async () => ({ status: `approval-refused-${a.status}`, body: a.body }),
        };
      return {
        id: t.body.id,
        httpStatus: a.status,
        answer: a.body,
        effectCount: effectCountOf(a.body?.impact ?? t.body?.impact),
        status: async () => {
          const r = await call('GET', `/transfers/${t.body.id}`, as.approver!);
          return { status: r.body?.status ?? `http-${r.status}`, body: r.body };
        },
      };
    },
  };
}

function cancellation(members: number, small: boolean, timeoutS: number): Case {
  return {
    name: `cancellation-${members}`,
    small,
    timeoutS,
    world: () => largeOrganizationWorld(members) as World,
    operation: { kind: 'cancellation', organizationId: 'X' },
    async start() {
      const { eventId } = await stack.eventBus.put({
        Source: 'billing',
        DetailType: 'Contract Cancelled',
        Detail: { organizationId: 'X' },
      });
      const id = cancellationRunId(eventId);
      // B4: above the confirmation threshold the run waits for an operator
      let confirmed = false;
      if (
        (await call('GET', `/billing-runs/${id}`, 'platform-operator', undefined, ['offboard/operator'])).body?.status ===
        'awaiting-confirmation'
      ) {
        await call('POST', `/billing-runs/${id}/confirmation`, 'platform-operator', undefined, ['offboard/operator']);
        confirmed = true;
      }
      return {
        id,
        httpStatus: 0,
        answer: { eventId },
        effectCount: members,
        confirmed,
        status: async () => {
          const r = await call('GET', `/billing-runs/${id}`, 'platform-operator', undefined, ['offboard/operator']);
          return { status: r.body?.status ?? `http-${r.status}`, body: r.body };
        },
      };
    },
  };
}

// ---- X3 + X4 (issue 20): the large user deleted with a successor and `"export": true` ------------------------------
/**
 * `deletion-M-successor-export`: the 2,000-chat user (LARGE_USER_SIZES.M) deleted with p0000 (a member of A) as
 * successor and an export; `deletion-S-successor-export` the same on the 100-chat user (BENCH_SCALE=small). The floor
 * of bench/floor.ts (from before and after, so the successor's joins and hand-overs are in it) plus the copy: each
 * exported byte read once and written once, in one GetObject per exported file and one PutObject per started 5 GiB
 * of archive (S3's largest single PUT). `copy` sets the product's S3 requests and bytes beside that floor.
 */
function successorExportCases(): Case[] {
  return (['S', 'M'] as const).map((size) => {
    const base = userOperation(
      `deletion-${size}-successor-export`,
      size === 'S',
      timeoutFor(size === 'M' ? 900 : 180),
      () => largeUserWorld(LARGE_USER_SIZES[size]) as World,
      { kind: 'deletion', userId: 'u0' },
      { requester: 'adminA' },
    );
    return {
      ...base,
      previewExtra: { successorId: 'p0000' },
      async start(previewId) {
        const d = await call('POST', '/deletions', 'adminA', {
          userId: 'u0',
          successorId: 'p0000',
          export: true,
          ...(previewId ? { previewId } : {}),
        });
        const read = async () => {
          const r = await call('GET', `/deletions/${d.body?.id}`, 'adminA');
          return { status: r.body?.status ?? `http-${r.status}`, body: r.body };
        };
        return {
          id: d.body?.id ?? '',
          httpStatus: d.status,
          answer: d.body,
          effectCount: effectCountOf(d.body?.impact),
          status: d.status >= 300 ? async () => ({ status: `refused-${d.status}`, body: d.body }) : read,
        };
      },
      report(final, records, measured) {
        const phase = (final?.progress?.phases ?? []).find((p: any) => p.name === 'Export') ?? {};
        const files = Number(phase.done ?? 0);
        const bytes = Number(phase.bytesDone ?? 0);
        const s3 = records.filter((r) => r.service === 'S3');
        const exportOps = new Set([
          'GetObject',
          'PutObject',
          'CreateMultipartUpload',
          'UploadPart',
          'CompleteMultipartUpload',
          'HeadObject',
        ]);
        const product = {
          requests: s3.filter((r) => exportOps.has(r.op)).length,
          byOp: s3.reduce<Record<string, number>>((m, r) => ((m[r.op] = (m[r.op] ?? 0) + 1), m), {}),
          bytesRead: s3.reduce((n, r) => n + (r.bytes?.read ?? 0), 0),
          bytesWritten: s3.reduce((n, r) => n + (r.bytes?.written ?? 0), 0),
        };
        const floor = { requests: files + Math.ceil(bytes / 5 / 1024 ** 3) || 0, bytesRead: bytes, bytesWritten: bytes };
        const withCopy = { dynamodb: measured.floor.dynamodb, s3: measured.floor.s3 + floor.requests };
        return {
          successorId: 'p0000',
          // the case's requests against bench/floor.ts's floor plus the copy's
          floorWithCopy: withCopy,
          ratiosWithCopy: { dynamodb: ratio(measured.requests.dynamodb, withCopy.dynamodb), s3: ratio(measured.requests.s3, withCopy.s3) },
          exported: { files, bytes, verified: phase.verified ?? false, status: phase.status ?? null },
          copy: {
            product,
            floor,
            ratios: {
              requests: ratio(product.requests, floor.requests),
              bytesRead: ratio(product.bytesRead, floor.bytesRead),
              bytesWritten: ratio(product.bytesWritten, floor.bytesWritten),
            },
            note: 'S3 requests of the copy (GetObject, PutObject, multipart, HeadObject) and bytes moved, against each exported byte read once and written once; the product reads the archive once more to verify it (X4)',
          },
        };
      },
    };
  });
}
// ---- end X3 + X4 ------------------------------------------------------------------------------------------------

// The demo deletion: the demo world's busiest user (most chats, contacts and files) that is not an administrator.
const busiest = demo.users
  .filter((u: any) => u.status !== 'deleted' && !u.orgAdmin)
  .map((u: any) => ({
    id: u.id as string,
    organizationId: u.organizationId as string,
    weight:
      (demo.chats ?? []).filter((c: any) => c.members.some((m: any) => m.userId === u.id)).length +
      (demo.contacts ?? []).filter((p: string[]) => p.includes(u.id)).length +
      (demo.files ?? []).filter((f: any) => f.uploaderId === u.id).length,
  }))
  .sort((a, b) => b.weight - a.weight)[0]!;
const busiestAdmin = demo.users.find((u: any) => u.orgAdmin && u.organizationId === busiest.organizationId)!.id;

const ORDER = [
  'transfer-T10',
  'deletion-demo',
  'deletion-S',
  'transfer-S',
  'deletion-S-successor-export',
  'cancellation-1000',
  'deletion-M',
  'transfer-M',
  'deletion-M-successor-export',
  'cancellation-10000',
  'deletion-L',
  'transfer-L',
  'deletion-XL',
  'transfer-XL',
];
const cases: Case[] = [
  ...(['S', 'M', 'L', 'XL'] as const).flatMap((size) => {
    const world = () => largeUserWorld(LARGE_USER_SIZES[size]) as World;
    const timeout = timeoutFor({ S: 120, M: 600, L: 1200, XL: 3600 }[size]);
    return [
      userOperation(`deletion-${size}`, size === 'S', timeout, world, { kind: 'deletion', userId: 'u0' }, { requester: 'adminA' }),
      userOperation(
        `transfer-${size}`,
        size === 'S',
        timeout,
        world,
        { kind: 'transfer', userId: 'u0', from: 'A', to: 'C' },
        { requester: 'adminA', approver: 'adminC' },
      ),
    ];
  }),
  userOperation(
    'transfer-T10',
    true,
    timeoutFor(60),
    () => demo,
    { kind: 'transfer', userId: 'a1', from: 'A', to: 'C' },
    { requester: 'adminA', approver: 'adminC' },
  ),
  userOperation(`deletion-demo`, true, timeoutFor(60), () => demo, { kind: 'deletion', userId: busiest.id }, { requester: busiestAdmin }),
  cancellation(1000, true, timeoutFor(240)),
  cancellation(10_000, false, timeoutFor(1200)),
  ...successorExportCases(),
]
  .sort((a, b) => ORDER.indexOf(a.name) - ORDER.indexOf(b.name))
  .filter((c) => (ONLY ? ONLY.includes(c.name) : SCALE === 'small' ? c.small : SCALE === 'xl' || !isXl(c.name)));

/** Stops whatever still runs after a timeout: aborts the executions, then waits for handlers in flight. */
async function stopEverything(): Promise<void> {
  for (const abort of [...running]) abort();
  const until = Date.now() + 60_000;
  while ((stack.lambda.inFlight > 0 || anyRunning()) && Date.now() < until) await sleep(200);
}

async function runCase(c: Case): Promise<Record<string, unknown>> {
  const log = (msg: string) => process.stderr.write(`[bench] ${c.name}: ${msg}\n`);
  const before = c.world();
  const [loaded, loadMs] = await timed(() => loadWorld(before));
  log(`world loaded (${loaded.items} items, ${loaded.objects} objects) in ${secs(loadMs)} s`);
  takeRequestCounts();
  const preview = await previewOf(c.operation, c.requester, c.previewExtra);
  if (preview) log(`POST /previews ${preview.httpStatus} in ${preview.apiSeconds} s of function time; ready in ${preview.readySeconds} s`);

  takeRequestCounts();
  takeRequestRecords();
  stack.lambda.billed.clear();
  const eventsFrom = (await stack.eventBus.recorded()).last; // issue 22: outbound events (eventCountsSince)
  const opRecords: RequestRecord[] = [];
  const keep = () => {
    for (const r of takeRequestRecords()) opRecords.push(r);
  };
  let pollBilled: Billed = {};
  let apiRequests = 0;
  stack.stepFunctions.largestPayload = { bytes: 0, where: '' };
  stack.stepFunctions.stateTransitions = 0;
  stack.stepFunctions.transitionsByState.clear();
  stack.stepFunctions.longestTask = { ms: 0, where: '' };
  stack.lambda.longestMs.clear();
  const executionsBefore = stack.stepFunctions.list().length;
  const rss = sampleRss(javaPid);
  const opCounts: Record<string, number> = {};
  const pollCounts: Record<string, number> = {};
  const t0 = performance.now();
  const deadline = Date.now() + c.timeoutS * 1000;
  let status = 'unknown';
  let final: any;
  let started: Awaited<ReturnType<Case['start']>> | undefined;
  let error: string | undefined;
  try {
    const apiBefore = apiCalls;
    started = await c.start(preview?.id);
    apiRequests = apiCalls - apiBefore;
    // Wait until no execution runs, then read the status; the status reads are not the operation's requests.
    for (;;) {
      while (anyRunning() && Date.now() < deadline) await Promise.race([stack.stepFunctions.idle(), sleep(POLL_MS)]);
      if (Date.now() >= deadline) {
        status = 'timeout';
        break;
      }
      addCounts(opCounts, takeRequestCounts());
      keep();
      const billedBefore = billedNow();
      const s = await started.status();
      addCounts(pollCounts, takeRequestCounts());
      takeRequestRecords();
      pollBilled = billedPlus(pollBilled, billedMinus(billedNow(), billedBefore));
      final = s.body;
      status = s.status;
      if (!['running', 'awaiting-approval', 'unknown', 'http-404'].includes(status) && !anyRunning()) break;
      if (Date.now() >= deadline) {
        status = 'timeout';
        break;
      }
      await sleep(POLL_MS);
    }
  } catch (e) {
    status = 'error';
    error = String((e as Error)?.stack ?? e);
  }
  const wallMs = performance.now() - t0;
  addCounts(opCounts, takeRequestCounts());
  keep();
  const billed = billedMinus(billedNow(), pollBilled);
  const peak = rss.stop();
  const transitions = stack.stepFunctions.stateTransitions;
  const transitionsByState = Object.fromEntries([...stack.stepFunctions.transitionsByState.entries()].sort((a, b) => b[1] - a[1]));
  const largestPayload = stack.stepFunctions.largestPayload;
  const longestTask = stack.stepFunctions.longestTask;
  const longest = [...stack.lambda.longestMs.entries()];
  const longestApi = longest.filter(([entry]) => entry.includes('handlers/api/')).sort((a, b) => b[1] - a[1])[0];
  const longestEntry = longest.filter(([entry]) => !entry.includes('handlers/api/')).sort((a, b) => b[1] - a[1])[0];
  const executions = stack.stepFunctions.list().slice(executionsBefore);
  if (status === 'timeout' || status === 'error' || anyRunning()) await stopEverything();
  log(`${status} in ${secs(wallMs)} s`);

  const outbound = await eventCountsSince(eventsFrom, opCounts);
  const after = (await exportWorld()) as unknown as World;
  const floor = floorRequests(before, after, c.operation);
  // BENCH_REPLAY=0: the floor computed, not replayed (the XL world loads again in over 10 minutes): its pages are the
  // estimates, and no floor time, units or after-world check
  if (REPLAY) await loadWorld(before);
  takeRequestCounts();
  takeRequestRecords();
  const replay = REPLAY ? await replayFloor(floor.plan, { table, bucket }) : { ms: Number.NaN, queryPages: 0, waves: 0 };
  const replayCounts = takeRequestCounts();
  const replayRecords = takeRequestRecords();
  // The floor with the Query pages DynamoDB really returned (the plan's are estimates), and the safe floor.
  const estimatedPages = floor.plan.reduce((n, r) => n + (r.op === 'Query' ? r.pages : 0), 0);
  const floorReplayed = REPLAY ? floor.dynamodb - estimatedPages + replay.queryPages : floor.dynamodb;
  const consents = c.operation.kind === 'transfer' ? 1 : started?.confirmed ? 1 : 0;
  const safe = safeFloor(floorReplayed, consents);
  const floorUnits = usageOf(replayRecords, {}, 0, 0).requestUnits;
  let replayMatches: boolean | null = null;
  if (VERIFY && REPLAY) replayMatches = JSON.stringify(await exportWorld()) === JSON.stringify(after);
  if (REPLAY) log(`floor replayed in ${secs(replay.ms)} s${VERIFY ? `, after-world ${replayMatches ? 'identical' : 'DIFFERENT'}` : ''}`);
  else log(`floor computed, not replayed (BENCH_REPLAY=0): ${floor.dynamodb} DynamoDB requests`);

  const requests = { dynamodb: sum(opCounts, 'DynamoDB.'), s3: sum(opCounts, 'S3.') };
  const usage = usageOf(opRecords, billed, transitions, apiRequests);
  const hotKeys = hotKeysOf(opRecords);
  return {
    name: c.name,
    status,
    ...(error ? { error } : {}),
    operation: c.operation,
    operationId: started?.id,
    effectCount: effectCountOf(final?.impact) ?? started?.effectCount,
    summary: final?.impact?.summary,
    finalAnswer: final && c.operation.kind === 'cancellation' ? final : final?.error ? { error: final.error } : undefined,
    requests,
    floor: { dynamodb: floor.dynamodb, s3: floor.s3 },
    floorOf: status === 'succeeded' ? 'complete' : 'partial',
    ratios: { dynamodb: ratio(requests.dynamodb, floor.dynamodb), s3: ratio(requests.s3, floor.s3), time: ratio(wallMs, replay.ms) },
    floorReplayed: {
      dynamodb: floorReplayed,
      queryPages: replay.queryPages,
      estimatedQueryPages: estimatedPages,
      waves: replay.waves,
      inFlight: PRODUCT_IN_FLIGHT,
      requestUnits: floorUnits,
    },
    safeFloor: { dynamodb: safe.dynamodb, s3: floor.s3, records: safe.records },
    ratioToSafeFloor: ratio(requests.dynamodb, safe.dynamodb),
    // the console's flow whole: the preview (its plan's reads), then the request naming it
    ...(preview
      ? {
          withPreview: {
            dynamodb: preview.requests.dynamodb + requests.dynamodb,
            ratio: ratio(preview.requests.dynamodb + requests.dynamodb, floor.dynamodb),
          },
        }
      : {}),
    ...usage,
    ...(c.report ? c.report(final, opRecords, { floor: { dynamodb: floor.dynamodb, s3: floor.s3 }, requests }) : {}),
    mostOperationsOnOneKey: hotKeys[0] ?? null,
    hotKeys,
    wallSeconds: secs(wallMs),
    floorSeconds: secs(replay.ms),
    stateTransitions: transitions,
    transitionsByState,
    executions: executions.length,
    largestPayloadBytes: largestPayload.bytes,
    largestPayloadWhere: largestPayload.where,
    longestInvocationSeconds: secs(longestTask.ms),
    longestInvocationWhere: longestTask.where,
    longestLambdaOutsideApi: longestEntry ? { entry: longestEntry[0], seconds: secs(longestEntry[1]) } : null,
    longestApiSeconds: longestApi ? secs(longestApi[1]) : 0,
    longestApiWhere: longestApi?.[0],
    peakRssMb: peak.peakRssMb,
    nodePeakRssMb: peak.nodePeakRssMb,
    dynamodbLocalPeakRssMb: peak.dynamodbLocalPeakRssMb,
    requestsByOperation: opCounts,
    requestsByInvocation: requestsByInvocation(opRecords),
    events: outbound,
    statusPollRequests: pollCounts,
    floorTerms: floor.terms,
    floorItems: floor.items,
    floorReplayRequests: replayCounts,
    replayMatchesAfterWorld: replayMatches,
    world: { items: loaded.items, objects: loaded.objects, loadSeconds: secs(loadMs) },
    ...(preview ? { preview } : {}),
  };
}

/**
 * CONTRACT.md planning: the user's `POST /previews`, before the case is measured: its answer (200, or 202 when the
 * plan is computed in the background), its function time, and when the Impact was ready (its `GET /previews/{id}`
 * polled as a client would). The world is not changed by it.
 */
async function previewOf(
  op: Operation,
  as?: string,
  extra: Record<string, string> = {},
): Promise<
  | { id?: string; httpStatus: number; apiSeconds: number; readySeconds: number; effectCount?: number; requests: { dynamodb: number } }
  | undefined
> {
  if (op.kind !== 'deletion' && op.kind !== 'transfer') return undefined;
  const requester = as ?? (op.kind === 'deletion' && op.userId === busiest.id ? busiestAdmin : 'adminA');
  const body = {
    ...(op.kind === 'deletion'
      ? { operation: 'deletion', userId: op.userId }
      : { operation: 'transfer', userId: op.userId, destinationOrganizationId: op.to }),
    ...extra,
  };
  stack.lambda.longestMs.clear();
  const t0 = performance.now();
  const answer = await call('POST', '/previews', requester, body);
  const apiMs = stack.lambda.longestMs.get('functions/handlers/api/previews.ts') ?? 0;
  let impact = answer.body;
  while (impact?.status === 'planning') {
    await Promise.race([stack.stepFunctions.idle(), sleep(200)]);
    const read = await call('GET', `/previews/${answer.body.id}`, requester);
    // a failed read is not the preview's answer: the case fails with it (as the console would show it)
    if (read.status >= 500) throw new Error(`GET /previews/${answer.body.id}: ${read.status} ${JSON.stringify(read.body)}`);
    impact = read.body;
  }
  return {
    ...(answer.status < 300 ? { id: answer.body.id as string } : {}),
    httpStatus: answer.status,
    apiSeconds: secs(apiMs),
    readySeconds: secs(performance.now() - t0),
    ...(impact?.effectCount !== undefined ? { effectCount: impact.effectCount } : {}),
    // the preview's own requests (its plan's reads): a request naming it takes its plan when it still holds (X1)
    requests: { dynamodb: sum(takeRequestCounts(), 'DynamoDB.') },
  };
}

/**
 * Issue 22: the events the case put on the operation bus (docs/EVENTS.md), by detail-type, and its PutEvents
 * requests (the functions' own, counted with the case's requests: at most 10 entries and 256 KB each).
 */
async function eventCountsSince(after: number, counts: Record<string, number>) {
  const { events } = await stack.eventBus.recorded({ after });
  const byDetailType: Record<string, number> = {};
  for (const { event } of events.filter((e) => e.bus.endsWith('-operations')))
    byDetailType[event['detail-type']] = (byDetailType[event['detail-type']] ?? 0) + 1;
  return {
    total: Object.values(byDetailType).reduce((a, b) => a + b, 0),
    byDetailType,
    putEventsRequests: counts['EventBridge.PutEvents'] ?? 0,
  };
}

async function timed<T>(run: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const value = await run();
  return [value, performance.now() - t0];
}

interface ConcurrencyCase {
  name: string;
  small: boolean;
  organizations: number;
  members: number;
  timeoutS: number;
}
const concurrencyCases: ConcurrencyCase[] = [
  { name: 'concurrency-20', small: true, organizations: 10, members: 1000, timeoutS: timeoutFor(600) },
  { name: 'concurrency-200', small: false, organizations: 100, members: 10_000, timeoutS: timeoutFor(1800) },
].filter((c) => (ONLY ? ONLY.includes(c.name) : SCALE !== 'small' || c.small));

/** Starts one small operation through the API (as `userOperation` does) and says how to read it. */
async function startSmall(
  op: SmallOperation,
): Promise<{ op: SmallOperation; id: string; route: string; reader: string; refused?: string }> {
  if (op.kind === 'deletion') {
    const d = await call('POST', '/deletions', op.requester, { userId: op.userId });
    return {
      op,
      id: d.body?.id ?? '',
      route: 'deletions',
      reader: op.requester,
      ...(d.status >= 300 ? { refused: `refused-${d.status}: ${JSON.stringify(d.body)}` } : {}),
    };
  }
  const t = await call('POST', '/transfers', op.requester, { userId: op.userId, destinationOrganizationId: op.to });
  if (t.status !== 201)
    return { op, id: '', route: 'transfers', reader: op.requester, refused: `refused-${t.status}: ${JSON.stringify(t.body)}` };
  // CONTRACT.md planning: a request past its time budget (a loaded machine) is planned in the background first
  for (let status = t.body?.status; status === 'planning';) {
    await sleep(200);
    status = (await call('GET', `/transfers/${t.body.id}`, op.requester)).body?.status;
  }
  const a = await call('POST', `/transfers/${t.body.id}/approval`, op.approver);
  return {
    op,
    id: t.body.id,
    route: 'transfers',
    reader: op.approver,
    ...(a.status >= 300 ? { refused: `approval-refused-${a.status}: ${JSON.stringify(a.body)}` } : {}),
  };
}

/** Every effect of an operation's impact: the first page in the operation, the rest from its `/effects` route. */
async function effectsOf(route: string, id: string, as: string): Promise<any[]> {
  const first = (await call('GET', `/${route}/${id}`, as)).body?.impact;
  const effects = [...(first?.effects ?? [])];
  let cursor = first?.nextCursor;
  while (cursor) {
    const page = (await call('GET', `/${route}/${id}/effects?cursor=${encodeURIComponent(cursor)}`, as)).body;
    effects.push(...(page?.effects ?? []));
    cursor = page?.nextCursor;
  }
  return effects;
}

const DYNAMODB_OPS = (records: readonly RequestRecord[]) => records.filter((r) => r.service === 'DynamoDB').length;

/**
 * concurrency-N: the small operations of fixtures/concurrency-world.ts, all started at once while the large
 * organization's contract cancellation runs; then their statuses, the world check, changes outside their plans,
 * the hottest key, and the requests against the same operations run alone (see the doc comment at the top).
 */
async function runConcurrency(c: ConcurrencyCase): Promise<Record<string, unknown>> {
  const log = (msg: string) => process.stderr.write(`[bench] ${c.name}: ${msg}\n`);
  const { world: before, operations } = concurrencyWorld(c.organizations, c.members);
  const [loaded, loadMs] = await timed(() => loadWorld(before));
  log(
    `world loaded (${loaded.items} items, ${loaded.objects} objects) in ${secs(loadMs)} s; ${operations.length} operations and a ${c.members}-member cancellation`,
  );
  // The plans are checked against the export (its defaults and computed fields), not against the fixture.
  const beforeExport = (await exportWorld()) as any;
  takeRequestCounts();
  takeRequestRecords();
  stack.lambda.billed.clear();
  stack.stepFunctions.stateTransitions = 0;
  stack.stepFunctions.transitionsByState.clear();
  const eventsFrom = (await stack.eventBus.recorded()).last; // issue 22 (eventCountsSince)
  const rss = sampleRss(javaPid);
  const t0 = performance.now();
  const apiBefore = apiCalls;
  const cancellationCase = cancellation(c.members, false, c.timeoutS);
  const bulk = await cancellationCase.start();
  const started = await Promise.all(operations.map(startSmall));
  const apiRequests = apiCalls - apiBefore;
  const deadline = Date.now() + c.timeoutS * 1000;
  while (anyRunning() && Date.now() < deadline) await Promise.race([stack.stepFunctions.idle(), sleep(POLL_MS)]);
  const timedOut = anyRunning();
  const wallMs = performance.now() - t0;
  const opCounts = takeRequestCounts();
  const records = takeRequestRecords();
  const billed = billedNow();
  const transitions = stack.stepFunctions.stateTransitions;
  const peak = rss.stop();
  const outbound = await eventCountsSince(eventsFrom, opCounts);
  if (timedOut) await stopEverything();
  log(`${timedOut ? 'timeout' : 'all executions ended'} in ${secs(wallMs)} s`);

  // Statuses (read after the measurement: these reads are not the operations' requests).
  const statuses: Record<string, number> = {};
  const notSucceeded: { id: string; userId: string; status: string; error?: unknown }[] = [];
  for (const s of started) {
    const status = s.refused ?? (await call('GET', `/${s.route}/${s.id}`, s.reader)).body?.status ?? 'unknown';
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (status !== 'succeeded') notSucceeded.push({ id: s.id, userId: s.op.userId, status });
  }
  const bulkStatus = (await bulk.status()).status;
  const after = (await exportWorld()) as any;
  const problems = await checkWorld();
  const allowed = allowCancellation(emptyAllowed(), 'X', beforeExport);
  for (const s of started) if (s.id) allowEffects(allowed, await effectsOf(s.route, s.id, s.reader), beforeExport);
  const outside = changesOutsidePlans(beforeExport, after, allowed);
  takeRequestCounts();
  takeRequestRecords();

  // Requests per operation in the concurrent run (attributed), and the same shapes run alone.
  const byOperation = new Map<string, number>();
  for (const { op, r } of attribute(records)) if (r.service === 'DynamoDB') byOperation.set(op, (byOperation.get(op) ?? 0) + 1);
  const perShape = (kind: SmallOperation['kind']) => {
    const ids = started.filter((s) => s.op.kind === kind && s.id).map((s) => byOperation.get(s.id) ?? 0);
    return ids.length ? round(ids.reduce((a, b) => a + b, 0) / ids.length, 1) : null;
  };
  const unattributed = [...byOperation.entries()]
    .filter(([op]) => !started.some((s) => s.id === op) && op !== bulk.id)
    .reduce((n, [, v]) => n + v, 0);
  log('running one deletion and one transfer alone');
  const { world: smallWorld } = concurrencyWorld(c.organizations, 1);
  const soloOf = async (op: SmallOperation) =>
    runCase(
      userOperation(
        `${c.name}-alone-${op.kind}`,
        true,
        timeoutFor(120),
        () => smallWorld,
        op.kind === 'deletion'
          ? { kind: 'deletion', userId: op.userId }
          : { kind: 'transfer', userId: op.userId, from: op.from, to: op.to },
        {
          requester: op.requester,
          ...(op.kind === 'transfer' ? { approver: op.approver } : {}),
        },
      ),
    );
  const soloDeletion: any = await soloOf(operations.find((o) => o.kind === 'deletion')!);
  const soloTransfer: any = await soloOf(operations.find((o) => o.kind === 'transfer')!);
  const soloCancellation: any =
    results.find((x: any) => x.name === `cancellation-${c.members}` && x.status === 'succeeded') ??
    (await runCase(cancellation(c.members, false, c.timeoutS)));
  const count = (kind: SmallOperation['kind']) => operations.filter((o) => o.kind === kind).length;
  const aloneSum =
    count('deletion') * soloDeletion.requests.dynamodb +
    count('transfer') * soloTransfer.requests.dynamodb +
    soloCancellation.requests.dynamodb;
  const dynamodb = DYNAMODB_OPS(records);
  const hotKeys = hotKeysOf(records);
  return {
    name: c.name,
    status: timedOut ? 'timeout' : notSucceeded.length === 0 && bulkStatus === 'succeeded' ? 'succeeded' : 'some-failed',
    operations: operations.length,
    organizations: c.organizations,
    cancellationMembers: c.members,
    statuses,
    cancellationStatus: bulkStatus,
    notSucceeded: notSucceeded.slice(0, 20),
    worldCheck: { problems: problems.length, first: problems.slice(0, 10) },
    changesOutsidePlans: {
      count: outside.length,
      first: outside.slice(0, 20),
      planUnion:
        "the effects of every small operation's impact (API), and for the cancellation every active member of X with their contacts, chats (and what they hold) and tasks",
    },
    requests: { dynamodb, s3: sum(opCounts, 'S3.') },
    aloneSum: {
      dynamodb: aloneSum,
      method: `each shape run alone once on the same world without the large organization (${soloDeletion.requests.dynamodb} for a deletion, ${soloTransfer.requests.dynamodb} for a transfer) × how many ran, + the ${c.members}-member cancellation alone (${soloCancellation.requests.dynamodb}${soloCancellation.name === `cancellation-${c.members}` ? `, case ${soloCancellation.name} of this run` : ''})`,
    },
    ratioToAloneSum: ratio(dynamodb, aloneSum),
    perOperation: {
      deletion: { concurrentMean: perShape('deletion'), alone: soloDeletion.requests.dynamodb },
      transfer: { concurrentMean: perShape('transfer'), alone: soloTransfer.requests.dynamodb },
      cancellation: { concurrent: byOperation.get(bulk.id) ?? 0, alone: soloCancellation.requests.dynamodb },
      unattributed,
    },
    ...usageOf(records, billed, transitions, apiRequests),
    mostOperationsOnOneKey: hotKeys[0] ?? null,
    hotKeys,
    wallSeconds: secs(wallMs),
    stateTransitions: transitions,
    peakRssMb: peak.peakRssMb,
    nodePeakRssMb: peak.nodePeakRssMb,
    dynamodbLocalPeakRssMb: peak.dynamodbLocalPeakRssMb,
    requestsByOperation: opCounts,
    events: outbound,
    world: { items: loaded.items, objects: loaded.objects, loadSeconds: secs(loadMs) },
  };
}

const results: Record<string, unknown>[] = [];
const out = path.join(REPO_ROOT, '.offboard', 'bench.json');
mkdirSync(path.dirname(out), { recursive: true });
const benchStarted = performance.now();
const runs: [string, () => Promise<Record<string, unknown>>][] = [
  ...cases.map((c): [string, () => Promise<Record<string, unknown>>] => [c.name, () => runCase(c)]),
  ...concurrencyCases.map((c): [string, () => Promise<Record<string, unknown>>] => [c.name, () => runConcurrency(c)]),
  ...((ONLY ? ONLY.includes(PLANNING_PROBE) : SCALE !== 'small')
    ? [[PLANNING_PROBE, () => planningProbe()] as [string, () => Promise<Record<string, unknown>>]]
    : []),
  ...((ONLY ? ONLY.includes(PLANNING_STEPS_PROBE) : SCALE === 'xl')
    ? [[PLANNING_STEPS_PROBE, () => planningStepsProbe()] as [string, () => Promise<Record<string, unknown>>]]
    : []),
];
for (const [name, run] of runs) {
  try {
    results.push(await run());
  } catch (e) {
    process.stderr.write(`[bench] ${name}: failed: ${(e as Error)?.stack ?? e}\n`);
    results.push({ name, status: 'bench-error', error: String((e as Error)?.message ?? e) });
    await stopEverything();
  }
  writeFileSync(out, `${JSON.stringify({ scale: SCALE, prices: PRICES, cases: results }, null, 2)}\n`);
}
await stack.stop();

const r = (results as any[]).filter(
  (x) => !x.name.startsWith('concurrency-') && x.name !== PLANNING_PROBE && x.name !== PLANNING_STEPS_PROBE,
);
const stepsProbe = (results as any[]).find((x) => x.name === PLANNING_STEPS_PROBE);
const conc = (results as any[]).filter((x) => x.name.startsWith('concurrency-'));
const probe = (results as any[]).find((x) => x.name === PLANNING_PROBE);
const row = (cells: (string | number)[]) =>
  cells.map((c, i) => (i === 0 ? String(c).padEnd(18) : String(c).padStart(i === 1 ? 10 : 14))).join(' ');
const pair = (a: number | undefined, b: number | null | undefined) =>
  a === undefined ? '-' : b === null || Number.isNaN(b) ? `${a}/-` : `${a}/${b} ${b ? `${(a / b).toFixed(1)}×` : ''}`.trim();
const gbs = (x: any) =>
  round(
    Object.values<any>(x.lambda ?? {}).reduce((n, l) => n + l.gbSeconds, 0),
    1,
  );
const usd = (v: number | undefined) => (v === undefined ? '-' : `$${v < 0.01 ? v.toFixed(5) : v.toFixed(3)}`);
const hot = (x: any) =>
  x.mostOperationsOnOneKey ? `${x.mostOperationsOnOneKey.operations} ${x.mostOperationsOnOneKey.key.split(' ')[0]}` : '-';
const lines = [
  `offboard benchmark, scale ${SCALE} (${secs(performance.now() - benchStarted)} s in all); ratios are measured/floor, the figures to compare`,
  '',
  row([
    'case',
    'status',
    'effects',
    'DynamoDB',
    '+ preview',
    'S3',
    'wall/floor s',
    'transitions',
    'payload B',
    'longest step s',
    'longest API s',
    'peak RSS MB',
  ]),
  ...r.map((x) =>
    x.status === 'bench-error'
      ? row([x.name, x.status, String(x.error).slice(0, 60)])
      : row([
          x.name,
          x.status,
          x.effectCount ?? '-',
          pair(x.requests.dynamodb, x.floor.dynamodb) + (x.floorOf === 'partial' ? '*' : ''),
          x.withPreview ? pair(x.withPreview.dynamodb, x.floor.dynamodb) : '-',
          pair(x.requests.s3, x.floor.s3) + (x.floorOf === 'partial' ? '*' : ''),
          pair(x.wallSeconds, x.floorSeconds),
          x.stateTransitions,
          x.largestPayloadBytes,
          x.longestInvocationSeconds,
          x.longestApiSeconds,
          `${x.peakRssMb} (${x.nodePeakRssMb}+${x.dynamodbLocalPeakRssMb ?? '?'})`,
        ]),
  ),
  '',
  `Replayed floor, safe floor, billed units and cost (${PRICES.region} on-demand, prices of ${PRICES.asOf}: bench/cost.ts)`,
  row(['case', 'replayed', 'safe floor', 'WRU', 'RRU', 'GB-s', 'S3 put/get', 'cost', 'DynamoDB $', 'Lambda $', 'SFN $', 'hottest key']),
  ...r
    .filter((x) => x.status !== 'bench-error')
    .map((x) =>
      row([
        x.name,
        x.floorReplayed.dynamodb,
        pair(x.requests.dynamodb, x.safeFloor.dynamodb),
        `${round(x.requestUnits.wru, 0)}/${round(x.floorReplayed.requestUnits.wru, 0)}`,
        `${round(x.requestUnits.rru, 0)}/${round(x.floorReplayed.requestUnits.rru, 0)}`,
        gbs(x),
        `${x.s3ByClass.put}/${x.s3ByClass.get}`,
        usd(x.costUsd.total),
        usd(x.costUsd.dynamodb),
        usd(x.costUsd.lambda),
        usd(x.costUsd.stepFunctions),
        hot(x),
      ]),
    ),
  ...(conc.length
    ? [
        '',
        'Concurrency: small operations started at once while a contract cancellation runs (fixtures/concurrency-world.ts)',
        row([
          'case',
          'status',
          'statuses',
          'check',
          'outside plans',
          'DynamoDB',
          'alone-sum',
          'ratio',
          'WRU',
          'cost',
          'wall s',
          'hottest key',
        ]),
        ...conc.map((x) =>
          x.status === 'bench-error'
            ? row([x.name, x.status, String(x.error).slice(0, 60)])
            : row([
                x.name,
                x.status,
                Object.entries(x.statuses)
                  .map(([k, v]) => `${v} ${k}`)
                  .join(', ') + `; bulk ${x.cancellationStatus}`,
                `${x.worldCheck.problems} problems`,
                x.changesOutsidePlans.count,
                x.requests.dynamodb,
                x.aloneSum.dynamodb,
                `${x.ratioToAloneSum}×`,
                round(x.requestUnits.wru, 0),
                usd(x.costUsd.total),
                x.wallSeconds,
                hot(x),
              ]),
        ),
      ]
    : []),
  ...(probe
    ? [
        '',
        probe.status === 'bench-error'
          ? `${PLANNING_PROBE}: ${probe.status} ${String(probe.error).slice(0, 60)}`
          : `Planning one chat of ${probe.files} files (${PLANNING_PROBE}, target ${PLANNING_TARGET.cpuSeconds} s CPU and ${PLANNING_TARGET.heapMb} MB heap: ${probe.status}): deletion ${describeCost(probe.deletion)}; transfer ${describeCost(probe.transfer)}`,
      ]
    : []),
  ...(stepsProbe
    ? [
        '',
        stepsProbe.status === 'bench-error'
          ? `${PLANNING_STEPS_PROBE}: ${stepsProbe.status} ${String(stepsProbe.error).slice(0, 60)}`
          : `The ${stepsProbe.user} user's deletion planned step by step (${PLANNING_STEPS_PROBE}, ${stepsProbe.slices} slices of ${stepsProbe.sliceChats} chats, target ${PLANNING_TARGET.heapMb} MB heap per invocation: ${stepsProbe.status}): Plan ${describeCost(stepsProbe.plan)}; the largest slice ${describeCost(stepsProbe.largestChild)}; Merge ${describeCost(stepsProbe.merge)}`,
      ]
    : []),
  '',
  'DynamoDB, S3: requests during the operation / floor requests (bench/floor.ts), and their ratio; wall/floor s: the operation',
  'request → final status / the floor replayed raw on the same emulators, and their ratio. peak RSS: this process + DynamoDB Local.',
  '+ preview: the saved preview the request names (POST /previews, as the console does) and the operation: a request whose',
  'preview still holds takes its plan (X1) and does not read what the preview read.',
  "replayed: the floor with the Query pages DynamoDB returned (waves at the product's concurrency); safe floor: measured / floor +",
  "the operation's own records (T3, X1, X2); WRU, RRU: measured/floor; hottest key: the most distinct operations that wrote one key",
  "outside the world's data, and its partition. alone-sum: the same operations run alone (see bench.json aloneSum.method).",
  '* the operation did not succeed: the floor is that of the partial change it made before it ended or was stopped.',
  `Full figures (requests by operation, floor terms, world load times, replay check, prices): ${path.relative(REPO_ROOT, out)}`,
];
process.stdout.write(`${lines.join('\n')}\n`);
process.exit(0);
