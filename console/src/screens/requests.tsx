import { useEffect, useState } from 'preact/hooks';
import type { Names, Operation } from '../api.js';
import { ErrorPanel, Status, Title } from '../components.js';
import { useApp } from '../context.js';
import { kindLabel, kindRank, plainName } from '../describe.js';
import { formatDate, formatNumber } from '../i18n/index.js';

type Page = { items: Operation[]; nextCursor?: string; users?: NonNullable<Names['users']> };

/** Requests and approvals (T3): transfers awaiting my approval, transfers I requested, deletions; approve or cancel. */
export function RequestsScreen() {
  const { t, lang, api } = useApp();
  const [actionError, setActionError] = useState<unknown>();
  // bumped after an action, so every list reads its first page again
  const [version, setVersion] = useState(0);

  const act = async (f: () => Promise<unknown>) => {
    setActionError(undefined);
    try {
      await f();
      setVersion((v) => v + 1);
    } catch (e) {
      setActionError(e);
    }
  };
  const cancel = (op: Operation) => (
    <button class="secondary" aria-describedby={`op-${op.id}`} onClick={() => act(() => api.cancel(op.id))}>
      {t.cancel}
    </button>
  );

  return (
    <>
      <Title>{t.requestsTitle}</Title>
      {actionError !== undefined && <ErrorPanel t={t} lang={lang} error={actionError} />}
      <OperationList
        key={`in${version}`}
        id="incoming"
        title={t.incomingTitle}
        empty={t.incomingNone}
        page={(org, cursor) =>
          api
            .transfers(org, 'incoming', 'awaiting-approval', cursor)
            .then((p) => ({ items: p.transfers, nextCursor: p.nextCursor, users: p.names?.users }))
        }
        actions={(op) => (
          // T3: approving opens what the transfer changes first (confirmed there with its counts); refusing is "Decline"
          <>
            <a class="button" href={`#/operations/${encodeURIComponent(op.id)}`} aria-describedby={`op-${op.id}`}>
              {t.reviewAndApprove}
            </a>
            <button class="secondary" aria-describedby={`op-${op.id}`} onClick={() => act(() => api.cancel(op.id))}>
              {t.decline}
            </button>
          </>
        )}
      />
      <OperationList
        key={`out${version}`}
        id="outgoing"
        title={t.outgoingTitle}
        empty={t.outgoingNone}
        page={(org, cursor) =>
          api
            .transfers(org, 'outgoing', undefined, cursor)
            .then((p) => ({ items: p.transfers, nextCursor: p.nextCursor, users: p.names?.users }))
        }
        actions={(op) => (['planning', 'awaiting-approval', 'awaiting-seat'].includes(op.status) ? cancel(op) : null)}
      />
      <OperationList
        key={`del${version}`}
        id="deletions"
        title={t.deletionsTitle}
        empty={t.deletionsNone}
        page={(org, cursor) =>
          api.deletions(org, cursor).then((p) => ({ items: p.deletions, nextCursor: p.nextCursor, users: p.names?.users }))
        }
        actions={() => null}
      />
    </>
  );
}

/** One list over every organization I administer, a page of each at a time ("Show more" while any has more). */
function OperationList(props: {
  id: string;
  title: string;
  empty: string;
  page: (org: string, cursor?: string) => Promise<Page>;
  actions: (op: Operation) => preact.ComponentChildren;
}) {
  const { id, title, empty, page, actions } = props;
  const { t, lang, me, orgNames } = useApp();
  const [items, setItems] = useState<Operation[]>();
  const [users, setUsers] = useState<NonNullable<Names['users']>>({});
  const nameOf = (userId: string) => plainName(users[userId], userId);
  const [cursors, setCursors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>();

  const load = async (orgs: string[], from: Record<string, string | undefined>) => {
    try {
      const pages = await Promise.all(orgs.map(async (org) => [org, await page(org, from[org])] as const));
      setItems((prev) => [...(prev ?? []), ...pages.flatMap(([, p]) => p.items)]);
      setUsers((prev) => Object.assign({}, prev, ...pages.map(([, p]) => p.users ?? {})));
      setCursors(Object.fromEntries(pages.filter(([, p]) => p.nextCursor).map(([org, p]) => [org, p.nextCursor!])));
    } catch (e) {
      setError(e);
    }
  };
  useEffect(() => void load(me.administers, {}), []);

  return (
    <section class="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>
        {title}{' '}
        {items && (
          <span class="badge">
            {formatNumber(lang, items.length)}
            {Object.keys(cursors).length ? '+' : ''}
          </span>
        )}
      </h2>
      {error !== undefined && <ErrorPanel t={t} lang={lang} error={error} />}
      {!items && error === undefined && <p role="status">{t.loading}</p>}
      {items?.length === 0 && <p class="muted">{empty}</p>}
      {items && items.length > 0 && (
        <ul class="plain ops">
          {items.map((op) => (
            <li class="op">
              <div class="op-main">
                <a href={`#/operations/${encodeURIComponent(op.id)}`} class="op-title" id={`op-${op.id}`}>
                  {op.destinationOrganizationId
                    ? t.transferLine(
                        nameOf(op.userId),
                        orgNames[op.sourceOrganizationId ?? ''] ?? op.sourceOrganizationId ?? '',
                        orgNames[op.destinationOrganizationId] ?? op.destinationOrganizationId,
                      )
                    : t.deletionLine(nameOf(op.userId))}
                </a>
                <Status t={t} status={op.status} />
              </div>
              <div class="op-meta muted">
                {t.requestedAt}: {formatDate(lang, op.createdAt)}
                {op.requestedBy && (
                  <>
                    {' '}
                    · <span class="requested-by">{t.requestedBy(nameOf(op.requestedBy))}</span>
                  </>
                )}
                {' · '}
                {t.changes}:{' '}
                {op.impact ? formatNumber(lang, op.impact.effectCount) : t.changesPlanning /* CONTRACT.md `planning`: impact null */}
              </div>
              {op.status === 'scheduled' && op.purgeAt && <p class="op-purge">{t.scheduledUntil(formatDate(lang, op.purgeAt))}</p>}
              {op.impact?.summary?.length ? (
                <ul class="chips" aria-label={t.summaryTitle}>
                  {[...op.impact.summary]
                    .sort((a, b) => kindRank(a.kind) - kindRank(b.kind))
                    .map((r) => (
                      <li>
                        {kindLabel(t, r.kind)} <b>{r.rule}</b> ×{formatNumber(lang, r.count)}
                      </li>
                    ))}
                </ul>
              ) : null}
              <div class="actions">{actions(op)}</div>
            </li>
          ))}
        </ul>
      )}
      {Object.keys(cursors).length > 0 && (
        <button class="more" onClick={() => load(Object.keys(cursors), cursors)}>
          {t.more}
        </button>
      )}
    </section>
  );
}
