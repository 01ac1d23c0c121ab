/** The Impact of CONTRACT.md: every effect an operation will have, each citing the RULES.md rule that causes it (X1). */

export type Effect =
  | { kind: 'security-changed'; rule: string; userId: string; allowOutsideCommunication: boolean; allowFileSharing: boolean }
  | { kind: 'membership-changed'; rule: string; userId: string; fromOrganizationId: string; toOrganizationId: string }
  | { kind: 'user-deleted'; rule: string; userId: string }
  | { kind: 'api-token-revoked'; rule: string; userId: string }
  | { kind: 'contact-removed'; rule: string; userIds: [string, string] }
  | { kind: 'chat-left'; rule: string; chatId: string; userId: string }
  | { kind: 'chat-frozen'; rule: string; chatId: string }
  | { kind: 'chat-deleted'; rule: string; chatId: string }
  | { kind: 'admin-granted'; rule: string; chatId: string; userIds: string[] }
  | { kind: 'task-deleted'; rule: string; taskId: string }
  | { kind: 'file-deleted'; rule: string; fileId: string }
  | { kind: 'file-handed-over'; rule: string; fileId: string; organizationId: string }
  | { kind: 'chat-joined'; rule: string; chatId: string; userId: string; role: 'admin' | 'member' }
  | { kind: 'task-reassigned'; rule: string; taskId: string; userId: string };

export type EffectKind = Effect['kind'];
export type EffectOf<K extends EffectKind> = Extract<Effect, { kind: K }>;
export type Operation = 'transfer' | 'deletion';

export interface Impact {
  operation: Operation;
  userId: string;
  effects: Effect[];
}

/**
 * G2, D4, D5: the kinds that leave, freeze or hand over a chat, whose state operations beside this one may have
 * changed meanwhile (settled after, services/settle.ts).
 */
export const CHAT_SETTLED_KINDS = ['chat-left', 'chat-frozen', 'admin-granted'] as const satisfies readonly EffectKind[];

/** The chat an effect leaves, freezes or hands over (CHAT_SETTLED_KINDS), if any. */
export const settledChatOf = (effect: Effect): string | undefined =>
  effect.kind === 'chat-left' || effect.kind === 'chat-frozen' || effect.kind === 'admin-granted' ? effect.chatId : undefined;

/** The ids that identify an effect, in the order CONTRACT.md sorts by (after its kind). */
export function effectIds(effect: Effect): string[] {
  switch (effect.kind) {
    case 'security-changed':
    case 'membership-changed':
    case 'user-deleted':
    case 'api-token-revoked':
      return [effect.userId];
    case 'contact-removed':
      return [...effect.userIds];
    case 'chat-left':
    case 'chat-joined':
      return [effect.chatId, effect.userId];
    case 'chat-frozen':
    case 'chat-deleted':
      return [effect.chatId];
    case 'admin-granted':
      return [effect.chatId, ...effect.userIds];
    case 'task-deleted':
    case 'task-reassigned':
      return [effect.taskId];
    case 'file-deleted':
    case 'file-handed-over':
      return [effect.fileId];
  }
}

/** CONTRACT.md's fields of each effect kind, in the order they are written. */
const FIELDS: Record<EffectKind, string[]> = {
  'security-changed': ['userId', 'allowOutsideCommunication', 'allowFileSharing'],
  'membership-changed': ['userId', 'fromOrganizationId', 'toOrganizationId'],
  'user-deleted': ['userId'],
  'api-token-revoked': ['userId'],
  'contact-removed': ['userIds'],
  'chat-left': ['chatId', 'userId'],
  'chat-frozen': ['chatId'],
  'chat-deleted': ['chatId'],
  'admin-granted': ['chatId', 'userIds'],
  'task-deleted': ['taskId'],
  'file-deleted': ['fileId'],
  'file-handed-over': ['fileId', 'organizationId'],
  'chat-joined': ['chatId', 'userId', 'role'],
  'task-reassigned': ['taskId', 'userId'],
};

/** The effect with its fields in canonical order (an effect read back from storage may come in any order). */
export function canonicalEffect(effect: Effect): Effect {
  const source = effect as unknown as Record<string, unknown>;
  return Object.fromEntries([
    ['kind', effect.kind],
    ['rule', effect.rule],
    ...FIELDS[effect.kind].map((f) => [f, source[f]]),
  ]) as unknown as Effect;
}

/** A key unique per effect target; sorting by it sorts by kind, then ids. */
export function effectKey(effect: Effect): string {
  switch (effect.kind) {
    case 'file-deleted':
    case 'file-handed-over':
      return `${effect.kind}\u0000${effect.fileId}`; // the common case, made without an array (issue 18)
    case 'task-deleted':
    case 'task-reassigned':
      return `${effect.kind}\u0000${effect.taskId}`;
    default:
      return [effect.kind, ...effectIds(effect)].join('\u0000');
  }
}

/** Two effects of one key (kind and ids) are the same effect if their rule and CONTRACT.md fields are (as canonicalEffect). */
function sameEffect(a: Effect, b: Effect): boolean {
  if (a.rule !== b.rule) return false;
  const x = a as unknown as Record<string, unknown>;
  const y = b as unknown as Record<string, unknown>;
  for (const f of FIELDS[a.kind]) {
    const [u, v] = [x[f], y[f]];
    if (u !== v && (typeof u !== 'object' || JSON.stringify(u) !== JSON.stringify(v))) return false;
  }
  return true;
}

/**
 * Effects gathered from several passes (chats, contacts and tasks planned in pages, or several members of one bulk
 * batch) as one impact: sorted by kind then ids, each effect once (the same kind, rule and CONTRACT.md fields,
 * whatever their order, as canonicalEffect), and each file or task once (an effect on a file or task already covered
 * by a chat deletion is listed once, the first in impact order). Each effect is keyed once and no other string is
 * made for it (issue 18: one chat of 100,000 files merges 100,000 effects).
 */
export function mergeEffects(effects: Iterable<Effect>): Effect[] {
  const first = new Map<string, Effect>();
  const others = new Map<string, Effect[]>(); // the rare effects of a key taken already (another rule or fields)
  for (const effect of effects) {
    const key = effectKey(effect);
    const taken = first.get(key);
    if (!taken) first.set(key, effect);
    else if (!sameEffect(taken, effect)) {
      const more = others.get(key);
      if (!more) others.set(key, [effect]);
      else if (!more.some((e) => sameEffect(e, effect))) more.push(effect);
    }
  }
  const keys = [...first.keys()].sort();
  const seen = new Set<string>();
  const out: Effect[] = [];
  for (const key of keys) {
    for (const e of [first.get(key)!, ...(others.get(key) ?? [])]) if (firstOfItsItem(e, seen)) out.push(e);
  }
  return out;
}

/** Each file or task once in a plan: false for an effect on one that an effect earlier in impact order took. */
function firstOfItsItem(e: Effect, seen: Set<string>): boolean {
  const id =
    e.kind === 'file-deleted' || e.kind === 'file-handed-over'
      ? e.fileId
      : e.kind === 'task-deleted' || e.kind === 'task-reassigned'
        ? `\u0000${e.taskId}`
        : null;
  if (id === null) return true;
  if (seen.has(id)) return false;
  seen.add(id);
  return true;
}

/**
 * Runs of entries, each already one plan's (mergeEffectsInChats: sorted, each effect once), merged as one plan: the
 * same entries, in the same order, as mergeEffectsInChats over all their effects in run order would give. Streamed:
 * it holds one entry per run and one key's effects (and the ids of the files and tasks it passed), so the planning
 * workflow merges the plans of a Map's children however large (services/sliced-planning.ts).
 */
export async function* mergeSortedRuns(runs: readonly AsyncIterable<EffectInChat>[]): AsyncGenerator<EffectInChat> {
  const cursors = runs.map((run) => run[Symbol.asyncIterator]());
  const heads: ({ entry: EffectInChat; key: string } | undefined)[] = [];
  const advance = async (i: number) => {
    const next = await cursors[i]!.next();
    heads[i] = next.done ? undefined : { entry: next.value, key: effectKey(next.value.effect) };
  };
  for (let i = 0; i < cursors.length; i++) await advance(i);
  const seen = new Set<string>();
  for (;;) {
    let key: string | undefined;
    for (const h of heads) if (h && (key === undefined || h.key < key)) key = h.key;
    if (key === undefined) return;
    // this key's effects from every run, in run order (a run lists one key's effects together), each once
    const group: EffectInChat[] = [];
    for (let i = 0; i < heads.length; i++) {
      while (heads[i]?.key === key) {
        const { entry } = heads[i]!;
        if (!group.some((g) => sameEffect(g.effect, entry.effect))) group.push(entry);
        await advance(i);
      }
    }
    for (const entry of group) if (firstOfItsItem(entry.effect, seen)) yield entry;
  }
}

/** One effect of a plan and, for a file or task, the chat it lives in (the store's PlanEntry). */
export interface EffectInChat {
  effect: Effect;
  chatId?: string;
}

/**
 * Effects gathered from several passes or members (as mergeEffects) with the chat each file or task lives in, as
 * `chatOf` knows it: the entries of one plan.
 */
export function mergeEffectsInChats(effects: Iterable<Effect>, chatOf: (effect: Effect) => string | undefined): EffectInChat[] {
  return mergeEffects(effects).map((effect) => {
    const chatId = chatOf(effect);
    return chatId ? { effect, chatId } : { effect };
  });
}
