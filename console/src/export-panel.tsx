import { useEffect, useState } from 'preact/hooks';
import type { ExportState, Operation, OperationKind } from './api.js';
import { ErrorPanel } from './components.js';
import { useApp } from './context.js';
import { formatDate, formatNumber, type Lang } from './i18n/index.js';

/** X4 on an operation requested with an export: its state, and while ready, the download (each link is audited). */
const en = {
  title: 'Export of the files (X4)',
  preparing: (files: string) => `Preparing the archive… ${files} files so far. Nothing is deleted before it is complete and verified.`,
  ready: (files: string, bytes: string, until: string) => `${files} files (${bytes} bytes), verified. Available until ${until}.`,
  expired: 'The archive was deleted after 7 days.',
  download: 'Download the archive',
  downloadPart: (n: number) => `Download part ${n}`,
  check: 'Check again',
};
type Words = typeof en;
const ja: Words = {
  title: 'ファイルのエクスポート（X4）',
  preparing: (files) => `アーカイブを準備しています… これまでに ${files} 件。完成して検証されるまで何も削除されません。`,
  ready: (files, bytes, until) => `${files} 件のファイル（${bytes} バイト）、検証済み。${until} までダウンロードできます。`,
  expired: 'アーカイブは7日後に削除されました。',
  download: 'アーカイブをダウンロード',
  downloadPart: (n) => `パート ${n} をダウンロード`,
  check: 'もう一度確認',
};
const vi: Words = {
  title: 'Xuất tệp (X4)',
  preparing: (files) => `Đang chuẩn bị kho lưu trữ… đã có ${files} tệp. Không có gì bị xóa trước khi nó hoàn tất và được kiểm tra.`,
  ready: (files, bytes, until) => `${files} tệp (${bytes} byte), đã kiểm tra. Có thể tải đến ${until}.`,
  expired: 'Kho lưu trữ đã bị xóa sau 7 ngày.',
  download: 'Tải kho lưu trữ',
  downloadPart: (n) => `Tải phần ${n}`,
  check: 'Kiểm tra lại',
};
export const EXPORT_WORDS: Record<Lang, Words> = { en, ja, vi };

export function ExportPanel({ op, kind }: { op: Operation; kind: OperationKind }) {
  const { t, lang, api } = useApp();
  const w = EXPORT_WORDS[lang];
  const [state, setState] = useState<ExportState>();
  const [error, setError] = useState<unknown>();
  const load = () => api.exportOf(kind, op.id).then(setState, setError);
  // read once the run is past its export (a link is handed out, and audited, only when asked for)
  useEffect(() => void load(), [op.id, op.status]);
  if (!op.export) return null;
  return (
    <section class="card" aria-labelledby="export-title">
      <h2 id="export-title">{w.title}</h2>
      {state?.status === 'preparing' && <p role="status">{w.preparing(formatNumber(lang, state.files))}</p>}
      {state?.status === 'ready' && (
        <>
          <p>{w.ready(formatNumber(lang, state.files), formatNumber(lang, state.bytes), formatDate(lang, state.expiresAt ?? ''))}</p>
          <div class="actions">
            {(state.parts ?? [{ url: state.url }]).map((p, i, all) => (
              <a class="button" href={p.url} download>
                {all.length > 1 ? w.downloadPart(i + 1) : w.download}
              </a>
            ))}
          </div>
        </>
      )}
      {state?.status === 'expired' && <p>{w.expired}</p>}
      {state?.status === 'preparing' && (
        <button class="secondary" onClick={load}>
          {w.check}
        </button>
      )}
      {error !== undefined && <ErrorPanel t={t} lang={lang} error={error} />}
    </section>
  );
}
