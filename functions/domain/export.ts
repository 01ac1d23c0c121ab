/** X4: which files an export holds, and under which readable names. Pure: no AWS types here. */
import type { FileRecord, User } from './model.js';

/**
 * X4 (F3's notion of the organization's files): a file the organization owns, or one a member of it uploaded that
 * no other organization owns. Files of other organizations' users are never exported.
 */
export function isOrganizationsFile(
  file: Pick<FileRecord, 'ownerOrganizationId'>,
  uploader: Pick<User, 'organizationId'> | undefined,
  organizationId: string,
): boolean {
  if (file.ownerOrganizationId) return file.ownerOrganizationId === organizationId;
  return uploader?.organizationId === organizationId;
}

/** A name safe in every unzip tool: no path separators, control characters or leading dots; at most 120 characters. */
export function safeName(name: string): string {
  const cleaned = name
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f/\\:*?"<>|]/g, '_')
    .replace(/^\.+/, '_')
    .trim();
  return (cleaned || '_').slice(0, 120);
}

/**
 * Readable, unique paths in the archive: `chat name/file name`, a second file of the same name in the same chat
 * as `file name (2).ext`, and so on. The same list in the same order gives the same paths.
 */
export function archivePaths(files: readonly { chatLabel: string; name: string }[]): string[] {
  const used = new Set<string>();
  return files.map(({ chatLabel, name }) => {
    const dir = safeName(chatLabel);
    const file = safeName(name);
    const dot = file.lastIndexOf('.');
    const [stem, ext] = dot > 0 ? [file.slice(0, dot), file.slice(dot)] : [file, ''];
    let path = `${dir}/${file}`;
    for (let n = 2; used.has(path.toLowerCase()) || path === 'manifest.json'; n++) path = `${dir}/${stem} (${n})${ext}`;
    used.add(path.toLowerCase());
    return path;
  });
}
