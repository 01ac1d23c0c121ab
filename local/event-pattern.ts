/**
 * EventBridge event-pattern matching (the subset CDK and this project use, and the common content filters):
 * exact values, prefix, suffix, equals-ignore-case, anything-but (value, list, prefix, suffix), numeric, exists,
 * wildcard, and $or. Anything else is refused loudly rather than guessed.
 */
export class UnsupportedPattern extends Error {
  override name = 'UnsupportedPattern';
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

function wildcardToRegExp(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    's',
  );
}

function numericMatch(ops: Json[], value: unknown): boolean {
  if (typeof value !== 'number') return false;
  for (let i = 0; i < ops.length; i += 2) {
    const op = ops[i];
    const n = Number(ops[i + 1]);
    const ok =
      op === '='
        ? value === n
        : op === '<'
          ? value < n
          : op === '<='
            ? value <= n
            : op === '>'
              ? value > n
              : op === '>='
                ? value >= n
                : null;
    if (ok === null) throw new UnsupportedPattern(`numeric operator ${String(op)}`);
    if (!ok) return false;
  }
  return true;
}

/** One rule of a leaf array against one scalar value. */
function scalarMatch(rule: Json, value: Json | undefined): boolean {
  if (!isObject(rule)) {
    if (value === undefined) return false;
    return typeof rule === 'number' && typeof value === 'number' ? rule === value : rule === value;
  }
  const [op, arg] = Object.entries(rule)[0] ?? [];
  switch (op) {
    case 'prefix':
      if (typeof value !== 'string') return false;
      if (isObject(arg)) return value.toLowerCase().startsWith(String(arg['equals-ignore-case']).toLowerCase());
      return value.startsWith(String(arg));
    case 'suffix':
      if (typeof value !== 'string') return false;
      if (isObject(arg)) return value.toLowerCase().endsWith(String(arg['equals-ignore-case']).toLowerCase());
      return value.endsWith(String(arg));
    case 'equals-ignore-case':
      return typeof value === 'string' && value.toLowerCase() === String(arg).toLowerCase();
    case 'wildcard':
      return typeof value === 'string' && wildcardToRegExp(String(arg)).test(value);
    case 'numeric':
      return numericMatch(arg as Json[], value);
    case 'anything-but': {
      if (value === undefined) return false;
      if (Array.isArray(arg)) return !arg.some((a) => scalarMatch(a, value));
      if (isObject(arg)) return !scalarMatch(arg, value);
      return !scalarMatch(arg as Json, value);
    }
    default:
      throw new UnsupportedPattern(`content filter ${String(op)}`);
  }
}

/** A leaf: an array of rules, any of which may match the value (or any element of an array value). */
function leafMatch(rules: Json[], value: Json | undefined): boolean {
  for (const rule of rules) {
    if (isObject(rule) && 'exists' in rule) {
      const present = value !== undefined && !(Array.isArray(value) && value.length === 0);
      if (rule.exists === present) return true;
      continue;
    }
    if (Array.isArray(value) ? value.some((v) => scalarMatch(rule, v)) : scalarMatch(rule, value)) return true;
  }
  return false;
}

export function matchesPattern(pattern: Record<string, unknown>, event: unknown): boolean {
  return matchObject(pattern as Record<string, Json>, (isObject(event) ? event : {}) as Record<string, Json>);
}

function matchObject(pattern: Record<string, Json>, event: Record<string, Json>): boolean {
  for (const [key, rule] of Object.entries(pattern)) {
    if (key === '$or') {
      if (!(rule as Record<string, Json>[]).some((alt) => matchObject(alt, event))) return false;
      continue;
    }
    const value = event?.[key];
    if (Array.isArray(rule)) {
      if (!leafMatch(rule, value)) return false;
    } else if (isObject(rule)) {
      if (!isObject(value) && !Object.values(rule).some((r) => Array.isArray(r) && r.some((x) => isObject(x) && x.exists === false)))
        return false;
      if (!matchObject(rule, (isObject(value) ? value : {}) as Record<string, Json>)) return false;
    } else {
      throw new UnsupportedPattern(`pattern value at ${key} must be an array or an object`);
    }
  }
  return true;
}
