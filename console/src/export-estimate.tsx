import { useEffect, useState } from 'preact/hooks';
import type { Impact } from './api.js';
import { countPage, type ArchiveCount } from './export-count.js';
import { ErrorPanel } from './components.js';
import { useApp } from './context.js';
import { formatNumber, type Lang } from './i18n/index.js';

/**
 * X4 in the preview: what an export requested with this plan would hold, counted from the preview's own effects
 * pages (CONTRACT.md's preview has no export field): its file-deleted effects, each kept when the organization owns
 * the file or one of its members uploaded it and no other organization owns it (F3's notion, as
 * functions/domain/export.ts decides it at run time), with the file's size as the effects page names it.
 */
const en = {
  counting: (files: string) => `Counting the archive… ${files} files so far.`,
  holds: (files: string, bytes: string, deleted: string) =>
    `The archive will hold ${files} files (${bytes} bytes): the organization's among the ${deleted} files this deletes. Nothing is deleted before it is written and verified.`,
  none: 'The archive will hold no file: nothing this deletes belongs to the organization.',
};
type Words = typeof en;
const ja: Words = {
  counting: (files) => `アーカイブの内容を数えています… これまでに ${files} 件。`,
  holds: (files, bytes, deleted) =>
    `アーカイブには ${files} 件のファイル（${bytes} バイト）が入ります。これは削除される ${deleted} 件のうち組織のファイルです。書き出して検証するまで何も削除されません。`,
  none: 'アーカイブに入るファイルはありません。削除されるもので組織のものはありません。',
};
const vi: Words = {
  counting: (files) => `Đang đếm kho lưu trữ… đã có ${files} tệp.`,
  holds: (files, bytes, deleted) =>
    `Kho lưu trữ sẽ chứa ${files} tệp (${bytes} byte): các tệp của tổ chức trong ${deleted} tệp bị xóa. Không có gì bị xóa trước khi nó được ghi và kiểm tra.`,
  none: 'Kho lưu trữ sẽ không chứa tệp nào: không có gì bị xóa thuộc về tổ chức.',
};
export const EXPORT_ESTIMATE_WORDS: Record<Lang, Words> = { en, ja, vi };

/**
 * Reads the preview's effects pages (`source`: `previews/ID`) until every file-deleted effect of the summary was
 * seen (effects come sorted by kind, so the pages after them are not read), and says what the archive would hold.
 */
export function ExportEstimate({ impact, source, organizationId }: { impact: Impact; source: string; organizationId: string }) {
  const { t, lang, api } = useApp();
  const w = EXPORT_ESTIMATE_WORDS[lang];
  const deleted = impact.summary.filter((r) => r.kind === 'file-deleted').reduce((n, r) => n + r.count, 0);
  const [count, setCount] = useState<ArchiveCount & { done: boolean }>({ files: 0, bytes: 0, done: deleted === 0 });
  const [error, setError] = useState<unknown>();

  useEffect(() => {
    let stopped = false;
    const total = { files: 0, bytes: 0 };
    let seen = 0;
    const read = async (cursor?: string) => {
      const page = await api.effects(source, cursor);
      const c = countPage(page.effects, page.names ?? {}, organizationId);
      total.files += c.files;
      total.bytes += c.bytes;
      seen += page.effects.filter((e) => e.kind === 'file-deleted').length;
      const done = seen >= deleted || !page.nextCursor;
      if (stopped) return;
      setCount({ ...total, done });
      if (!done) await read(page.nextCursor);
    };
    if (deleted > 0) read().catch(setError);
    return () => {
      stopped = true;
    };
  }, [source, organizationId]);

  if (error !== undefined) return <ErrorPanel t={t} lang={lang} error={error} />;
  const n = (x: number) => formatNumber(lang, x);
  return (
    <p
      class="export-estimate"
      role="status"
      data-files={count.done ? count.files : undefined}
      data-bytes={count.done ? count.bytes : undefined}
    >
      {!count.done ? w.counting(n(count.files)) : count.files === 0 ? w.none : w.holds(n(count.files), n(count.bytes), n(deleted))}
    </p>
  );
}
