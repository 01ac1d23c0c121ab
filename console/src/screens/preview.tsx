import { useState } from 'preact/hooks';
import { isPlanning, type Impact, type PreviewAnswer } from '../api.js';
import { Confirm, ErrorPanel, Title } from '../components.js';
import { useApp } from '../context.js';
import { plainName } from '../describe.js';
import { formatDate, formatNumber } from '../i18n/index.js';
import { ImpactView } from '../impact.js';
import { usePlannedPreview } from '../polling.js';
import { rememberSubject } from './operation.js';
import { SuccessorPanel } from '../successor.js';

/** What a preview was asked for: its subject's name and the operation, so a preview still being planned has its title. */
export interface PreviewAsked {
  userName: string;
  operation: 'transfer' | 'deletion';
  destinationOrganizationId?: string;
}

/** Previews made in this tab, with the subject's name, so opening one does not read it again; those still planning, as asked. */
const previews = new Map<string, { impact: Impact; userName: string }>();
const asked = new Map<string, PreviewAsked>();
export function rememberPreview(answer: PreviewAnswer, what: PreviewAsked): void {
  if (!answer.id) return;
  if (isPlanning(answer)) asked.set(answer.id, what);
  else previews.set(answer.id, { impact: answer, userName: what.userName });
}

/**
 * A saved preview (X1), readable: the main change first and what stays, then every change (each with why), then the
 * request, confirmed with its counts, and Back. A preview answered 202 `planning` (CONTRACT.md) says it is being
 * computed and is read again until its impact is there, or its refusal, shown as a refusal at the request is.
 */
export function PreviewScreen({ id }: { id: string }) {
  const { t, lang, api, me, orgNames, navigate } = useApp();
  const remembered = previews.get(id);
  const what = asked.get(id);
  const read = usePlannedPreview(remembered ? undefined : () => api.preview(id), api.preview, isPlanning, [id]);
  const [named, setNamed] = useState<string>();
  const [requestError, setRequestError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const orgName = (o: string | undefined) => orgNames[o ?? ''] ?? o ?? '';

  const impact = remembered?.impact ?? (read.answer && !isPlanning(read.answer) ? read.answer : undefined);
  if (!impact) {
    const title = !what
      ? read.error
        ? t.errorTitle
        : t.previewPlanningTitle
      : what.operation === 'transfer'
        ? t.previewTitleTransfer(what.userName, orgName(what.destinationOrganizationId))
        : t.previewTitleDeletion(what.userName);
    return (
      <>
        <Title>{title}</Title>
        {/* one live region, from "Loading…" to the planning message, so the change is announced */}
        {read.error === undefined && (
          <p class={read.planning ? 'panel note planning' : undefined} role="status" aria-live="polite">
            {read.planning ? t.previewPlanning : t.loading}
          </p>
        )}
        {read.error !== undefined && <ErrorPanel t={t} lang={lang} error={read.error} />}
        {read.error !== undefined && (
          <div class="actions final">
            <button class="secondary" onClick={() => navigate('#/organization')}>
              {t.back}
            </button>
          </div>
        )}
      </>
    );
  }
  const userName = named ?? remembered?.userName ?? what?.userName ?? impact.userId;
  const move = impact.effects.find((e) => e.kind === 'membership-changed');
  const dest = impact.destinationOrganizationId ?? (move?.toOrganizationId as string | undefined);
  const source = (move?.fromOrganizationId as string | undefined) ?? me.administers[0] ?? '';
  const grace = impact.operation === 'deletion' && impact.purgeAt !== undefined && (impact.graceDays ?? 0) > 0;
  const count = (kind: string) => impact.summary.filter((r) => r.kind === kind).reduce((n, r) => n + r.count, 0);
  const n = formatNumber(lang, impact.effectCount);

  const request = async () => {
    setBusy(true);
    setRequestError(undefined);
    try {
      const op =
        impact.operation === 'transfer'
          ? await api.requestTransfer(impact.userId, dest ?? '', impact.id)
          : await api.requestDeletion(impact.userId, impact.id);
      rememberSubject(op.id, userName);
      navigate(`#/operations/${encodeURIComponent(op.id)}`);
    } catch (e) {
      setRequestError(e);
      setConfirming(false);
    } finally {
      setBusy(false);
    }
  };
  const previewAgain = async () => {
    try {
      const fresh =
        impact.operation === 'transfer' ? await api.previewTransfer(impact.userId, dest ?? '') : await api.previewDeletion(impact.userId);
      rememberPreview(fresh, { userName, operation: impact.operation, destinationOrganizationId: dest });
      navigate(`#/preview/${encodeURIComponent(fresh.id ?? '')}`);
    } catch (e) {
      setRequestError(e);
    }
  };
  const question =
    impact.operation === 'transfer'
      ? t.confirmRequest(userName, orgName(dest), n)
      : grace
        ? t.confirmDeleteGrace(userName, n, formatDate(lang, impact.purgeAt))
        : t.confirmDelete(userName, n);
  const stays =
    impact.operation === 'transfer'
      ? [
          t.staysTransferAccount(userName),
          count('file-handed-over') > 0 && t.staysHandedOver(count('file-handed-over'), orgName(source)),
          t.staysTasksTransfer,
        ]
      : [
          t.staysDeletionMessages(userName),
          count('chat-frozen') > 0 && t.staysFrozen(count('chat-frozen')),
          count('file-handed-over') > 0 && t.staysHandedOver(count('file-handed-over'), orgName(source)),
          t.staysTasks,
        ];

  return (
    <>
      <Title>{impact.operation === 'transfer' ? t.previewTitleTransfer(userName, orgName(dest)) : t.previewTitleDeletion(userName)}</Title>
      <p class="lead main-change">
        <strong>
          {impact.operation === 'transfer'
            ? t.mainTransfer(userName, orgName(source), orgName(dest))
            : grace
              ? t.mainDeletionGrace(userName, formatDate(lang, impact.purgeAt))
              : t.mainDeletion(userName)}
        </strong>{' '}
        {t.previewIntro}
      </p>
      {impact.operation === 'transfer' && (
        <p class="panel note approval-note" role="note">
          {t.approvalNeeded(orgName(dest))}
        </p>
      )}
      {grace && (
        <p class="panel warning" role="note">
          {t.previewGrace(impact.graceDays ?? 0, formatDate(lang, impact.purgeAt))}
        </p>
      )}
      <section class="card stays" aria-labelledby="stays-title">
        <h2 id="stays-title">{t.staysTitle}</h2>
        <ul>
          {stays
            .filter((x): x is string => typeof x === 'string')
            .map((x) => (
              <li>{x}</li>
            ))}
        </ul>
      </section>
      <ImpactView
        impact={impact}
        source={`previews/${encodeURIComponent(id)}`}
        onNames={(names) => {
          const name = plainName(names.users?.[impact.userId], userName);
          if (name !== userName) setNamed(name);
        }}
      />
      {impact.expiresAt && <p class="muted">{t.previewExpires(formatDate(lang, impact.expiresAt))}</p>}
      {requestError !== undefined && <ErrorPanel t={t} lang={lang} error={requestError} onPreviewAgain={previewAgain} />}
      {!impact.summary.some((r) => r.rule === 'X3') && <SuccessorPanel impact={impact} destinationOrganizationId={dest} />}
      {confirming ? (
        <Confirm
          t={t}
          lang={lang}
          question={question}
          summary={impact.summary}
          danger={impact.operation === 'deletion'}
          busy={busy}
          yes={impact.operation === 'transfer' ? t.confirmYesRequest : t.confirmYesDelete}
          onYes={request}
          onBack={() => setConfirming(false)}
        />
      ) : (
        <div class="actions final">
          <button
            class={impact.operation === 'deletion' ? 'danger' : undefined}
            onClick={() => (setRequestError(undefined), setConfirming(true))}
            disabled={busy}
          >
            {impact.operation === 'transfer' ? t.requestTransfer : t.requestDeletion}
          </button>
          <button class="secondary" onClick={() => navigate('#/organization')}>
            {t.back}
          </button>
        </div>
      )}
    </>
  );
}
