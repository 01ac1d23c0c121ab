import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Issue 18: what planning one large user costs the function that plans it, measured around the planning call alone
 * (the world is loaded first): CPU time of this process (process.cpuUsage; DynamoDB Local runs in its own process and
 * is not counted) and the peak of the V8 heap in use (getHeapStatistics().used_heap_size, sampled every few ms, from
 * a heap collected first, so that what an earlier plan left is not counted).
 */
export interface PlanningCost {
  effectCount: number;
  cpuSeconds: number;
  wallSeconds: number;
  peakHeapMb: number;
  /** The heap in use when the call began (the loaded world and the stack are in this process too). */
  startHeapMb: number;
  /** peakHeapMb − startHeapMb: what the plan itself held at most (compared with PLANNING_TARGET). */
  planHeapMb: number;
}

const mb = (bytes: number) => Math.round(bytes / (1024 * 1024));
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** V8's collector, exposed for this process (as --expose-gc would, which `npm run bench` does not pass). */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

export async function planningCost(
  plan: () => Promise<{ entries?: readonly unknown[]; effectCount?: number } | undefined>,
  everyMs = 5,
): Promise<PlanningCost> {
  collector()();
  const startHeap = getHeapStatistics().used_heap_size;
  let peak = startHeap;
  const timer = setInterval(() => (peak = Math.max(peak, getHeapStatistics().used_heap_size)), everyMs);
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  try {
    const planned = await plan();
    const used = process.cpuUsage(cpu);
    const wallMs = performance.now() - t0;
    peak = Math.max(peak, getHeapStatistics().used_heap_size);
    return {
      effectCount: planned?.entries?.length ?? planned?.effectCount ?? 0,
      cpuSeconds: round((used.user + used.system) / 1e6),
      wallSeconds: round(wallMs / 1000),
      peakHeapMb: mb(peak),
      startHeapMb: mb(startHeap),
      planHeapMb: mb(peak - startHeap),
    };
  } finally {
    clearInterval(timer);
  }
}

/** The benchmark's planning case (BENCH_CASES=planning-one-chat, or the default scale). */
export const PLANNING_PROBE = 'planning-one-chat';
/** Issue 18's target for planning one chat with 100,000 of the user's files. */
export const PLANNING_TARGET = { cpuSeconds: 2, heapMb: 256 };

/**
 * Issue 18: u0 with one group chat holding 100,000 of its files (fixtures/large-user.ts with one chat and no
 * contacts, the table only), planned as the planning workflow plans it (no request budget): a deletion (F1: every
 * file handed over) and a transfer to C (nothing blocked: the files are read and grouped, no effect on them).
 */
export async function planningProbe(files = 100_000): Promise<Record<string, unknown>> {
  const { largeUserWorld } = await import('../fixtures/large-user.js');
  const { loadWorld } = await import('../local/world/world-store.js');
  const { computeDeletionPlan, computeTransferPlan } = await import('../functions/services/planning.js');
  const { getOrganizations, getUsers } = await import('../functions/store/table.js');
  const t0 = performance.now();
  const loaded = await loadWorld(largeUserWorld({ chats: 1, files, contacts: 0 }), { objects: false });
  const loadSeconds = round((performance.now() - t0) / 1000);
  process.stderr.write(`[bench] ${PLANNING_PROBE}: world loaded (${loaded.items} items) in ${loadSeconds} s\n`);
  const u0 = (await getUsers(['u0'])).get('u0')!;
  const destination = (await getOrganizations(['C'])).get('C')!;
  const deletion = await planningCost(() => computeDeletionPlan(u0));
  const transfer = await planningCost(() => computeTransferPlan(u0, destination));
  const within = [deletion, transfer].every((c) => c.cpuSeconds <= PLANNING_TARGET.cpuSeconds && c.planHeapMb <= PLANNING_TARGET.heapMb);
  return {
    name: PLANNING_PROBE,
    status: within ? 'within-target' : 'over-target',
    files,
    target: PLANNING_TARGET,
    deletion,
    transfer,
    world: { items: loaded.items, loadSeconds },
  };
}

/** The benchmark's case of the planning workflow's steps on the XL user (BENCH_CASES=planning-XL-steps, or BENCH_SCALE=xl). */
export const PLANNING_STEPS_PROBE = 'planning-XL-steps';

/**
 * Issue 18, "no planning invocation holds more than 256 MB of heap": the XL user (50,000 chats, 500,000 files; the
 * table only) planned for a deletion as the planning workflow plans it (services/sliced-planning.ts), each step
 * measured alone, one after another: Plan (the index read whole and sliced), each slice's child, then Merge. On AWS each
 * is an invocation of its own; here each is measured around its call (planningCost).
 */
export async function planningStepsProbe(): Promise<Record<string, unknown>> {
  const { largeUserWorld, LARGE_USER_SIZES } = await import('../fixtures/large-user.js');
  const { loadWorld } = await import('../local/world/world-store.js');
  const { planOrSlice, planSlice, mergeSlices, sliceChats } = await import('../functions/services/sliced-planning.js');
  const { getUsers } = await import('../functions/store/table.js');
  const t0 = performance.now();
  // BENCH_STEPS_SIZE: another of the large users (S, M, L), e.g. to try the case quickly
  const size = (process.env.BENCH_STEPS_SIZE ?? 'XL') as keyof typeof LARGE_USER_SIZES;
  const loaded = await loadWorld(largeUserWorld(LARGE_USER_SIZES[size]), { objects: false });
  const loadSeconds = round((performance.now() - t0) / 1000);
  process.stderr.write(`[bench] ${PLANNING_STEPS_PROBE}: world loaded (${loaded.items} items) in ${loadSeconds} s\n`);
  const u0 = (await getUsers(['u0'])).get('u0')!;
  const planId = 'bench-xl-steps';
  let slices = 0;
  const plan = await planningCost(async () => {
    const planned = await planOrSlice(planId, { operation: 'deletion', user: u0 });
    slices = 'slices' in planned ? planned.slices : 0;
    return undefined;
  });
  process.stderr.write(`[bench] ${PLANNING_STEPS_PROBE}: Plan ${describeCost(plan)}: ${slices} slices\n`);
  const children: PlanningCost[] = [];
  for (let n = 0; n < slices; n++) children.push(await planningCost(async () => void (await planSlice(planId, n))));
  const merge = await planningCost(
    async () => (await mergeSlices(planId, slices, { id: planId, operation: 'deletion', userId: 'u0' })).header,
  );
  process.stderr.write(`[bench] ${PLANNING_STEPS_PROBE}: Merge ${describeCost(merge)}\n`);
  const largestChild = children.reduce((a, b) => (b.planHeapMb > a.planHeapMb ? b : a), children[0]!);
  const heaviest = Math.max(plan.planHeapMb, merge.planHeapMb, ...children.map((c) => c.planHeapMb));
  return {
    name: PLANNING_STEPS_PROBE,
    status: heaviest <= PLANNING_TARGET.heapMb ? 'within-target' : 'over-target',
    target: { heapMb: PLANNING_TARGET.heapMb },
    user: size,
    sliceChats: sliceChats(),
    slices,
    plan,
    largestChild,
    childCpuSeconds: round(children.reduce((n, c) => n + c.cpuSeconds, 0)),
    merge,
    heaviestHeapMb: heaviest,
    world: { items: loaded.items, loadSeconds },
  };
}

/** A planning cost as the benchmark prints it. */
export const describeCost = (c: PlanningCost) =>
  `${c.cpuSeconds} s CPU, ${c.planHeapMb} MB heap (${c.wallSeconds} s wall, ${c.effectCount} effects)`;
