import type { Impact, Names } from './api.js';

/** X4 in the preview: what an export would hold, from an effects page and its names (pure; export-estimate.tsx). */
export interface ArchiveCount {
  files: number;
  bytes: number;
}

/** X4, F3: whether the export holds this file (functions/domain/export.ts `isOrganizationsFile`). */
export function inArchive(fileId: string, names: Names, organizationId: string): boolean {
  const file = names.files?.[fileId];
  if (!file) return false; // gone since the preview: nothing left to export
  if (file.ownerOrganizationId) return file.ownerOrganizationId === organizationId;
  return file.uploaderId !== undefined && names.users?.[file.uploaderId]?.organizationId === organizationId;
}

/** The files and bytes of one effects page that the archive would hold. */
export function countPage(effects: Impact['effects'], names: Names, organizationId: string): ArchiveCount {
  const ids = effects.filter((e) => e.kind === 'file-deleted').map((e) => String(e.fileId));
  const kept = ids.filter((id) => inArchive(id, names, organizationId));
  return { files: kept.length, bytes: kept.reduce((n, id) => n + (names.files?.[id]?.size ?? 0), 0) };
}
