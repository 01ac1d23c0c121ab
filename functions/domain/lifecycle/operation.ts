/**
 * The lifecycle of a transfer or a deletion (RULES.md T3, T4, D1, D7, O1, O2; CONTRACT.md "Statuses"), as data and
 * pure functions: its statuses, the transitions between them, who may make each, and each one's premises. Services
 * make every status change through `transitionFor` and `premiseViolation`; no service names a from-status itself.
 * No AWS types here.
 */
import { deletionIneligibility, transferIneligibility, type Reason } from '../eligibility.js';
import { pairKey, type Organization, type User } from '../model.js';

export const OPERATION_STATUSES = [
  'planning',
  'awaiting-approval',
  'awaiting-seat',
  'scheduled',
  'running',
  'succeeded',
  'failed',
  'cancelled',
] as const;
export type OperationStatus = (typeof OPERATION_STATUSES)[number];
/** Statuses in which an operation holds its user's lock (one operation per user at a time). */
export const HOLDS_LOCK: readonly OperationStatus[] = ['planning', 'awaiting-approval', 'awaiting-seat', 'scheduled', 'running'];
export const FINAL: readonly OperationStatus[] = ['succeeded', 'cancelled'];

/** O2: a failed operation can be resumed this long after its failure; it can be cancelled at any time. */
export const RESUME_WINDOW_MS = 7 * 24 * 3600 * 1000;

/** Who makes a transition: an administrator of one side, or the system (a step, a billing event, the clock). */
export type Actor = 'source-admin' | 'destination-admin' | 'either-admin' | 'organization-admin' | 'system';

export interface TransitionRule {
  /** Which operations it applies to. */
  operations: readonly ('transfer' | 'deletion')[];
  from: readonly OperationStatus[];
  to: OperationStatus;
  by: readonly Actor[];
  /** The rules that give it. */
  rules: string;
}

/**
 * Every transition. `request` and `schedule` create the operation (from nothing). A deletion is recorded and started
 * at once (`start`); a transfer starts on approval, or later when a seat frees (`seat-freed`, B2).
 */
export const TRANSITIONS = {
  request: { operations: ['transfer'], from: [], to: 'awaiting-approval', by: ['source-admin'], rules: 'T3' },
  'request-deletion': { operations: ['deletion'], from: [], to: 'awaiting-approval', by: ['organization-admin'], rules: 'D1' },
  // CONTRACT.md `planning`: a plan too large to compute within the request is computed in the background first
  'request-planning': {
    operations: ['transfer', 'deletion'],
    from: [],
    to: 'planning',
    by: ['source-admin', 'organization-admin'],
    rules: 'T3, D1, X1',
  },
  planned: { operations: ['transfer', 'deletion'], from: ['planning'], to: 'awaiting-approval', by: ['system'], rules: 'X1' },
  'planned-schedule': { operations: ['deletion'], from: ['planning'], to: 'scheduled', by: ['system'], rules: 'D7, X1' },
  schedule: { operations: ['deletion'], from: [], to: 'scheduled', by: ['organization-admin'], rules: 'D1, D7' },
  approve: { operations: ['transfer'], from: ['awaiting-approval'], to: 'running', by: ['destination-admin'], rules: 'T3' },
  start: { operations: ['deletion'], from: ['awaiting-approval'], to: 'running', by: ['system'], rules: 'D1' },
  'wait-for-seat': {
    operations: ['transfer'],
    from: ['awaiting-approval', 'running'],
    to: 'awaiting-seat',
    by: ['destination-admin', 'system'],
    rules: 'T4',
  },
  'seat-freed': { operations: ['transfer'], from: ['awaiting-seat'], to: 'running', by: ['system'], rules: 'T4, B2' },
  undo: { operations: ['deletion'], from: ['scheduled'], to: 'cancelled', by: ['organization-admin'], rules: 'D7' },
  purge: { operations: ['deletion'], from: ['scheduled'], to: 'running', by: ['system'], rules: 'D7' },
  cancel: {
    operations: ['transfer'],
    from: ['planning', 'awaiting-approval', 'awaiting-seat', 'failed'],
    to: 'cancelled',
    by: ['either-admin', 'system'],
    rules: 'T3, O2',
  },
  'cancel-failed': { operations: ['deletion'], from: ['failed'], to: 'cancelled', by: ['organization-admin', 'system'], rules: 'O2' },
  'cancel-scheduled': { operations: ['deletion'], from: ['scheduled'], to: 'cancelled', by: ['system'], rules: 'B1' },
  fail: { operations: ['transfer', 'deletion'], from: ['running', 'planning'], to: 'failed', by: ['system'], rules: 'O1' },
  'fail-scheduled': { operations: ['deletion'], from: ['scheduled'], to: 'failed', by: ['system'], rules: 'D7' },
  resume: {
    operations: ['transfer', 'deletion'],
    from: ['failed'],
    to: 'running',
    by: ['source-admin', 'organization-admin'],
    rules: 'O2, T3',
  },
  succeed: { operations: ['transfer', 'deletion'], from: ['running'], to: 'succeeded', by: ['system'], rules: 'X1' },
} as const satisfies Record<string, TransitionRule>;
export type TransitionName = keyof typeof TRANSITIONS;

/** What an operation is, as the lifecycle sees it. */
export interface OperationFacts {
  id: string;
  operation: 'transfer' | 'deletion';
  status: OperationStatus;
  userId: string;
  sourceOrganizationId?: string;
  destinationOrganizationId?: string;
  organizationId?: string;
  approvedBy?: string | null;
  /** D7: a deletion under a grace period (its user is suspended by it). */
  purgeAt?: string;
  /** When it failed (O2's window starts here). */
  failedAt?: string;
  updatedAt?: string;
  /** The plan whose first effect (the membership change, the user's deletion) has landed. */
  appliedPlan?: string;
  planId?: string;
  /** X3: the successor the request named. */
  successorId?: string;
}

/** The organization(s) an operation belongs to. */
export const organizationsOf = (op: OperationFacts): string[] =>
  (op.operation === 'transfer' ? [op.sourceOrganizationId, op.destinationOrganizationId] : [op.organizationId]).filter((o): o is string =>
    Boolean(o),
  );

/** The transition's rule, or an error naming why it cannot apply to this operation (wrong kind). */
export function transitionFor(name: TransitionName, op: Pick<OperationFacts, 'operation'>): TransitionRule {
  const rule: TransitionRule = TRANSITIONS[name];
  if (!rule.operations.includes(op.operation)) throw new Error(`the lifecycle has no transition ${name} for a ${op.operation}`);
  return rule;
}

/** Why a status does not allow a transition, in words (CONTRACT.md's 409), or undefined when it does. */
export function statusRefusal(name: TransitionName, op: Pick<OperationFacts, 'operation' | 'status' | 'id'>): string | undefined {
  const rule = transitionFor(name, op);
  if ((rule.from as readonly string[]).includes(op.status)) return undefined;
  return `${op.operation} ${op.id} is ${op.status}; ${name} needs ${rule.from.join(' or ') || 'a new operation'}`;
}

/** The caller, as the lifecycle sees it. */
export interface CallerFacts {
  id: string;
  status: User['status'];
  orgAdmin: boolean;
  organizationId: string | null;
}

const adminOf = (caller: CallerFacts, org: string | undefined) =>
  Boolean(org) && caller.status === 'active' && caller.orgAdmin && caller.organizationId === org;

/** Whether the caller is each actor for this operation. */
export function actorsOf(caller: CallerFacts, op: OperationFacts): Actor[] {
  const actors: Actor[] = [];
  if (op.operation === 'transfer') {
    if (adminOf(caller, op.sourceOrganizationId)) actors.push('source-admin', 'either-admin');
    if (adminOf(caller, op.destinationOrganizationId)) actors.push('destination-admin', 'either-admin');
  } else if (adminOf(caller, op.organizationId)) actors.push('organization-admin');
  return actors;
}

/**
 * Why the caller may not make this transition, or undefined when it may. O2 and T3: a transfer is resumed by an
 * administrator of its source, and only once the destination had approved it (both sides consented); a
 * resumption by the destination alone is refused.
 */
export function actorRefusal(name: TransitionName, op: OperationFacts, caller: CallerFacts): string | undefined {
  const rule = transitionFor(name, op);
  const actors = actorsOf(caller, op);
  if (!rule.by.some((a) => actors.includes(a))) {
    const who = rule.by
      .filter((a) => a !== 'system')
      .map((a) => describeActor(a, op))
      .join(' or ');
    return `user ${caller.id} may not ${name} ${op.operation} ${op.id}: only ${who || 'the system'} may (${rule.rules})`;
  }
  if (name === 'resume' && op.operation === 'transfer' && !op.approvedBy) {
    return `transfer ${op.id} was never approved by ${op.destinationOrganizationId}: a resumption needs the consent of both organizations (T3, O2)`;
  }
  return undefined;
}

function describeActor(actor: Actor, op: OperationFacts): string {
  switch (actor) {
    case 'source-admin':
      return `an administrator of ${op.sourceOrganizationId}`;
    case 'destination-admin':
      return `an administrator of ${op.destinationOrganizationId}`;
    case 'either-admin':
      return `an administrator of ${op.sourceOrganizationId} or ${op.destinationOrganizationId}`;
    case 'organization-admin':
      return `an administrator of ${op.organizationId}`;
    default:
      return 'the system';
  }
}

/** O2: a failed operation past its window is no longer resumed (it can still be cancelled). */
export function resumeWindowRefusal(op: OperationFacts, nowMs: number): string | undefined {
  const failedAt = Date.parse(op.failedAt ?? op.updatedAt ?? '');
  if (!Number.isFinite(failedAt)) return undefined;
  if (nowMs - failedAt <= RESUME_WINDOW_MS) return undefined;
  return `${op.operation} ${op.id} failed at ${new Date(failedAt).toISOString()}, more than 7 days ago: it can only be cancelled (O2)`;
}

/** What the premises are checked against: the current data around the operation. */
export interface PremiseFacts {
  user: User | undefined;
  /** Transfers: both organizations and whether the pair has an outside allowance (T1, T2). */
  source?: Organization;
  destination?: Organization;
  allowance?: boolean;
  /** Deletions: the organization's administrators (D1). */
  admins?: readonly User[];
  /** X3: the successor as it is now (undefined: it no longer exists), read when the operation names one. */
  successor?: User;
}

/** X3: the organization the successor must be an active member of: the user's (the source, for a transfer). */
export const successorOrganizationOf = (op: Pick<OperationFacts, 'operation' | 'organizationId' | 'sourceOrganizationId'>): string =>
  (op.operation === 'transfer' ? op.sourceOrganizationId : op.organizationId)!;

/** X3, O1: why the named successor may no longer take over, or undefined (also when the operation names none). */
export function successorViolation(op: OperationFacts, successor: User | undefined): Reason | undefined {
  if (!op.successorId) return undefined;
  const organizationId = successorOrganizationOf(op);
  if (!successor) return { rule: 'X3', message: `the successor ${op.successorId} no longer exists` };
  if (successor.status !== 'active' || successor.organizationId !== organizationId) {
    const status = successor.status !== 'active' ? ` (${successor.status})` : '';
    return { rule: 'X3', message: `the successor ${successor.id} is no longer an active member of ${organizationId}${status}` };
  }
  return undefined;
}

/**
 * Whether the plan's first effect has landed: the user moved to the destination (a transfer) or deleted (a deletion),
 * by this very operation (the plan it began to apply is the current one). After it, what is left is the rest of that
 * plan, and the premises are about the user where the first effect put it.
 */
export const firstEffectLanded = (op: OperationFacts): boolean => op.appliedPlan !== undefined && op.appliedPlan === op.planId;

/**
 * O1: the premise of this operation that no longer holds, with its rule, or undefined when every one holds. Before
 * its first effect: the user is active (or suspended by this very deletion, D7), a member of the operation's
 * organization (the source, for a transfer) and still eligible (T1, T2, T5; D1). After it: the user is where the
 * first effect put it (an active member of the destination; deleted).
 */
export function premiseViolation(op: OperationFacts, facts: PremiseFacts): Reason | undefined {
  const user = facts.user;
  if (!user) return { rule: 'O1', message: `user ${op.userId} no longer exists` };
  return ownPremiseViolation(op, facts, user) ?? successorViolation(op, facts.successor);
}

function ownPremiseViolation(op: OperationFacts, facts: PremiseFacts, user: User): Reason | undefined {
  if (op.operation === 'transfer') {
    if (firstEffectLanded(op) && user.organizationId === op.destinationOrganizationId) {
      return user.status === 'active'
        ? undefined
        : { rule: 'O1', message: `user ${user.id} is ${user.status}, no longer an active member of ${op.destinationOrganizationId}` };
    }
    if (user.status !== 'active' || user.organizationId !== op.sourceOrganizationId) {
      const movedTo = user.organizationId && user.organizationId !== op.sourceOrganizationId ? ` (now of ${user.organizationId})` : '';
      return { rule: 'O1', message: `user ${user.id} is no longer an active member of ${op.sourceOrganizationId}${movedTo}` };
    }
    if (!facts.destination) return { rule: 'T5', message: `organization ${op.destinationOrganizationId} no longer exists` };
    const reasons = transferIneligibility(
      {
        organizations: new Map([facts.source, facts.destination].filter((o): o is Organization => Boolean(o)).map((o) => [o.id, o])),
        allowances: new Set(facts.allowance ? [pairOf(op)] : []),
      },
      user,
      facts.source,
      facts.destination,
    );
    return reasons[0];
  }
  if (firstEffectLanded(op) && user.status === 'deleted') return undefined;
  if (user.organizationId !== op.organizationId) {
    return {
      rule: 'O1',
      message: `user ${user.id} is no longer a member of ${op.organizationId}${user.organizationId ? ` (now of ${user.organizationId})` : ''}`,
    };
  }
  return deletionIneligibility(user, facts.admins ?? [])[0];
}

const pairOf = (op: OperationFacts) => pairKey(op.sourceOrganizationId!, op.destinationOrganizationId!);
