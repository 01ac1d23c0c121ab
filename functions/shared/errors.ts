import type { Reason } from '../domain/eligibility.js';

/**
 * Named errors. The state machines match these names in Catch/Retry (the Lambda error type is the error's name),
 * and the API maps them to CONTRACT.md's error answers.
 */
export class InvalidRequest extends Error {
  override name = 'InvalidRequest';
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
  }
}
export class NotFound extends Error {
  override name = 'NotFound';
}
export class Forbidden extends Error {
  override name = 'Forbidden';
}
export class Unauthenticated extends Error {
  override name = 'Unauthenticated';
}
export class Conflict extends Error {
  override name = 'Conflict';
}
/** X1: a saved preview no longer matches the plan computed from the current data; nothing changes. */
export class ImpactChanged extends Error {
  override name = 'ImpactChanged';
  readonly code = 'impact-changed';
  readonly rule = 'X1';
}
export class Ineligible extends Error {
  override name = 'Ineligible';
  constructor(readonly reasons: Reason[]) {
    super(reasons.map((r) => `${r.rule}: ${r.message}`).join('; '));
  }
  get rule(): string {
    return this.reasons[0]?.rule ?? '';
  }
}
/** T4: the destination has no free seat at the moment the membership changes. */
export class NoFreeSeat extends Error {
  override name = 'NoFreeSeat';
}
/** A batch that still had unprocessed items or failed keys after every retry. */
export class IncompleteBatch extends Error {
  override name = 'IncompleteBatch';
}
