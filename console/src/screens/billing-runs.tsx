import { useState } from 'preact/hooks';
import { usePolling } from '../polling.js';
import type { BillingRun } from '../api.js';
import { ErrorPanel, Status, Title } from '../components.js';
import { codeWords } from '../describe.js';
import { useApp } from '../context.js';
import { formatDate, formatNumber } from '../i18n/index.js';

/** Operators (scope offboard/operator): contract cancellations (B1) with members done, failed, remaining. */
export function BillingRunsScreen() {
  const { t, lang, api, me, orgNames } = useApp();
  const [runs, setRuns] = useState<BillingRun[]>();
  const [cursor, setCursor] = useState<string>();
  const [error, setError] = useState<unknown>();

  usePolling(
    () => (me.operator ? api.billingRuns() : Promise.resolve(undefined)),
    (page) => {
      if (!page) return;
      setRuns(page.runs);
      setCursor(page.nextCursor);
    },
    (page) => (page?.runs.some((r) => r.status === 'running') ? 1500 : undefined),
    setError,
    [],
  );

  const more = async () => {
    try {
      const page = await api.billingRuns(cursor);
      setRuns((r) => [...(r ?? []), ...page.runs]);
      setCursor(page.nextCursor);
    } catch (e) {
      setError(e);
    }
  };

  return (
    <>
      <Title>{t.operatorsTitle}</Title>
      <p class="lead">{t.operatorsIntro}</p>
      {!me.operator && <p>{t.operatorsOnly}</p>}
      {error !== undefined && <ErrorPanel t={t} lang={lang} error={error} />}
      {me.operator && !runs && !error && <p role="status">{t.loading}</p>}
      {runs?.length === 0 && <p class="muted">{t.runsNone}</p>}
      {runs && runs.length > 0 && (
        <div class="card">
          <table class="runs">
            <thead>
              <tr>
                <th scope="col">{t.runOrganization}</th>
                <th scope="col">{t.runStatus}</th>
                <th scope="col" class="num">
                  {t.runTotal}
                </th>
                <th scope="col" class="num">
                  {t.runDone}
                </th>
                <th scope="col" class="num">
                  {t.runFailed}
                </th>
                <th scope="col" class="num">
                  {t.runRemaining}
                </th>
                <th scope="col">{t.runStarted}</th>
                <th scope="col">{t.runUpdated}</th>
              </tr>
            </thead>
            <tbody aria-live="polite">
              {runs.map((r) => (
                <tr data-run={r.id}>
                  <th scope="row">
                    {orgNames[r.organizationId] ?? r.organizationId}
                    <div class="mono muted small">{r.id}</div>
                  </th>
                  <td data-label={t.runStatus}>
                    <Status t={t} status={r.status} />
                    {r.error && <div class="run-error">{codeWords(t, r.error.code) ?? t.codeUnknown}</div>}
                  </td>
                  <td class="num" data-label={t.runTotal}>
                    {formatNumber(lang, r.total)}
                  </td>
                  <td class="num" data-label={t.runDone}>
                    {formatNumber(lang, r.done)}
                  </td>
                  <td class="num" data-label={t.runFailed}>
                    {formatNumber(lang, r.failed)}
                  </td>
                  <td class="num" data-label={t.runRemaining}>
                    {formatNumber(lang, r.remaining)}
                  </td>
                  <td data-label={t.runStarted}>{formatDate(lang, r.createdAt)}</td>
                  <td data-label={t.runUpdated}>{formatDate(lang, r.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {cursor && (
            <button class="more" onClick={more}>
              {t.more}
            </button>
          )}
        </div>
      )}
    </>
  );
}
