import type { EffectKind } from '../domain/impact.js';
import { APPLIERS } from '../store/apply.js';
import { audit, now, readEffectsPage } from '../store/operations.js';

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
