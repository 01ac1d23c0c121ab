import { describe, expect, it } from 'vitest';
import { deletionIneligibility, planPairAllowed, transferIneligibility } from '../../functions/domain/eligibility.js';
import { PLANS } from '../../functions/domain/model.js';
import { comm, org, user } from './world-builder.js';

describe('T1 — allowed plan pairs', () => {
  const allowed = [
    'business>business',
    'business>enterprise',
    'enterprise>enterprise',
    'business>kddi-chatwork',
    'kddi-chatwork>kddi-chatwork',
  ];
  for (const source of PLANS) {
    for (const destination of PLANS) {
      const expected = allowed.includes(`${source}>${destination}`);
      it(`T1: ${source} → ${destination} is ${expected ? 'allowed' : 'refused'}`, () => {
        expect(planPairAllowed(source, destination)).toBe(expected);
      });
    }
  }

  it('T1: a refused pair is reported with rule T1', () => {
    const A = org('A', { plan: 'enterprise' });
    const B = org('B', { plan: 'business' });
    const reasons = transferIneligibility(comm([A, B]), user('a1', 'A'), A, B);
    expect(reasons.map((r) => r.rule)).toEqual(['T1']);
  });
});

describe('T2 — outside-communication settings (reading: the Japanese original, either side ON needs the allowance)', () => {
  const cases: [boolean, boolean, boolean, boolean][] = [
    // sourceRestricts, destinationRestricts, allowance, eligible
    [false, false, false, true],
    [true, true, true, true],
    [true, true, false, false],
    [true, false, false, false], // the English text would allow this; the stricter Japanese reading refuses it
    [false, true, false, false],
    [true, false, true, true],
    [false, true, true, true],
  ];
  for (const [s, d, allowance, eligible] of cases) {
    it(`T2: source ${s ? 'ON' : 'OFF'}, destination ${d ? 'ON' : 'OFF'}, allowance ${allowance ? 'ON' : 'OFF'} → ${eligible ? 'eligible' : 'refused'}`, () => {
      const A = org('A', { restrictOutsideCommunication: s });
      const B = org('B', { restrictOutsideCommunication: d });
      const reasons = transferIneligibility(comm([A, B], allowance ? [['A', 'B']] : []), user('a1', 'A'), A, B);
      expect(reasons.map((r) => r.rule)).toEqual(eligible ? [] : ['T2']);
    });
  }
});

describe('T5 — who can be transferred', () => {
  const A = org('A');
  const B = org('B');
  it('T5: an organization administrator cannot be transferred', () => {
    expect(transferIneligibility(comm([A, B]), user('x', 'A', { orgAdmin: true }), A, B).map((r) => r.rule)).toEqual(['T5']);
  });
  it('T5: a deleted user cannot be transferred', () => {
    expect(transferIneligibility(comm([A, B]), user('x', 'A', { status: 'deleted' }), A, B).map((r) => r.rule)).toContain('T5');
  });
  it('T5: source and destination must differ', () => {
    expect(transferIneligibility(comm([A]), user('x', 'A'), A, A).map((r) => r.rule)).toContain('T5');
  });
  it('T5: a user without an organization has nothing to transfer from', () => {
    expect(transferIneligibility(comm([B]), user('p', null), undefined, B).map((r) => r.rule)).toEqual(['T5']);
  });
  it('every reason is reported, each with its rule', () => {
    const F = org('F', { plan: 'free', restrictOutsideCommunication: true });
    const rules = transferIneligibility(comm([A, F]), user('x', 'A', { orgAdmin: true }), A, F).map((r) => r.rule);
    expect(rules).toEqual(['T5', 'T1', 'T2']);
  });
});

describe('D1 — who can be deleted', () => {
  it('D1: the last administrator of an organization cannot be deleted', () => {
    const admin = user('adm', 'A', { orgAdmin: true });
    expect(deletionIneligibility(admin, [admin]).map((r) => r.rule)).toEqual(['D1']);
  });
  it('D1: an administrator with another active administrator can be deleted', () => {
    const admin = user('adm', 'A', { orgAdmin: true });
    expect(deletionIneligibility(admin, [admin, user('adm2', 'A', { orgAdmin: true })])).toEqual([]);
  });
  it('D1: a deleted administrator does not count as another administrator', () => {
    const admin = user('adm', 'A', { orgAdmin: true });
    expect(deletionIneligibility(admin, [admin, user('adm2', 'A', { orgAdmin: true, status: 'deleted' })]).map((r) => r.rule)).toEqual([
      'D1',
    ]);
  });
  it('D1: a user already deleted is refused', () => {
    expect(deletionIneligibility(user('x', 'A', { status: 'deleted' }), []).map((r) => r.rule)).toEqual(['D1']);
  });
  it('D1: a member can be deleted', () => {
    expect(deletionIneligibility(user('x', 'A'), [user('adm', 'A', { orgAdmin: true })])).toEqual([]);
  });
});
