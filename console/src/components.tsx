import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { ApiError } from './api.js';
import { statusLabel } from './describe.js';
import { ruleMeaning, type Dictionary, type Lang } from './i18n/index.js';

/** The screen's title; focused when the screen opens, so keyboard and screen-reader users start there. */
export function Title({ children }: { children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return <h1 ref={ref} tabIndex={-1}>{children}</h1>;
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

/**
 * An API error in words: a 422 refusal lists its rules with their meaning; a 409 `impact-changed` says the saved
 * preview went stale (X1) and offers to preview again; other codes say what they mean.
 */
export function ErrorPanel({ t, lang = 'en', error, onPreviewAgain }: { t: Dictionary; lang?: Lang; error: unknown; onPreviewAgain?: () => void }) {
  if (error instanceof ApiError && error.status === 422) {
    const reasons = error.body.reasons?.length ? error.body.reasons : [{ rule: error.body.rule ?? '', message: error.body.message }];
    return (
      <section class="panel refusal" role="alert" aria-labelledby="refusal-title">
        <h2 id="refusal-title">{t.refusedTitle}</h2>
        <p>{t.refusedIntro}</p>
        <ul class="reasons">
          {reasons.map((r) => (
            <li>
              {r.rule && <Rule lang={lang} id={r.rule} />}
              <span class="server-message">{r.message}</span>
            </li>
          ))}
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
  const known: Record<string, string> = {
    forbidden: t.errorForbidden,
    'not-found': t.errorNotFound,
    conflict: t.errorConflict,
    unauthenticated: t.errorUnauthenticated,
  };
  const body = error instanceof ApiError ? error.body : undefined;
  return (
    <section class="panel error" role="alert">
      <h2>{t.errorTitle}</h2>
      {body && known[body.code] && <p>{known[body.code]}</p>}
      <p class="server-message">{body ? `${body.code}: ${body.message}` : String((error as Error)?.message ?? error)}</p>
    </section>
  );
}
