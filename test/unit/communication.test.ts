import { describe, expect, it } from 'vitest';
import { mayCommunicate } from '../../functions/domain/communication.js';
import { comm, org, user } from './world-builder.js';

describe('C — who may communicate', () => {
  const A = org('A');
  const B = org('B', { restrictOutsideCommunication: true });
  const C = org('C');
  const R = org('R', { restrictOutsideCommunication: true });

  it('C1: two users of the same organization may always communicate, even when it restricts', () => {
    expect(mayCommunicate(comm([B]), user('b1', 'B'), user('b2', 'B'))).toBe(true);
  });

  it('C2: users of two unrestricted organizations may communicate', () => {
    expect(mayCommunicate(comm([A, C]), user('a1', 'A'), user('c1', 'C'))).toBe(true);
  });

  it('C2: a restricting side without exemption or allowance blocks', () => {
    expect(mayCommunicate(comm([B, C]), user('b1', 'B'), user('c1', 'C'))).toBe(false);
    expect(mayCommunicate(comm([B, C]), user('c1', 'C'), user('b1', 'B'))).toBe(false);
  });

  it('C2: the individual allowOutsideCommunication exemption clears that side', () => {
    expect(mayCommunicate(comm([B, C]), user('b1', 'B', { allowOutsideCommunication: true }), user('c1', 'C'))).toBe(true);
  });

  it('C2: an outside allowance between the two organizations clears both sides', () => {
    expect(mayCommunicate(comm([B, R], [['B', 'R']]), user('b1', 'B'), user('r1', 'R'))).toBe(true);
  });

  it('C2: both sides must be cleared: one exemption is not enough when the other side restricts too', () => {
    expect(mayCommunicate(comm([B, R]), user('b1', 'B', { allowOutsideCommunication: true }), user('r1', 'R'))).toBe(false);
    expect(
      mayCommunicate(
        comm([B, R]),
        user('b1', 'B', { allowOutsideCommunication: true }),
        user('r1', 'R', { allowOutsideCommunication: true }),
      ),
    ).toBe(true);
  });

  it('C2: a user without an organization never restricts, but the other side still must be cleared', () => {
    expect(mayCommunicate(comm([A]), user('p1', null), user('a1', 'A'))).toBe(true);
    expect(mayCommunicate(comm([B]), user('p1', null), user('b1', 'B'))).toBe(false);
    expect(mayCommunicate(comm([]), user('p1', null), user('p2', null))).toBe(true);
  });
});
