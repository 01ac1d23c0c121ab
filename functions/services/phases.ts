import type { EffectKind } from '../domain/impact.js';
import { APPLIERS } from '../store/apply.js';
import { chunk } from '../store/batch.js';
import { audit, now, readEffectsPage, readStoredEffects, type StoredEffect } from '../store/operations.js';

export interface Cursor {
  kind: number;
  after?: string;
}

/** Effects read per query, and applied per invocation before handing back a cursor (keeps payloads and run times bounded). */
export const PAGE_SIZE = 100;
export const EFFECTS_PER_INVOCATION = 1000;

/**
 * Applies an operation's planned effects of the given kinds, in order, page by page. Returns a cursor when the
 * budget ran out before the end; the state machine calls again with it. Applying a page twice is harmless.
 */
export async function applyPhase(
  operationId: string,
  phase: string,
  kinds: readonly EffectKind[],
  cursor?: Cursor,
  options: { bulk?: boolean } = {},
): Promise<Cursor | undefined> {
  const applied: Record<string, number> = {};
  let kind = cursor?.kind ?? 0;
  let after = cursor?.after;
  let budget = EFFECTS_PER_INVOCATION;
  let next: Cursor | undefined;
  while (kind < kinds.length) {
    const page = await readEffectsPage(operationId, kinds[kind]!, after, PAGE_SIZE);
    if (page.effects.length > 0) await APPLIERS[kinds[kind]!](page.effects, { at: now(), bulk: options.bulk ?? false });
    for (const { effect } of page.effects) applied[`${effect.kind} (${effect.rule})`] = (applied[`${effect.kind} (${effect.rule})`] ?? 0) + 1;
    budget -= page.effects.length;
    if (page.last) {
      after = page.last;
      if (budget <= 0) {
        next = { kind, after };
        break;
      }
    } else {
      kind++;
      after = undefined;
    }
  }
  if (Object.keys(applied).length > 0) await audit(operationId, { event: 'applied', step: phase, applied }); // X2
  return next;
}

/**
 * All phases in one invocation, for an operation small enough to hold in memory (a bulk run's member): the plan is
 * read once, then applied phase by phase, kind by kind, in pages. Returns the effects it applied.
 */
export async function applyAllPhases(
  operationId: string,
  phases: readonly (readonly [string, readonly EffectKind[]])[],
  options: { bulk?: boolean } = {},
): Promise<StoredEffect[]> {
  const stored = await readStoredEffects(operationId);
  const applied: Record<string, number> = {};
  for (const [, kinds] of phases) {
    for (const kind of kinds) {
      const ofKind = stored.filter((s) => s.effect.kind === kind);
      for (const page of chunk(ofKind, PAGE_SIZE)) await APPLIERS[kind](page, { at: now(), bulk: options.bulk ?? false });
      for (const { effect } of ofKind) applied[`${effect.kind} (${effect.rule})`] = (applied[`${effect.kind} (${effect.rule})`] ?? 0) + 1;
    }
  }
  if (Object.keys(applied).length > 0) await audit(operationId, { event: 'applied', step: phases.map(([p]) => p).join(', '), applied }); // X2
  return stored;
}
