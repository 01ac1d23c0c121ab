import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { ApiError, type SummaryRow } from './api.js';
import { codeWords, kindLabel, kindRank, statusLabel } from './describe.js';
import { formatNumber, ruleMeaning, type Dictionary, type Lang } from './i18n/index.js';

/** The screen's title; focused when the screen opens, so keyboard and screen-reader users start there. */
export function Title({ children }: { children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {children}
    </h1>
  );
}

/** A rule id with its meaning in the reader's language. */
export function Rule({ lang, id, inline }: { lang: Lang; id: string; inline?: boolean }) {
  return (
    <span class={inline ? 'rule inline' : 'rule'}>
      <span class="rule-id">{id}</span>
      <span class="rule-text">{ruleMeaning(lang, id)}</span>
    </span>
  );
}

export function Status({ t, status }: { t: Dictionary; status: string }) {
  return <span class={`status status-${status}`}>{statusLabel(t, status)}</span>;
}

/** The server's own words (its code and message), kept out of the way for whoever needs them. */
export function TechnicalDetails({ t, text }: { t: Dictionary; text: string }) {
  return (
    <details class="technical">
      <summary>{t.technicalDetails}</summary>
      <span class="server-message">{text}</span>
    </details>
  );
}

/**
 * A confirmation in the page, before something that cannot be taken back: the question with the number of changes,
 * those changes counted by kind, the action and Back.
 */
export function Confirm(props: {
  t: Dictionary;
  lang: Lang;
  question: string;
  summary: SummaryRow[];
  yes: string;
  danger?: boolean;
  busy?: boolean;
  onYes: () => void;
  onBack: () => void;
}) {
  const { t, lang, question, summary, yes, danger, busy, onYes, onBack } = props;
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus(), []);
  const byKind = new Map<string, number>();
  for (const r of summary) byKind.set(r.kind, (byKind.get(r.kind) ?? 0) + r.count);
  const rows = [...byKind].sort(([a], [b]) => kindRank(a) - kindRank(b));
  return (
    <section class="panel confirm" role="alertdialog" aria-labelledby="confirm-title" aria-describedby="confirm-question">
      <h2 id="confirm-title" ref={ref} tabIndex={-1}>
        {t.confirmTitle}
      </h2>
      <p id="confirm-question">{question}</p>
      {rows.length > 0 && (
        <>
          <p class="muted">{t.confirmCounts}</p>
          <ul class="confirm-counts">
            {rows.map(([kind, n]) => (
              <li data-kind={kind}>
                {kindLabel(t, kind)}: <b>{formatNumber(lang, n)}</b>
              </li>
            ))}
          </ul>
        </>
      )}
      <div class="actions">
        <button class={danger ? 'danger' : undefined} onClick={onYes} disabled={busy}>
          {yes}
        </button>
        <button class="secondary" onClick={onBack} disabled={busy}>
          {t.back}
        </button>
      </div>
    </section>
  );
}

/**
 * An API error in words: a 422 refusal lists its rules, each worded by the condition that refused (the reason's
 * code) or else by the rule's meaning; a 409 `impact-changed` says the saved preview went stale (X1) and offers to
 * preview again; other codes say what they mean. The server's own message is under "Technical details".
 */
export function ErrorPanel({
  t,
  lang = 'en',
  error,
  onPreviewAgain,
}: {
  t: Dictionary;
  lang?: Lang;
  error: unknown;
  onPreviewAgain?: () => void;
}) {
  if (error instanceof ApiError && error.status === 422) {
    const reasons: { rule: string; message: string; code?: string }[] = error.body.reasons?.length
      ? error.body.reasons
      : [{ rule: error.body.rule ?? '', message: error.body.message }];
    return (
      <section class="panel refusal" role="alert" aria-labelledby="refusal-title">
        <h2 id="refusal-title">{t.refusedTitle}</h2>
        <p>{t.refusedIntro}</p>
        <ul class="reasons">
          {reasons.map((r) => {
            const words = codeWords(t, r.code);
            return (
              <li data-code={r.code}>
                {r.rule && <span class="rule-id">{r.rule}</span>}
                <span class="rule-text">{words ?? (r.rule ? ruleMeaning(lang, r.rule) : t.codeUnknown)}</span>
                <TechnicalDetails t={t} text={r.message} />
              </li>
            );
          })}
        </ul>
      </section>
    );
  }
  if (error instanceof ApiError && error.body.code === 'impact-changed') {
    return (
      <section class="panel warning" role="alert" aria-labelledby="stale-title">
        <h2 id="stale-title">{t.impactChangedTitle}</h2>
        <p>{t.impactChangedBody}</p>
        {onPreviewAgain && <button onClick={onPreviewAgain}>{t.previewAgain}</button>}
      </section>
    );
  }
  const body = error instanceof ApiError ? error.body : undefined;
  return (
    <section class="panel error" role="alert">
      <h2>{t.errorTitle}</h2>
      <p>{(body && codeWords(t, body.code)) ?? t.codeUnknown}</p>
      <TechnicalDetails t={t} text={body ? `${body.code}: ${body.message}` : String((error as Error)?.message ?? error)} />
    </section>
  );
}
