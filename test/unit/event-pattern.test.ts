import { beforeAll, describe, expect, it } from 'vitest';
import { matchesPattern, UnsupportedPattern } from '../../local/event-pattern.js';
import { synthesize } from '../infra/template.js';

const event = (detailType: string, detail: unknown, source = 'billing') => ({
  version: '0',
  id: 'e1',
  'detail-type': detailType,
  source,
  account: '000000000000',
  time: '2026-11-21T00:00:00Z',
  region: 'us-east-1',
  resources: [],
  detail,
});

describe('the billing rules’ patterns, as synthesized', () => {
  let patterns: Record<string, any>;
  beforeAll(() => {
    const rules = synthesize().findResources('AWS::Events::Rule');
    patterns = Object.fromEntries(
      Object.values<any>(rules)
        .filter((r) => r.Properties.EventPattern) // the outbox sweeper's rule runs on a schedule
        .map((r) => [r.Properties.EventPattern['detail-type'][0], r.Properties.EventPattern]),
    );
  });

  it('one rule per CONTRACT.md detail-type, each on source "billing"', () => {
    expect(Object.keys(patterns).sort()).toEqual(['Contract Cancelled', 'Contract Reinstated', 'Plan Changed', 'Seats Changed']);
    for (const p of Object.values(patterns)) expect(p.source).toEqual(['billing']);
  });
  it('B1: "Contract Cancelled" matches its rule only', () => {
    const e = event('Contract Cancelled', { organizationId: 'B' });
    expect(matchesPattern(patterns['Contract Cancelled'], e)).toBe(true);
    expect(matchesPattern(patterns['Seats Changed'], e)).toBe(false);
    expect(matchesPattern(patterns['Plan Changed'], e)).toBe(false);
  });
  it('B2: "Seats Changed" matches its rule, whatever the detail (the target validates and dead-letters bad ones)', () => {
    expect(matchesPattern(patterns['Seats Changed'], event('Seats Changed', { organizationId: 'D', seats: 5 }))).toBe(true);
    expect(matchesPattern(patterns['Seats Changed'], event('Seats Changed', { seats: 'many' }))).toBe(true);
  });
  it('B4: "Contract Reinstated" matches its rule only', () => {
    const e = event('Contract Reinstated', { organizationId: 'B' });
    expect(matchesPattern(patterns['Contract Reinstated'], e)).toBe(true);
    expect(matchesPattern(patterns['Contract Cancelled'], e)).toBe(false);
  });
  it('B3: "Plan Changed" matches its rule', () => {
    expect(matchesPattern(patterns['Plan Changed'], event('Plan Changed', { organizationId: 'D', plan: 'business' }))).toBe(true);
  });
  it('another source, another detail-type, or a different case does not match', () => {
    expect(matchesPattern(patterns['Plan Changed'], event('Plan Changed', {}, 'payments'))).toBe(false);
    expect(matchesPattern(patterns['Plan Changed'], event('plan changed', {}))).toBe(false);
    expect(matchesPattern(patterns['Plan Changed'], event('Plan Changed Later', {}))).toBe(false);
    expect(matchesPattern(patterns['Plan Changed'], { 'detail-type': 'Plan Changed' })).toBe(false);
  });
});

describe('content filters', () => {
  const e = { source: 'billing', detail: { organizationId: 'org-42', seats: 12, tags: ['a', 'b'], plan: 'Business' } };
  it('exact values, arrays of values and array-valued fields', () => {
    expect(matchesPattern({ detail: { seats: [12] } }, e)).toBe(true);
    expect(matchesPattern({ detail: { seats: ['12'] } }, e)).toBe(false);
    expect(matchesPattern({ detail: { tags: ['b'] } }, e)).toBe(true);
    expect(matchesPattern({ detail: { tags: ['c'] } }, e)).toBe(false);
  });
  it('prefix, suffix, equals-ignore-case, wildcard', () => {
    expect(matchesPattern({ detail: { organizationId: [{ prefix: 'org-' }] } }, e)).toBe(true);
    expect(matchesPattern({ detail: { organizationId: [{ suffix: '-42' }] } }, e)).toBe(true);
    expect(matchesPattern({ detail: { organizationId: [{ suffix: '-43' }] } }, e)).toBe(false);
    expect(matchesPattern({ detail: { plan: [{ 'equals-ignore-case': 'business' }] } }, e)).toBe(true);
    expect(matchesPattern({ detail: { organizationId: [{ wildcard: 'org-*2' }] } }, e)).toBe(true);
    expect(matchesPattern({ detail: { organizationId: [{ wildcard: 'org-*3' }] } }, e)).toBe(false);
  });
  it('anything-but with a value, a list and a prefix', () => {
    expect(matchesPattern({ detail: { plan: [{ 'anything-but': 'Free' }] } }, e)).toBe(true);
    expect(matchesPattern({ detail: { plan: [{ 'anything-but': ['Business', 'Free'] }] } }, e)).toBe(false);
    expect(matchesPattern({ detail: { organizationId: [{ 'anything-but': { prefix: 'org-' } }] } }, e)).toBe(false);
  });
  it('numeric ranges and exists', () => {
    expect(matchesPattern({ detail: { seats: [{ numeric: ['>', 10, '<=', 12] }] } }, e)).toBe(true);
    expect(matchesPattern({ detail: { seats: [{ numeric: ['>', 12] }] } }, e)).toBe(false);
    expect(matchesPattern({ detail: { seats: [{ exists: true }] } }, e)).toBe(true);
    expect(matchesPattern({ detail: { missing: [{ exists: false }] } }, e)).toBe(true);
    expect(matchesPattern({ detail: { missing: [{ exists: true }] } }, e)).toBe(false);
  });
  it('$or', () => {
    expect(matchesPattern({ $or: [{ detail: { seats: [1] } }, { detail: { plan: ['Business'] } }] }, e)).toBe(true);
    expect(matchesPattern({ $or: [{ detail: { seats: [1] } }, { detail: { plan: ['Free'] } }] }, e)).toBe(false);
  });
  it('a filter it does not implement is refused, never guessed', () => {
    expect(() => matchesPattern({ detail: { ip: [{ cidr: '10.0.0.0/24' }] } }, { detail: { ip: '10.0.0.1' } })).toThrow(UnsupportedPattern);
  });
});
