import { useEffect, useState } from 'preact/hooks';
import { usePolling } from '../polling.js';
import { operationKind, TERMINAL_STATUSES, type Audit, type Names, type Operation } from '../api.js';
import { Confirm, ErrorPanel, Status, TechnicalDetails, Title } from '../components.js';
import { useApp } from '../context.js';
import { auditEventLabel, codeWords, kindLabel, phaseLabel, plainName } from '../describe.js';
import { formatDate, formatNumber, formatRelative, type Lang } from '../i18n/index.js';
import { ImpactView } from '../impact.js';
import { ExportPanel } from '../export-panel.js';
import { Notices } from '../notices.js';

const POLL_MS = 1000;

/** Subjects' names known when their operation was requested in this tab: named while `planning` (no impact, no names yet). */
const subjects = new Map<string, string>();
export const rememberSubject = (operationId: string, userName: string) => subjects.set(operationId, userName);

/** A transfer or deletion: its phases with done/total, live until it ends; its error; its audit trail (X2). */
export function OperationScreen({ id }: { id: string }) {
  const { t, lang, api, me, orgNames } = useApp();
  const kind = operationKind(id);
  const [op, setOp] = useState<Operation>();
  const [audit, setAudit] = useState<Audit>();
  const [error, setError] = useState<unknown>();
  const [actionError, setActionError] = useState<unknown>();
  const [tick, setTick] = useState(0);
  const [names, setNames] = useState<Names>({});
  const [confirming, setConfirming] = useState(false);

  usePolling(
    () => Promise.all([api.operation(kind, id), api.audit(id).catch(() => undefined)]),
    ([o, a]) => {
      setOp(o);
      if (a) setAudit(a);
    },
    // `planning` (CONTRACT.md): read every second until its plan is there and it moves on
    ([o]) =>
      TERMINAL_STATUSES.includes(o.status)
        ? undefined
        : o.status === 'running' || o.status === 'planning'
          ? POLL_MS
          : o.status === 'scheduled'
            ? POLL_MS * 5
            : POLL_MS * 3,
    setError,
    [id, tick],
  );

  if (error)
    return (
      <>
        <Title>{t.errorTitle}</Title>
        <ErrorPanel t={t} lang={lang} error={error} />
      </>
    );
  if (!op) return <p role="status">{t.loading}</p>;

  const act = async (f: () => Promise<Operation>) => {
    setActionError(undefined);
    try {
      setOp(await f());
      setTick((n) => n + 1);
    } catch (e) {
      setActionError(e);
    }
  };
  const canApprove =
    op.status === 'awaiting-approval' &&
    op.impact !== null &&
    op.destinationOrganizationId !== undefined &&
    me.administers.includes(op.destinationOrganizationId);
  // T3: a transfer can be taken back before it runs, while its plan is computed too (CONTRACT.md `planning`)
  const canCancel =
    kind === 'transfers' && (op.status === 'planning' || op.status === 'awaiting-approval' || op.status === 'awaiting-seat');
  // the destination's administrator refuses a request: "Decline"; the requester takes it back: "Cancel request"
  const declines = canCancel && op.status === 'awaiting-approval' && !me.administers.includes(op.sourceOrganizationId ?? '');
  const canUndo =
    kind === 'deletions' && op.status === 'scheduled' && op.organizationId !== undefined && me.administers.includes(op.organizationId);
  const progress = op.progress;
  const running = op.status === 'running' || op.status === 'planning';
  const userName = plainName(names.users?.[op.userId], subjects.get(op.id) ?? op.userId);
  const person = (id: string | undefined) =>
    id === undefined ? t.someone : id === 'system' ? t.system : plainName(audit?.names?.users?.[id], id);
  const org = (o: string | undefined) => orgNames[o ?? ''] ?? o ?? '';
  // no impact while `planning` (CONTRACT.md: `impact` null), nor when its planning failed
  const impact = op.impact && (
    <section aria-labelledby="impact-title">
      <h2 id="impact-title">{t.impactOfOperation}</h2>
      <ImpactView impact={op.impact} source={`${kind}/${encodeURIComponent(op.id)}`} onNames={setNames} />
    </section>
  );
  const cancelButton = canCancel && (
    <button class="secondary" onClick={() => act(() => api.cancel(op.id))}>
      {declines ? t.decline : t.cancel}
    </button>
  );

  return (
    <>
      <Title>{kind === 'transfers' ? t.progressTitleTransfer(userName) : t.progressTitleDeletion(userName)}</Title>
      <p class="muted op-sub">
        {op.destinationOrganizationId && `${org(op.sourceOrganizationId)} → ${org(op.destinationOrganizationId)} · `}
        {t.requestedAt}: {formatDate(lang, op.createdAt)}
        {op.requestedBy && (
          <>
            {' '}
            · <span class="requested-by">{t.requestedBy(person(op.requestedBy))}</span>
          </>
        )}
      </p>
      {canApprove && (
        // T3: the approver reads what the transfer changes first, then approves (confirmed with its counts) or declines
        <>
          <p class="panel note approval-intro">{t.approvalIntro(person(op.requestedBy), userName, org(op.destinationOrganizationId))}</p>
          {impact}
          {actionError !== undefined && <ErrorPanel t={t} lang={lang} error={actionError} />}
          {confirming && op.impact ? (
            <Confirm
              t={t}
              lang={lang}
              question={t.confirmApprove(userName, org(op.destinationOrganizationId), formatNumber(lang, op.impact.effectCount))}
              summary={op.impact.summary}
              yes={t.confirmYesApprove}
              onYes={() => (setConfirming(false), act(() => api.approve(op.id)))}
              onBack={() => setConfirming(false)}
            />
          ) : (
            <div class="actions final">
              <button onClick={() => setConfirming(true)}>{t.approve}</button>
              {cancelButton}
            </div>
          )}
        </>
      )}
      <section class="card" aria-labelledby="progress-title">
        <h2 id="progress-title">{t.progressPhases}</h2>
        <p class="status-line" role="status" aria-live="polite">
          <Status t={t} status={op.status} />
          {progress && <span> {t.progressOverall(formatNumber(lang, progress.done), formatNumber(lang, progress.total))}</span>}
        </p>
        {op.status === 'planning' && <p class="panel note planning">{t.operationPlanning}</p>}
        {running && <p class="muted">{t.progressLive}</p>}
        {op.status === 'scheduled' && op.purgeAt && (
          <div class="panel warning">
            <p>{t.scheduledUntil(formatDate(lang, op.purgeAt))}</p>
            <p class="countdown">
              <PurgeCountdown lang={lang} purgeAt={op.purgeAt} label={t.purgeCountdown} />
            </p>
          </div>
        )}
        {progress && progress.total > 0 && (
          <progress class="overall" max={progress.total} value={progress.done} aria-label={t.progressPhases} />
        )}
        {progress && (
          <ol class="phases">
            {progress.phases.map((p) => (
              <li class={`phase phase-${p.status}`}>
                <span class="phase-name">{phaseLabel(t, p.name)}</span>
                <progress
                  max={Math.max(p.total, 1)}
                  value={p.total === 0 ? (p.status === 'done' ? 1 : 0) : p.done}
                  aria-label={phaseLabel(t, p.name)}
                />
                <span class="phase-count">
                  {p.name === 'Export'
                    ? t.phaseExportCount(
                        formatNumber(lang, p.done),
                        formatNumber(lang, p.total),
                        formatNumber(lang, p.bytesDone ?? 0),
                        formatNumber(lang, p.bytesTotal ?? 0),
                      )
                    : `${formatNumber(lang, p.done)} / ${formatNumber(lang, p.total)}`}
                  {p.verified && <span class="phase-verified"> · {t.phaseExportVerified}</span>}
                </span>
                <span class="phase-status">{t[`phaseStatus_${p.status}`]}</span>
              </li>
            ))}
          </ol>
        )}
        {op.error && (
          <div class="panel error" role="alert">
            <h3>{t.errorOfRun}</h3>
            <p>
              {op.error.rule && <span class="rule-id">{op.error.rule}</span>}
              {codeWords(t, op.error.code) ?? t.codeUnknown}
            </p>
            <TechnicalDetails t={t} text={`${op.error.code}: ${op.error.message}`} />
          </div>
        )}
        {!canApprove && (cancelButton || canUndo) && (
          <div class="actions">
            {cancelButton}
            {canUndo && (
              <button class="secondary" onClick={() => act(() => api.undo(op.id))}>
                {t.undoDeletion}
              </button>
            )}
          </div>
        )}
        {!canApprove && actionError !== undefined && <ErrorPanel t={t} lang={lang} error={actionError} />}
      </section>
      {op.export && TERMINAL_STATUSES.includes(op.status) && <ExportPanel op={op} kind={kind} />}
      <section class="card" aria-labelledby="audit-title">
        <h2 id="audit-title">{t.auditTitle}</h2>
        {!audit?.entries.length ? (
          <p class="muted">{t.auditNone}</p>
        ) : (
          <ol class="timeline">
            {audit.entries.map((e) => (
              <li data-event={e.event}>
                <time dateTime={e.at}>{formatDate(lang, e.at)}</time>
                <span class="event">
                  {auditEventLabel(t, e.event)}
                  {e.step ? ` · ${phaseLabel(t, e.step)}` : ''}
                </span>
                {e.by && <span class="muted"> {t.auditBy(person(e.by))}</span>}
                {e.rule && <span class="rule-chip">{e.rule}</span>}
                {e.applied !== undefined && <span class="muted"> · {appliedText(e.applied)}</span>}
              </li>
            ))}
          </ol>
        )}
      </section>
      <Notices operationId={op.id} lang={lang} refresh={op.updatedAt ?? op.status} />
      {!canApprove && impact}
    </>
  );

  function appliedText(applied: NonNullable<Audit['entries'][number]['applied']>): string {
    if (typeof applied === 'number') return t.auditApplied(formatNumber(lang, applied));
    return Object.entries(applied)
      .map(([k, n]) => `${kindLabel(t, k.split(/[ /]/)[0] ?? k)} ${k.split(/[ /]/)[1] ?? ''} ×${formatNumber(lang, Number(n))}`)
      .join(', ');
  }
}

/** D7: the time left until a scheduled deletion's purge, in the reader's language, updated every second. */
function PurgeCountdown({ lang, purgeAt, label }: { lang: Lang; purgeAt: string; label: (relative: string) => string }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return <>{label(formatRelative(lang, purgeAt, now))}</>;
}
