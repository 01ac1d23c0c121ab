import type { Impact } from '../domain/impact.js';
import type { OperationRecord } from '../store/operations.js';
import { readImpact } from '../store/operations.js';

/** CONTRACT.md's Transfer and Deletion shapes. */
export async function operationView(op: OperationRecord, impact?: Impact): Promise<Record<string, unknown>> {
  const shown = impact ?? (await readImpact(op));
  const common = { id: op.id, userId: op.userId };
  const tail = {
    status: op.status,
    impact: shown,
    requestedBy: op.requestedBy,
    ...(op.operation === 'transfer' ? { approvedBy: op.approvedBy ?? null } : {}),
    createdAt: op.createdAt,
    updatedAt: op.updatedAt,
    ...(op.error ? { error: op.error } : {}),
  };
  if (op.operation === 'transfer') {
    return { ...common, sourceOrganizationId: op.sourceOrganizationId, destinationOrganizationId: op.destinationOrganizationId, ...tail };
  }
  return { ...common, organizationId: op.organizationId, ...tail };
}
