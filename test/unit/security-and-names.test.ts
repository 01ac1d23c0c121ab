import { describe, expect, it } from 'vitest';
import { displayName, requesterName } from '../../functions/domain/display-names.js';
import { inheritedExemptions } from '../../functions/domain/security.js';
import { org } from './world-builder.js';

describe('T6 — security inheritance (reading: exemptions stay ON where the destination forbids, to keep data and contacts)', () => {
  it('T6: both exemptions are OFF in a destination that forbids nothing', () => {
    expect(inheritedExemptions(org('C'))).toEqual({ allowOutsideCommunication: false, allowFileSharing: false });
  });
  it('T6: allowOutsideCommunication stays ON when the destination restricts outside communication', () => {
    expect(inheritedExemptions(org('D', { restrictOutsideCommunication: true }))).toEqual({
      allowOutsideCommunication: true,
      allowFileSharing: false,
    });
  });
  it('T6: allowFileSharing stays ON when the destination disallows file sharing', () => {
    expect(inheritedExemptions(org('D', { disallowFileSharing: true }))).toEqual({
      allowOutsideCommunication: false,
      allowFileSharing: true,
    });
  });
});

describe('D2 — names as shown after deletion', () => {
  it('D2: an active user shows by name', () => {
    expect(displayName({ name: 'Akira', status: 'active' })).toBe('Akira');
  });
  it('D2: a user deleted on or after 2016-03-09 (Japan) shows as "Name (cancelled)"', () => {
    expect(displayName({ name: 'Akira', status: 'deleted', deletedAt: '2016-03-09T00:00:00Z' })).toBe('Akira (cancelled)');
    expect(displayName({ name: 'Akira', status: 'deleted', deletedAt: '2026-11-21T00:00:00Z' })).toBe('Akira (cancelled)');
  });
  it('D2: a user deleted before 2016-03-09 (Japan) shows as "Cancelled user"', () => {
    expect(displayName({ name: 'Akira', status: 'deleted', deletedAt: '2015-06-01T09:00:00Z' })).toBe('Cancelled user');
    expect(displayName({ name: 'Akira', status: 'deleted', deletedAt: '2016-03-08T14:59:59Z' })).toBe('Cancelled user');
  });
  it('D2 reading: the cut-off is Japan\u2019s date, 2016-03-09T00:00+09:00: 16:00Z on 8 March is already the 9th in Japan, 14:59Z is not', () => {
    expect(displayName({ name: 'Akira', status: 'deleted', deletedAt: '2016-03-08T16:00:00Z' })).toBe('Akira (cancelled)');
    expect(displayName({ name: 'Akira', status: 'deleted', deletedAt: '2016-03-08T15:00:00Z' })).toBe('Akira (cancelled)');
    expect(displayName({ name: 'Akira', status: 'deleted', deletedAt: '2016-03-09T08:59:59+09:00' })).toBe('Akira (cancelled)');
    expect(displayName({ name: 'Akira', status: 'deleted', deletedAt: '2016-03-08T14:59:00Z' })).toBe('Cancelled user');
    expect(displayName({ name: 'Akira', status: 'deleted', deletedAt: '2016-03-08T23:59:59+09:00' })).toBe('Cancelled user');
  });
  it('D6: a deleted requester shows as "Name (cancelled)" on kept tasks, whenever deleted', () => {
    expect(requesterName({ name: 'Akira', status: 'deleted' })).toBe('Akira (cancelled)');
    expect(requesterName({ name: 'Akira', status: 'active' })).toBe('Akira');
  });
});
