import { useEffect, useState } from 'preact/hooks';
import { isPlanning, type Impact, type Member, type Names } from './api.js';
import { describeEffect, labels } from './describe.js';
import { ErrorPanel } from './components.js';
import { ExportEstimate } from './export-estimate.js';
import { useApp } from './context.js';
import { formatNumber, type Lang } from './i18n/index.js';
import { usePlannedPreview } from './polling.js';

/**
 * X3 (and X4 on the request): on a preview without a successor, a picker among the organization's members; once one
 * is chosen, the same preview with that successor, side by side with the first ("1,204 files deleted" → "3 files
 * deleted, 1,201 handed over to Company A"), and the request with the successor (and, optionally, an export).
 * Its strings are here, typed by the English ones, so the console's main dictionaries stay as they are.
 */
const en = {
  title: 'Keep what the organization wants to keep (X3)',
  intro:
    "Choose a successor: a member of the organization who joins the user's group chats before the user leaves them, so the files there are handed over to the organization instead of deleted, and the user's tasks there are reassigned.",
  pick: 'Successor',
  pickNone: 'No successor',
  loading: 'Comparing…',
  without: 'Without a successor',
  withSuccessor: (name: string) => `With ${name} as successor`,
  files: (deleted: string, handed: string, org: string) => `${deleted} files deleted, ${handed} handed over to ${org}`,
  chats: (deleted: string, joined: string) => `${deleted} chats deleted, ${joined} joined by the successor`,
  admins: (n: string) => `${n} administrator hand-overs`,
  tasks: (deleted: string, reassigned: string) => `${deleted} tasks deleted, ${reassigned} reassigned`,
  exportLabel: "Export the organization's files into an archive before anything is deleted (X4)",
  request: 'Request with this successor',
  successorChanges: 'What the successor takes over (X3)',
  more: (n: string) => `and ${n} more`,
};
type Words = typeof en;
const ja: Words = {
  title: '組織が残したいものを残す（X3）',
  intro:
    '後任者を選びます。後任者はユーザーが退出する前にユーザーのグループチャットに参加するので、そこにあるファイルは削除されずに組織に引き継がれ、そこにあるユーザーのタスクは後任者に割り当て直されます。',
  pick: '後任者',
  pickNone: '後任者なし',
  loading: '比較しています…',
  without: '後任者なし',
  withSuccessor: (name) => `${name} を後任者にした場合`,
  files: (deleted, handed, org) => `ファイル ${deleted} 件を削除、${handed} 件を ${org} に引き継ぎ`,
  chats: (deleted, joined) => `チャット ${deleted} 件を削除、${joined} 件に後任者が参加`,
  admins: (n) => `管理者の引き継ぎ ${n} 件`,
  tasks: (deleted, reassigned) => `タスク ${deleted} 件を削除、${reassigned} 件を割り当て直し`,
  exportLabel: '何かを削除する前に、組織のファイルをアーカイブに書き出す（X4）',
  request: 'この後任者で申請する',
  successorChanges: '後任者が引き継ぐもの（X3）',
  more: (n) => `ほか ${n} 件`,
};
const vi: Words = {
  title: 'Giữ lại những gì tổ chức muốn giữ (X3)',
  intro:
    'Chọn người kế nhiệm: một thành viên của tổ chức tham gia các nhóm chat của người dùng trước khi người dùng rời đi, để các tệp ở đó được chuyển cho tổ chức thay vì bị xóa, và các nhiệm vụ của người dùng ở đó được giao lại.',
  pick: 'Người kế nhiệm',
  pickNone: 'Không có người kế nhiệm',
  loading: 'Đang so sánh…',
  without: 'Không có người kế nhiệm',
  withSuccessor: (name) => `Với ${name} là người kế nhiệm`,
  files: (deleted, handed, org) => `${deleted} tệp bị xóa, ${handed} tệp chuyển cho ${org}`,
  chats: (deleted, joined) => `${deleted} chat bị xóa, người kế nhiệm tham gia ${joined} chat`,
  admins: (n) => `${n} lần trao quyền quản trị`,
  tasks: (deleted, reassigned) => `${deleted} nhiệm vụ bị xóa, ${reassigned} nhiệm vụ được giao lại`,
  exportLabel: 'Xuất các tệp của tổ chức vào một kho lưu trữ trước khi xóa bất cứ thứ gì (X4)',
  request: 'Yêu cầu với người kế nhiệm này',
  successorChanges: 'Những gì người kế nhiệm tiếp nhận (X3)',
  more: (n) => `và ${n} mục khác`,
};
export const SUCCESSOR_WORDS: Record<Lang, Words> = { en, ja, vi };

const count = (impact: Impact, kind: string) => impact.summary.filter((r) => r.kind === kind).reduce((n, r) => n + r.count, 0);

/** The counts a successor changes, in words, for one impact. */
function Counts({ impact, lang, org }: { impact: Impact; lang: Lang; org: string }) {
  const w = SUCCESSOR_WORDS[lang];
  const n = (kind: string) => formatNumber(lang, count(impact, kind));
  return (
    <ul class="successor-counts">
      <li data-count="files">{w.files(n('file-deleted'), n('file-handed-over'), org)}</li>
      <li data-count="chats">{w.chats(n('chat-deleted'), n('chat-joined'))}</li>
      <li data-count="admins">{w.admins(n('admin-granted'))}</li>
      <li data-count="tasks">{w.tasks(n('task-deleted'), n('task-reassigned'))}</li>
    </ul>
  );
}

const X3_KINDS = ['chat-joined', 'task-reassigned'];

/** X3: each chat the successor joins and task it takes, in words, from the preview's first effects page. */
function SuccessorEffects({ impact }: { impact: Impact }) {
  const { t, lang, api, orgNames } = useApp();
  const w = SUCCESSOR_WORDS[lang];
  const [page, setPage] = useState<{ effects: Impact['effects']; names: Names }>();
  useEffect(() => {
    if (impact.id)
      api.effects(`previews/${encodeURIComponent(impact.id)}`).then(
        (p) => setPage({ effects: p.effects, names: p.names ?? {} }),
        () => undefined,
      );
  }, [impact.id]);
  const effects = (page?.effects ?? impact.effects).filter((e) => X3_KINDS.includes(e.kind));
  const total = count(impact, 'chat-joined') + count(impact, 'task-reassigned');
  if (total === 0) return null;
  const l = labels(t, page?.names ?? {}, orgNames, impact.userId);
  return (
    <div class="successor-effects">
      <h3>{w.successorChanges}</h3>
      <ul>
        {effects.map((e) => (
          <li data-kind={e.kind}>
            {describeEffect(t, l, e, impact.userId)} <span class="rule-id">{e.rule}</span>
          </li>
        ))}
        {total > effects.length && <li class="muted">{w.more(formatNumber(lang, total - effects.length))}</li>}
      </ul>
    </div>
  );
}

/** Shown under a preview made without a successor. */
export function SuccessorPanel({ impact, destinationOrganizationId }: { impact: Impact; destinationOrganizationId?: string }) {
  const { t, lang, api, me, orgNames, navigate } = useApp();
  const w = SUCCESSOR_WORDS[lang];
  const org = me.administers.find((o) => o === me.organizationId) ?? me.administers[0] ?? '';
  const [members, setMembers] = useState<Member[]>([]);
  const [successorId, setSuccessorId] = useState('');
  const [exportFiles, setExportFiles] = useState(false);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (org)
      api
        .members(org, '', undefined, 100)
        .then((page) => setMembers(page.members.filter((m) => m.userId !== impact.userId && m.status === 'active')), setError);
  }, [org, impact.userId]);
  // the preview with the successor: answered 202 `planning` for a large user (CONTRACT.md), read until it is ready
  const ask = () =>
    impact.operation === 'transfer'
      ? api.previewTransfer(impact.userId, destinationOrganizationId ?? '', successorId)
      : api.previewDeletion(impact.userId, successorId);
  const compared = usePlannedPreview(successorId ? ask : undefined, api.preview, isPlanning, [successorId]);
  const withSuccessor = compared.answer && !isPlanning(compared.answer) ? compared.answer : undefined;
  const shownError = error ?? compared.error;

  const request = async () => {
    if (!withSuccessor) return;
    setBusy(true);
    try {
      const options = { successorId, ...(exportFiles ? { export: true } : {}) };
      const op =
        impact.operation === 'transfer'
          ? await api.requestTransfer(impact.userId, destinationOrganizationId ?? '', withSuccessor.id, options)
          : await api.requestDeletion(impact.userId, withSuccessor.id, options);
      navigate(`#/operations/${encodeURIComponent(op.id)}`);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const orgName = orgNames[org] ?? org;
  const successorName = members.find((m) => m.userId === successorId)?.displayName ?? successorId;
  return (
    <section class="panel successor" aria-labelledby="successor-title">
      <h2 id="successor-title">{w.title}</h2>
      <p>{w.intro}</p>
      <label>
        {w.pick}{' '}
        <select value={successorId} onChange={(e) => (setError(undefined), setSuccessorId((e.target as HTMLSelectElement).value))}>
          <option value="">{w.pickNone}</option>
          {members.map((m) => (
            <option value={m.userId}>{m.displayName}</option>
          ))}
        </select>
      </label>
      {successorId && !withSuccessor && shownError === undefined && (
        <p role="status">{compared.planning ? t.previewPlanning : w.loading}</p>
      )}
      {withSuccessor && (
        <>
          <div class="side-by-side">
            <div>
              <h3>{w.without}</h3>
              <Counts impact={impact} lang={lang} org={orgName} />
            </div>
            <div>
              <h3>{w.withSuccessor(successorName)}</h3>
              <Counts impact={withSuccessor} lang={lang} org={orgName} />
            </div>
          </div>
          <SuccessorEffects impact={withSuccessor} />
          <label>
            <input type="checkbox" checked={exportFiles} onChange={(e) => setExportFiles((e.target as HTMLInputElement).checked)} />{' '}
            {w.exportLabel}
          </label>
          {exportFiles && withSuccessor.id && (
            <ExportEstimate impact={withSuccessor} source={`previews/${encodeURIComponent(withSuccessor.id)}`} organizationId={org} />
          )}
          <div class="actions">
            <button class={impact.operation === 'deletion' ? 'danger' : undefined} onClick={request} disabled={busy}>
              {w.request}
            </button>
          </div>
        </>
      )}
      {shownError !== undefined && <ErrorPanel t={t} lang={lang} error={shownError} />}
    </section>
  );
}
