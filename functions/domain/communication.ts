import { pairKey, type Organization, type User } from './model.js';

/** What C1/C2 need to know about organizations: each by id, and the outside allowances. */
export interface CommunicationContext {
  organizations: ReadonlyMap<string, Organization>;
  /** pairKey(orgA, orgB) of every pair whose "Allowed Outside-organization Setting" is ON. */
  allowances: ReadonlySet<string>;
}

export function hasAllowance(ctx: CommunicationContext, orgA: string, orgB: string): boolean {
  return ctx.allowances.has(pairKey(orgA, orgB));
}

/** C2: one side is cleared when its organization does not restrict, or the user is exempt, or the pair has an allowance. */
function cleared(ctx: CommunicationContext, side: User, other: User): boolean {
  if (side.organizationId === null) return true; // C2: a user without an organization never restricts
  const org = ctx.organizations.get(side.organizationId);
  if (!org?.restrictOutsideCommunication) return true;
  if (side.allowOutsideCommunication) return true;
  return other.organizationId !== null && hasAllowance(ctx, side.organizationId, other.organizationId);
}

/** C1 and C2: may these two users communicate? */
export function mayCommunicate(ctx: CommunicationContext, a: User, b: User): boolean {
  if (a.organizationId !== null && a.organizationId === b.organizationId) return true; // C1
  return cleared(ctx, a, b) && cleared(ctx, b, a); // C2: both sides must be cleared
}
