import { useEffect, useState } from 'preact/hooks';
import type { Impact } from '../api.js';
import { ErrorPanel, Title } from '../components.js';
import { useApp } from '../context.js';
import { formatDate } from '../i18n/index.js';
import { ImpactView } from '../impact.js';
import { SuccessorPanel } from '../successor.js';

/** Previews made in this tab, with the subject's name, so opening one does not read it again. */
const previews = new Map<string, { impact: Impact; userName: string }>();
export const rememberPreview = (impact: Impact, userName: string) => impact.id && previews.set(impact.id, { impact, userName });

/** A saved preview (X1), readable, with the request it leads to. */
export function PreviewScreen({ id }: { id: string }) {
  const { t, lang, api, orgNames, navigate } = useApp();
  const [state, setState] = useState(previews.get(id));
  const [error, setError] = useState<unknown>();
  const [requestError, setRequestError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!state) api.preview(id).then((impact) => setState({ impact, userName: impact.userId }), setError);
  }, [id]);

  if (error) return <><Title>{t.errorTitle}</Title><ErrorPanel t={t} lang={lang} error={error} /></>;
  if (!state) return <p role="status">{t.loading}</p>;
  const { impact, userName } = state;
  const dest = impact.destinationOrganizationId ?? (impact.effects.find((e) => e.kind === 'membership-changed')?.toOrganizationId as string | undefined);

  const request = async () => {
    const grace = impact.operation === 'deletion' && impact.purgeAt !== undefined && (impact.graceDays ?? 0) > 0;
    if (impact.operation === 'deletion' && !confirm(grace ? t.confirmDeletionGrace(formatDate(lang, impact.purgeAt)) : t.confirmDeletion)) return;
    setBusy(true);
    setRequestError(undefined);
    try {
      const op = impact.operation === 'transfer'
        ? await api.requestTransfer(impact.userId, dest ?? '', impact.id)
        : await api.requestDeletion(impact.userId, impact.id);
      navigate(`#/operations/${encodeURIComponent(op.id)}`);
    } catch (e) {
      setRequestError(e);
    } finally {
      setBusy(false);
    }
  };
  const previewAgain = async () => {
    try {
      const fresh = impact.operation === 'transfer' ? await api.previewTransfer(impact.userId, dest ?? '') : await api.previewDeletion(impact.userId);
      rememberPreview(fresh, userName);
      navigate(`#/preview/${encodeURIComponent(fresh.id ?? '')}`);
    } catch (e) {
      setRequestError(e);
    }
  };

  return (
    <>
      <Title>{impact.operation === 'transfer' ? t.previewTitleTransfer(userName, orgNames[dest ?? ''] ?? dest ?? '') : t.previewTitleDeletion(userName)}</Title>
      <p class="lead">{t.previewIntro}</p>
      {impact.expiresAt && <p class="muted">{t.previewExpires(formatDate(lang, impact.expiresAt))}</p>}
      {impact.operation === 'deletion' && impact.purgeAt && (impact.graceDays ?? 0) > 0 && (
        <p class="panel warning" role="note">{t.previewGrace(impact.graceDays ?? 0, formatDate(lang, impact.purgeAt))}</p>
      )}
      <div class="actions sticky">
        <button class={impact.operation === 'deletion' ? 'danger' : undefined} onClick={request} disabled={busy}>
          {impact.operation === 'transfer' ? t.requestTransfer : t.requestDeletion}
        </button>
      </div>
      {requestError !== undefined && <ErrorPanel t={t} lang={lang} error={requestError} onPreviewAgain={previewAgain} />}
      {!impact.summary.some((r) => r.rule === 'X3') && <SuccessorPanel impact={impact} destinationOrganizationId={dest} />}
      <ImpactView impact={impact} source={`previews/${encodeURIComponent(id)}`} onNames={(n) => { const name = n.users?.[impact.userId]?.displayName; if (name && name !== userName) setState({ impact, userName: name }); }} />
    </>
  );
}
