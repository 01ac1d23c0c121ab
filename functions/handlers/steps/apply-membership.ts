import { applyMembership } from '../../store/apply.js';
import { audit, readEffectsPage } from '../../store/operations.js';
import { OperationInput, step } from './step.js';

/**
 * ApplyMembership: T6, T9 and T4 in one transaction: the user's organization, both organizations' seat counts,
 * the inherited exemptions and the API token. Throws NoFreeSeat when the destination is full.
 */
export const handler = step('ApplyMembership', OperationInput, async ({ operationId }) => {
  const kinds = ['membership-changed', 'security-changed', 'api-token-revoked'] as const;
  const effects = (await Promise.all(kinds.map((kind) => readEffectsPage(operationId, kind, undefined, 10)))).flatMap((p) => p.effects);
  await applyMembership(effects);
  await audit(operationId, { event: 'applied', step: 'ApplyMembership', applied: effects.map(({ effect }) => `${effect.kind} (${effect.rule})`) });
  return { operationId };
});
