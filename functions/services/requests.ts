import type { User } from '../domain/model.js';
import { newOperationId, now, planIdFor, type OperationRecord } from '../store/operations.js';
import { fingerprint, type PlanHeader } from '../store/plans.js';
import { deferOperation } from './background-planning.js';
import { PlanTooLarge, requestBudget, type ComputedPlan, type PlanBudget } from './planning.js';
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

/**
 * The request's plan within the request's budget, and the saved preview it names compared with it (X1: 409 when it no
 * longer matches; `op` then carries the preview). Past the budget the operation is created `planning` and planned in
 * the background (the preview compared there): `deferred` is the answer.
 */
async function planWithinRequest<P extends ComputedPlan>(
  op: OperationRecord,
  compute: (budget: PlanBudget) => Promise<P>,
  preview: { id?: string; what: Parameters<typeof previewOf>[1] },
  requested: (p?: { id: string }) => Record<string, unknown>,
): Promise<Planned<P>> {
  const named = (p: PlanHeader) => Object.assign(op, { previewId: p.id, previewFingerprint: p.fingerprint });
  let plan: P;
  try {
    plan = await compute(requestBudget());
  } catch (error) {
    if (!(error instanceof PlanTooLarge)) throw error;
    const p = preview.id ? await previewOf(preview.id, preview.what) : undefined;
    if (p) named(p);
    return { deferred: await deferOperation(op, requested(p)) };
  }
  const saved = preview.id ? await checkPreview(preview.id, preview.what, fingerprint(plan.entries.map((e) => e.effect))) : undefined;
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
  preview: Parameters<typeof planWithinRequest>[2];
  compute: (budget: PlanBudget) => Promise<P>;
}): Promise<{ op: OperationRecord; requested: (p?: { id: string }) => Record<string, unknown>; planned: Planned<P> }> {
  const { prefix, rule, fields, preview, compute } = request;
  const op = newOperation(prefix, fields, {
    ...(request.successor ? { successor: request.successor } : {}),
    ...(request.export ? { export: true } : {}),
  });
  const requested = (p?: { id: string }) => ({ event: 'requested', by: fields.requestedBy, rule, ...(p ? { previewId: p.id } : {}) });
  return { op, requested, planned: await planWithinRequest(op, compute, preview, requested) };
}
