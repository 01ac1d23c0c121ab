/**
 * The lifecycle of a bulk run (B1's contract cancellation) as data: its statuses, the transitions between them, who
 * may make each and what must still hold (B4, O2). Pure: the services ask it, then the store writes the change
 * conditional on the from-status (functions/store/runs.ts), so a transition that lost a race changes nothing.
 *
 * | transition | from | to | by | premise |
 * |---|---|---|---|---|
 * | create | — | awaiting-confirmation, or running | system (the billing event) | B4: more members than the threshold waits |
 * | confirm | awaiting-confirmation | running | operator | B4 |
 * | cancel | awaiting-confirmation, running, failed | cancelled | operator | B4, O2: members not yet deleted stay |
 * | reinstate | awaiting-confirmation, running | cancelled | system (`Contract Reinstated`) | B4: no member deleted yet |
 * | fail | running | failed | system | |
 * | resume | failed | running | operator | O2: within 7 days of the failure |
 * | succeed | running | succeeded | system | |
 */
export const RUN_STATUSES = ['awaiting-confirmation', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** Who makes a transition: the platform team (scope `offboard/operator`), the workflow itself, an organization's administrator. */
export type RunActor = 'operator' | 'system' | 'admin';

export type RunTransition = 'confirm' | 'cancel' | 'reinstate' | 'fail' | 'resume' | 'succeed';

export interface RunTransitionRule {
  from: readonly RunStatus[];
  to: RunStatus;
  by: readonly RunActor[];
  rule: string;
}

export const RUN_TRANSITIONS: Record<RunTransition, RunTransitionRule> = {
  confirm: { from: ['awaiting-confirmation'], to: 'running', by: ['operator'], rule: 'B4' },
  cancel: { from: ['awaiting-confirmation', 'running', 'failed'], to: 'cancelled', by: ['operator'], rule: 'B4' },
  reinstate: { from: ['awaiting-confirmation', 'running'], to: 'cancelled', by: ['system'], rule: 'B4' },
  fail: { from: ['running'], to: 'failed', by: ['system'], rule: 'B1' },
  resume: { from: ['failed'], to: 'running', by: ['operator'], rule: 'O2' },
  succeed: { from: ['running'], to: 'succeeded', by: ['system'], rule: 'B1' },
};

/** B4: the confirmation threshold when the stack names none (members). */
export const DEFAULT_CONFIRMATION_THRESHOLD = 500;
/** O2: a failed run can be resumed this long after its failure. */
export const RESUME_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;

/** B4: a contract cancellation of an organization above the threshold waits for an operator; others run at once. */
export function initialRunStatus(members: number, threshold: number): Extract<RunStatus, 'awaiting-confirmation' | 'running'> {
  return members > threshold ? 'awaiting-confirmation' : 'running';
}

/** What a transition premise reads of the run. */
export interface RunState {
  id: string;
  status: RunStatus;
  /** When the run last failed (O2's 7 days count from it). */
  failedAt?: string;
  /** When its first batch began deleting (B4: a reinstated contract no longer stops it). */
  deletingStartedAt?: string;
}

export type RunRefusal = { ok: false; reason: 'forbidden' | 'conflict'; message: string; rule: string };
export type RunVerdict = { ok: true; from: readonly RunStatus[]; to: RunStatus; rule: string } | RunRefusal;

/**
 * May `actor` make `transition` on `run` at `atMs`? The from-statuses returned are the ones the store's write must
 * still find (the same premise, checked again where it is written).
 */
export function decideRunTransition(run: RunState, transition: RunTransition, actor: RunActor, atMs: number): RunVerdict {
  const def = RUN_TRANSITIONS[transition];
  if (!def.by.includes(actor)) {
    const who = def.by.map((a) => (a === 'operator' ? 'an operator' : a === 'admin' ? 'an administrator' : 'the system')).join(' or ');
    return { ok: false, reason: 'forbidden', rule: def.rule, message: `${def.rule}: only ${who} may ${transition} billing run ${run.id}` };
  }
  if (!def.from.includes(run.status)) {
    return {
      ok: false,
      reason: 'conflict',
      rule: def.rule,
      message: `billing run ${run.id} is ${run.status}; ${transition} needs it ${def.from.join(' or ')} (${def.rule})`,
    };
  }
  if (transition === 'resume') {
    const failedMs = run.failedAt ? Date.parse(run.failedAt) : Number.NaN;
    if (Number.isFinite(failedMs) && atMs - failedMs > RESUME_WINDOW_MS) {
      return {
        ok: false,
        reason: 'conflict',
        rule: 'O2',
        message: `O2: billing run ${run.id} failed at ${run.failedAt}, more than 7 days ago; it can only be cancelled`,
      };
    }
  }
  if (transition === 'reinstate' && run.deletingStartedAt) {
    return {
      ok: false,
      reason: 'conflict',
      rule: 'B4',
      message: `B4: billing run ${run.id} started deleting members at ${run.deletingStartedAt}; a reinstated contract no longer cancels it`,
    };
  }
  return { ok: true, from: def.from, to: def.to, rule: def.rule };
}
