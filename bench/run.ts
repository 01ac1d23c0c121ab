import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import { REPO_ROOT } from '../infra/constructs/offboard-function.js';
import { startEmbeddedStack } from '../local/embedded-stack.js';
import { largeOrganizationWorld } from '../fixtures/large-organization.js';
import { LARGE_USER_SIZES, largeUserWorld } from '../fixtures/large-user.js';
import { floorRequests, type Operation, type World } from './floor.js';
import { findDynamoDbLocalPid, sampleRss } from './measure.js';

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
 * BENCH_SCALE=small: deletion-S, transfer-S, transfer-T10, deletion-demo, cancellation-1000. Default: all cases.
 * BENCH_CASES=name,name: only those. BENCH_TIMEOUT_S: per-case limit for every case (defaults: 60 s for the demo world,
 * 120 s for S, 600 s for M, 1,200 s for L, 240 s for 1,000 and 1,200 s for 10,000 members). A case that times out is
 * recorded as `status: "timeout"`, its executions are aborted, and the run goes on; its floor is then the floor of the
 * partial change it made (`floorOf: "partial"`).
 */
const SCALE = process.env.BENCH_SCALE === 'small' ? 'small' : 'all';
const ONLY = process.env.BENCH_CASES?.split(',').map((s) => s.trim()).filter(Boolean);
const VERIFY = process.env.BENCH_VERIFY !== '0';
const POLL_MS = 1000;

interface Case {
  name: string;
  small: boolean;
  timeoutS: number;
  world: () => World;
  operation: Operation;
  /** Starts the operation through the API; returns how to read its status. */
  start: () => Promise<{ id: string; effectCount?: number; status: () => Promise<{ status: string; body: any }>; httpStatus: number; answer: any }>;
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
const { takeRequestCounts } = await import('../local/request-counts.js');
const { loadWorld, exportWorld } = await import('../local/world/world-store.js');
const { replayFloor } = await import('./replay.js');
const javaPid = findDynamoDbLocalPid();
const table = process.env.TABLE_NAME!;
const bucket = process.env.BUCKET_NAME!;

async function call(method: string, route: string, as: string, body?: unknown, scopes?: string[]): Promise<{ status: number; body: any }> {
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
  Object.entries(counts).filter(([k]) => k.startsWith(prefix)).reduce((n, [, v]) => n + v, 0);
const addCounts = (into: Record<string, number>, more: Record<string, number>) => {
  for (const [k, v] of Object.entries(more)) into[k] = (into[k] ?? 0) + v;
  return into;
};
const secs = (ms: number) => Number((ms / 1000).toFixed(2));
const ratio = (a: number, b: number) => (b > 0 ? Number((a / b).toFixed(2)) : null);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const anyRunning = () => stack.stepFunctions.list().some((e) => e.status === 'RUNNING');

function userOperation(name: string, small: boolean, timeoutS: number, world: () => World, op: Operation, as: { requester: string; approver?: string }): Case {
  return {
    name,
    small,
    timeoutS,
    world,
    operation: op,
    async start() {
      if (op.kind === 'deletion') {
        const d = await call('POST', '/deletions', as.requester, { userId: op.userId });
        if (d.status >= 300) return { id: '', httpStatus: d.status, answer: d.body, status: async () => ({ status: `refused-${d.status}`, body: d.body }) };
        return { id: d.body?.id, httpStatus: d.status, answer: d.body, effectCount: effectCountOf(d.body?.impact), status: async () => {
          const r = await call('GET', `/deletions/${d.body?.id}`, as.requester);
          return { status: r.body?.status ?? `http-${r.status}`, body: r.body };
        } };
      }
      if (op.kind !== 'transfer') throw new Error('not a user operation');
      const t = await call('POST', '/transfers', as.requester, { userId: op.userId, destinationOrganizationId: op.to });
      if (t.status !== 201) return { id: '', httpStatus: t.status, answer: t.body, status: async () => ({ status: `refused-${t.status}`, body: t.body }) };
      const a = await call('POST', `/transfers/${t.body.id}/approval`, as.approver!);
      if (a.status >= 300) return { id: t.body.id, httpStatus: a.status, answer: a.body, status: async () => ({ status: `approval-refused-${a.status}`, body: a.body }) };
      return { id: t.body.id, httpStatus: a.status, answer: a.body, effectCount: effectCountOf(a.body?.impact ?? t.body?.impact), status: async () => {
        const r = await call('GET', `/transfers/${t.body.id}`, as.approver!);
        return { status: r.body?.status ?? `http-${r.status}`, body: r.body };
      } };
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
      const { eventId } = await stack.eventBus.put({ Source: 'billing', DetailType: 'Contract Cancelled', Detail: { organizationId: 'X' } });
      const id = `b1-${eventId}`;
      // B4: above the confirmation threshold the run waits for an operator
      if ((await call('GET', `/billing-runs/${id}`, 'platform-operator', undefined, ['offboard/operator'])).body?.status === 'awaiting-confirmation') {
        await call('POST', `/billing-runs/${id}/confirmation`, 'platform-operator', undefined, ['offboard/operator']);
      }
      return { id, httpStatus: 0, answer: { eventId }, effectCount: members, status: async () => {
        const r = await call('GET', `/billing-runs/${id}`, 'platform-operator', undefined, ['offboard/operator']);
        return { status: r.body?.status ?? `http-${r.status}`, body: r.body };
      } };
    },
  };
}

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

const ORDER = ['transfer-T10', 'deletion-demo', 'deletion-S', 'transfer-S', 'cancellation-1000', 'deletion-M', 'transfer-M', 'cancellation-10000', 'deletion-L', 'transfer-L'];
const cases: Case[] = [
  ...(['S', 'M', 'L'] as const).flatMap((size) => {
    const world = () => largeUserWorld(LARGE_USER_SIZES[size]) as World;
    const timeout = timeoutFor(size === 'L' ? 1200 : size === 'M' ? 600 : 120);
    return [
      userOperation(`deletion-${size}`, size === 'S', timeout, world, { kind: 'deletion', userId: 'u0' }, { requester: 'adminA' }),
      userOperation(`transfer-${size}`, size === 'S', timeout, world, { kind: 'transfer', userId: 'u0', from: 'A', to: 'C' }, { requester: 'adminA', approver: 'adminC' }),
    ];
  }),
  userOperation('transfer-T10', true, timeoutFor(60), () => demo, { kind: 'transfer', userId: 'a1', from: 'A', to: 'C' }, { requester: 'adminA', approver: 'adminC' }),
  userOperation(`deletion-demo`, true, timeoutFor(60), () => demo, { kind: 'deletion', userId: busiest.id }, { requester: busiestAdmin }),
  cancellation(1000, true, timeoutFor(240)),
  cancellation(10_000, false, timeoutFor(1200)),
]
  .sort((a, b) => ORDER.indexOf(a.name) - ORDER.indexOf(b.name))
  .filter((c) => (ONLY ? ONLY.includes(c.name) : SCALE === 'all' || c.small));

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
    started = await c.start();
    // Wait until no execution runs, then read the status; the status reads are not the operation's requests.
    for (;;) {
      while (anyRunning() && Date.now() < deadline) await Promise.race([stack.stepFunctions.idle(), sleep(POLL_MS)]);
      if (Date.now() >= deadline) {
        status = 'timeout';
        break;
      }
      addCounts(opCounts, takeRequestCounts());
      const s = await started.status();
      addCounts(pollCounts, takeRequestCounts());
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

  const after = (await exportWorld()) as unknown as World;
  const floor = floorRequests(before, after, c.operation);
  await loadWorld(before);
  takeRequestCounts();
  const replay = await replayFloor(floor.plan, { table, bucket });
  const replayCounts = takeRequestCounts();
  let replayMatches: boolean | null = null;
  if (VERIFY) replayMatches = JSON.stringify(await exportWorld()) === JSON.stringify(after);
  log(`floor replayed in ${secs(replay.ms)} s${VERIFY ? `, after-world ${replayMatches ? 'identical' : 'DIFFERENT'}` : ''}`);

  const requests = { dynamodb: sum(opCounts, 'DynamoDB.'), s3: sum(opCounts, 'S3.') };
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
    statusPollRequests: pollCounts,
    floorTerms: floor.terms,
    floorItems: floor.items,
    floorReplayRequests: replayCounts,
    replayMatchesAfterWorld: replayMatches,
    world: { items: loaded.items, objects: loaded.objects, loadSeconds: secs(loadMs) },
  };
}

async function timed<T>(run: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const value = await run();
  return [value, performance.now() - t0];
}

const results: Record<string, unknown>[] = [];
const out = path.join(REPO_ROOT, '.offboard', 'bench.json');
mkdirSync(path.dirname(out), { recursive: true });
const benchStarted = performance.now();
for (const c of cases) {
  try {
    results.push(await runCase(c));
  } catch (e) {
    process.stderr.write(`[bench] ${c.name}: failed: ${(e as Error)?.stack ?? e}\n`);
    results.push({ name: c.name, status: 'bench-error', error: String((e as Error)?.message ?? e) });
    await stopEverything();
  }
  writeFileSync(out, `${JSON.stringify({ scale: SCALE, cases: results }, null, 2)}\n`);
}
await stack.stop();

const r = results as any[];
const row = (cells: (string | number)[]) => cells.map((c, i) => (i === 0 ? String(c).padEnd(18) : String(c).padStart(i === 1 ? 10 : 14))).join(' ');
const pair = (a: number | undefined, b: number | undefined) => (a === undefined ? '-' : `${a}/${b} ${b ? `${(a / b).toFixed(1)}×` : ''}`.trim());
const lines = [
  `offboard benchmark, scale ${SCALE} (${secs(performance.now() - benchStarted)} s in all); ratios are measured/floor, the figures to compare`,
  '',
  row(['case', 'status', 'effects', 'DynamoDB', 'S3', 'wall/floor s', 'transitions', 'payload B', 'longest step s', 'longest API s', 'peak RSS MB']),
  ...r.map((x) =>
    x.status === 'bench-error'
      ? row([x.name, x.status, String(x.error).slice(0, 60)])
      : row([
          x.name,
          x.status,
          x.effectCount ?? '-',
          pair(x.requests.dynamodb, x.floor.dynamodb) + (x.floorOf === 'partial' ? '*' : ''),
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
  'DynamoDB, S3: requests during the operation / floor requests (bench/floor.ts), and their ratio; wall/floor s: the operation',
  'request → final status / the floor replayed raw on the same emulators, and their ratio. peak RSS: this process + DynamoDB Local.',
  '* the operation did not succeed: the floor is that of the partial change it made before it ended or was stopped.',
  `Full figures (requests by operation, floor terms, world load times, replay check): ${path.relative(REPO_ROOT, out)}`,
];
process.stdout.write(`${lines.join('\n')}\n`);
process.exit(0);
