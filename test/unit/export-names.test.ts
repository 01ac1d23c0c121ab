import { describe, expect, it } from 'vitest';
import { archivePaths, isOrganizationsFile, safeName } from '../../functions/domain/export.js';

describe('X4 — which files an export holds, under which names', () => {
  it("X4, F3: the organization's files are those it owns or a member of it uploaded that no other organization owns", () => {
    expect(isOrganizationsFile({ ownerOrganizationId: null }, { organizationId: 'A' }, 'A')).toBe(true);
    expect(isOrganizationsFile({ ownerOrganizationId: 'A' }, { organizationId: 'B' }, 'A')).toBe(true); // handed over to A (F1)
    expect(isOrganizationsFile({ ownerOrganizationId: 'C' }, { organizationId: 'A' }, 'A')).toBe(false); // handed over to another
    expect(isOrganizationsFile({ ownerOrganizationId: null }, { organizationId: 'B' }, 'A')).toBe(false); // another organization's user
    expect(isOrganizationsFile({ ownerOrganizationId: null }, undefined, 'A')).toBe(false);
  });

  it('X4: readable paths, chat name / file name, unique whatever the names hold', () => {
    const paths = archivePaths([
      { chatLabel: 'Launch A+B', name: 'plan.pdf' },
      { chatLabel: 'Launch A+B', name: 'PLAN.pdf' },
      { chatLabel: 'Launch A+B', name: 'plan.pdf' },
      { chatLabel: '../etc', name: '/passwd' },
      { chatLabel: 'a/b\\c', name: 'x:y?.txt' },
      { chatLabel: 'Notes', name: '' },
    ]);
    expect(paths).toEqual([
      'Launch A+B/plan.pdf',
      'Launch A+B/PLAN (2).pdf',
      'Launch A+B/plan (3).pdf',
      '__etc/_passwd',
      'a_b_c/x_y_.txt',
      'Notes/_',
    ]);
    expect(new Set(paths.map((p) => p.toLowerCase())).size).toBe(paths.length);
    expect(safeName('x'.repeat(300))).toHaveLength(120);
  });
});
