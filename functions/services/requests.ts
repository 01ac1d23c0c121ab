import type { User } from '../domain/model.js';
import { newOperationId, now, planIdFor, type OperationRecord } from '../store/operations.js';
import {
  fingerprint,
  PAGES_IN_TRANSACTION,
  readPlanPages,
  readPlanWithFirstPage,
  type PlanEntry,
  type PlanHeader,
} from '../store/plans.js';
import type { ReadAhead } from '../store/table.js';
import { deferOperation } from './background-planning.js';
import { previewQuiet, PlanTooLarge, requestBudget, type ComputedPlan, type PlanBudget } from './planning.js';
import { checkPreview, previewOf } from './views.js';

/**
 * What a transfer request (T3) and a deletion request (D1) share: the operation's record before it is created, and
 * its plan, computed within the request or left to the planning workflow (CONTRACT.md `planning`).
 */

/** A new operation's record: not yet run, its first plan to come (X1), with the successor and export requested (X3, X4). */
function newOperation(
  prefix: 'tr' | 'del',
  fields: Pick<OperationRecord, 'operation' | 'userId' | 'requestedBy'> & Partial<OperationRecord>,
  options: { successor?: User; export?: boolean },
): OperationRecord {
  const id = newOperationId(prefix);
  const at = now();
  return {
    id,
    status: 'awaiting-approval',
    createdAt: at,
    updatedAt: at,
    runCount: 0,
    planId: planIdFor(id, 1),
    plans: 1,
    ...fields,
    ...(options.successor ? { successorId: options.successor.id } : {}),
    ...(options.export ? { export: true } : {}),
  };
}

export type Planned<P extends ComputedPlan> = { deferred: Record<string, unknown> } | { plan: P; preview?: PlanHeader };

type PreviewNamed = {
  id?: string;
  what: Parameters<typeof previewOf>[1];
  successorId?: string;
  /** Its header and first page as the request's first read found them (access.ts requestParties). */
  read?: { head?: { header: PlanHeader; first: PlanEntry[] } };
  /** A read of the request's that took the run counters of the preview's organizations along (planning.ts previewQuiet). */
  ahead?: ReadAhead;
};

/**
 * X1: the saved preview's plan, taken as the request's own when computing it again would read the same data and give
 * the same plan: the preview is of this operation on this user (previewOf: 400, 404 and 409 as ever), with the same
 * successor (X3), and no run went on in the journals of the organizations it read since its reads began (planning.ts
 * `holds`, as an approval keeps its request's plan). Its header and first page in one BatchGetItem. One too large for
 * the request's transaction is `copied` by the planning workflow, the operation `planning` until then. Otherwise no
 * plan, and the request plans from current data and compares.
 */
async function currentPreview(
  preview: PreviewNamed,
  runId: string,
): Promise<{ header?: PlanHeader; plan?: ComputedPlan; copied?: true; counters?: Record<string, number> }> {
  if (!preview.id?.startsWith('pv-')) return {};
  const head = preview.read ? preview.read.head : await readPlanWithFirstPage(preview.id);
  const header = await previewOf(preview.id, preview.what, head?.header);
  const counters = head ? await previewQuiet(header, preview.successorId, runId, preview.ahead) : undefined;
  if (!head || !counters) return { header };
  // too large for the request's transaction: the planning workflow copies it (background-planning.ts takePreview)
  if (header.pages.length > PAGES_IN_TRANSACTION) return { header, copied: true };
  const rest = await readPlanPages(
    header.id,
    header.pages.slice(1).map((_, n) => n + 1),
  );
  return {
    header,
    plan: { entries: [head.first, ...rest].flat(), organizations: header.organizations!, readAt: header.readAt! },
    counters,
  };
}

/**
 * The request's plan: the saved preview's when it still holds (currentPreview); otherwise computed within the
 * request's budget, and the saved preview it names compared with it (X1: 409 when it no longer matches; `op` then
 * carries the preview). Past the budget the operation is created `planning` and planned in the background (the
 * preview compared there): `deferred` is the answer. `reuse` completes a preview's plan as `compute` would.
 */
async function planWithinRequest<P extends ComputedPlan>(
  op: OperationRecord,
  compute: (budget: PlanBudget) => Promise<P>,
  reuse: (plan: ComputedPlan) => Promise<P>,
  preview: PreviewNamed,
  requested: (p?: { id: string }) => Record<string, unknown>,
): Promise<Planned<P>> {
  const named = (p: PlanHeader) => Object.assign(op, { previewId: p.id, previewFingerprint: p.fingerprint });
  const current = await currentPreview(preview, op.id);
  if (current.plan) {
    named(current.header!);
    // its copy is the operation's first plan, read at the same time: approval and the run's end check the counters alone
    op.planQuiet = { planId: op.planId!, counters: current.counters!, runCount: op.runCount };
    return { plan: await reuse(current.plan), preview: current.header! };
  }
  if (current.copied) {
    named(current.header!);
    return { deferred: await deferOperation(op, requested(current.header!)) };
  }
  let plan: P;
  try {
    plan = await compute(requestBudget());
  } catch (error) {
    if (!(error instanceof PlanTooLarge)) throw error;
    const p = preview.id ? await previewOf(preview.id, preview.what, current.header) : undefined;
    if (p) named(p);
    return { deferred: await deferOperation(op, requested(p)) };
  }
  const fingerprintNow = fingerprint(plan.entries.map((e) => e.effect));
  const saved = preview.id ? await checkPreview(preview.id, preview.what, fingerprintNow, current.header) : undefined;
  if (saved) named(saved);
  return { plan, ...(saved ? { preview: saved } : {}) };
}

/**
 * A transfer (T3) or deletion (D1) request's operation: its record, the `requested` audit entry of its requester under
 * `rule` (naming the saved preview the plan matched, X2), and its plan within the request (planWithinRequest).
 */
export async function requestOperation<P extends ComputedPlan>(request: {
  prefix: 'tr' | 'del';
  rule: 'T3' | 'D1';
  fields: Parameters<typeof newOperation>[1];
  successor?: User;
  export?: boolean;
  preview: Omit<PreviewNamed, 'successorId'>;
  compute: (budget: PlanBudget) => Promise<P>;
  reuse: (plan: ComputedPlan) => Promise<P>;
}): Promise<{ op: OperationRecord; requested: (p?: { id: string }) => Record<string, unknown>; planned: Planned<P> }> {
  const { prefix, rule, fields, preview, compute, reuse } = request;
  const op = newOperation(prefix, fields, {
    ...(request.successor ? { successor: request.successor } : {}),
    ...(request.export ? { export: true } : {}),
  });
  const requested = (p?: { id: string }) => ({ event: 'requested', by: fields.requestedBy, rule, ...(p ? { previewId: p.id } : {}) });
  const named = { ...preview, ...(request.successor ? { successorId: request.successor.id } : {}) };
  return { op, requested, planned: await planWithinRequest(op, compute, reuse, named, requested) };
}
