import { hasAllowance, type CommunicationContext } from './communication.js';
import type { Organization, Plan, User } from './model.js';

export interface Reason {
  rule: string;
  message: string;
  /** Which condition of the rule refused (a rule such as T5 or D1 has several), for the console to word it. */
  code?: string;
}

/** T1: the plan pairs (source → destination) the transfer function allows. */
const ALLOWED_PLAN_PAIRS: ReadonlySet<string> = new Set([
  'business>business',
  'business>enterprise',
  'enterprise>enterprise',
  'business>kddi-chatwork',
  'kddi-chatwork>kddi-chatwork',
]);

export function planPairAllowed(source: Plan, destination: Plan): boolean {
  return ALLOWED_PLAN_PAIRS.has(`${source}>${destination}`);
}

/**
 * Why a transfer may not happen (empty when it may): T1, T2, T5.
 * T2 reading: the allowance is required when EITHER organization restricts outside communication (Japanese original).
 */
export function transferIneligibility(
  ctx: CommunicationContext,
  user: User,
  source: Organization | undefined,
  destination: Organization,
): Reason[] {
  const reasons: Reason[] = [];
  if (user.status !== 'active') reasons.push({ rule: 'T5', code: 'not-active', message: `user ${user.id} is not active` });
  if (!source) {
    reasons.push({ rule: 'T5', code: 'no-organization', message: `user ${user.id} is not a member of an organization` });
    return reasons;
  }
  if (source.id === destination.id) {
    reasons.push({ rule: 'T5', code: 'same-organization', message: `user ${user.id} is already a member of ${destination.id}` });
  }
  if (user.orgAdmin) {
    reasons.push({
      rule: 'T5',
      code: 'administrator',
      message: `user ${user.id} is an administrator of ${source.id}; hand over administrator rights first`,
    });
  }
  if (!planPairAllowed(source.plan, destination.plan)) {
    reasons.push({
      rule: 'T1',
      code: 'plan-pair',
      message: `a transfer from plan ${source.plan} to plan ${destination.plan} is not allowed`,
    });
  }
  const eitherRestricts = source.restrictOutsideCommunication || destination.restrictOutsideCommunication;
  if (eitherRestricts && !hasAllowance(ctx, source.id, destination.id)) {
    reasons.push({
      rule: 'T2',
      code: 'no-allowance',
      message: `${source.id} or ${destination.id} restricts outside communication and the pair has no outside allowance`,
    });
  }
  return reasons;
}

/** D1: refusals of a deletion that do not depend on who asks (who asks is checked by the API). */
export function deletionIneligibility(user: User, organizationAdmins: readonly User[]): Reason[] {
  if (user.status === 'deleted') return [{ rule: 'D1', code: 'already-deleted', message: `user ${user.id} is already deleted` }];
  const otherAdmins = organizationAdmins.filter((a) => a.id !== user.id && a.status === 'active' && a.orgAdmin);
  // D7: a suspended administrator stopped counting when it was suspended (checked then); its purge removes no active one
  if (user.orgAdmin && user.status === 'active' && otherAdmins.length === 0) {
    return [{ rule: 'D1', code: 'last-administrator', message: `user ${user.id} is the last administrator of ${user.organizationId}` }];
  }
  return [];
}
