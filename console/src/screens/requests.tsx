import { useEffect, useState } from 'preact/hooks';
import type { Operation } from '../api.js';
import { ErrorPanel, Status, Title } from '../components.js';
import { useApp } from '../context.js';
import { kindLabel } from '../describe.js';
import { formatDate, formatNumber } from '../i18n/index.js';

type Lists = { incoming: Operation[]; outgoing: Operation[]; deletions: Operation[] };

/** Requests and approvals (T3): transfers awaiting my approval, transfers I requested, deletions; approve or cancel. */
export function RequestsScreen() {
  const { t, lang, api, me } = useApp();
  const [lists, setLists] = useState<Lists>();
  const [error, setError] = useState<unknown>();
  const [actionError, setActionError] = useState<unknown>();

  const load = async () => {
    try {
      const per = await Promise.all(
        me.administers.map(async (org) => {
          const [incoming, outgoing, deletions] = await Promise.all([
            api.transfers(org, 'incoming', 'awaiting-approval'),
            api.transfers(org, 'outgoing'),
            api.deletions(org),
          ]);
          return { incoming: incoming.transfers, outgoing: outgoing.transfers, deletions: deletions.deletions };
        }),
      );
      setLists({ incoming: per.flatMap((p) => p.incoming), outgoing: per.flatMap((p) => p.outgoing), deletions: per.flatMap((p) => p.deletions) });
    } catch (e) {
      setError(e);
    }
  };
  useEffect(() => void load(), []);

  const act = async (f: () => Promise<unknown>, after?: string) => {
    setActionError(undefined);
    try {
      await f();
      if (after) location.hash = after;
      else await load();
    } catch (e) {
      setActionError(e);
    }
  };

  return (
    <>
      <Title>{t.requestsTitle}</Title>
      {error !== undefined && <ErrorPanel t={t} lang={lang} error={error} />}
      {actionError !== undefined && <ErrorPanel t={t} lang={lang} error={actionError} />}
      {!lists && !error && <p role="status">{t.loading}</p>}
      {lists && (
        <>
          <OperationList title={t.incomingTitle} empty={t.incomingNone} list={lists.incoming} id="incoming"
            actions={(op) => (
              <>
                <button aria-describedby={`op-${op.id}`} onClick={() => act(() => api.approve(op.id), `#/operations/${encodeURIComponent(op.id)}`)}>{t.approve}</button>
                <button class="secondary" aria-describedby={`op-${op.id}`} onClick={() => act(() => api.cancel(op.id))}>{t.cancel}</button>
              </>
            )} />
          <OperationList title={t.outgoingTitle} empty={t.outgoingNone} list={lists.outgoing} id="outgoing"
            actions={(op) => (op.status === 'awaiting-approval' || op.status === 'awaiting-seat'
              ? <button class="secondary" aria-describedby={`op-${op.id}`} onClick={() => act(() => api.cancel(op.id))}>{t.cancel}</button>
              : null)} />
          <OperationList title={t.deletionsTitle} empty={t.deletionsNone} list={lists.deletions} id="deletions" actions={() => null} />
        </>
      )}
    </>
  );
}

function OperationList({ title, empty, list, id, actions }: { title: string; empty: string; list: Operation[]; id: string; actions: (op: Operation) => preact.ComponentChildren }) {
  const { t, lang, orgNames } = useApp();
  return (
    <section class="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{title} <span class="badge">{formatNumber(lang, list.length)}</span></h2>
      {list.length === 0 ? <p class="muted">{empty}</p> : (
        <ul class="plain ops">
          {list.map((op) => (
            <li class="op">
              <div class="op-main">
                <a href={`#/operations/${encodeURIComponent(op.id)}`} class="op-title" id={`op-${op.id}`}>
                  {op.destinationOrganizationId
                    ? t.transferLine(op.userId, orgNames[op.sourceOrganizationId ?? ''] ?? op.sourceOrganizationId ?? '', orgNames[op.destinationOrganizationId] ?? op.destinationOrganizationId)
                    : t.deletionLine(op.userId)}
                </a>
                <Status t={t} status={op.status} />
              </div>
              <div class="op-meta muted">
                {t.requestedAt}: {formatDate(lang, op.createdAt)} · {t.changes}: {formatNumber(lang, op.impact?.effectCount ?? 0)}
              </div>
              {op.impact?.summary?.length ? (
                <ul class="chips" aria-label={t.summaryTitle}>
                  {op.impact.summary.map((r) => <li>{kindLabel(t, r.kind)} <b>{r.rule}</b> ×{formatNumber(lang, r.count)}</li>)}
                </ul>
              ) : null}
              <div class="actions">{actions(op)}</div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
