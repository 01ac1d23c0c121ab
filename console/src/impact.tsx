import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Effect, Impact, Names } from './api.js';
import { ErrorPanel } from './components.js';
import { useApp } from './context.js';
import { describeEffect, kindLabel, kindRank, labels, mergeNames, whyText, type Labels } from './describe.js';
import { formatNumber, ruleMeaning } from './i18n/index.js';
// what tells one effect from another (CONTRACT.md: each kind's ids): the domain's own key
import { effectKey } from '../../functions/domain/impact.js';

const PAGE = 1000;

/**
 * An impact, readable (X1): counts by kind and rule, a picture of what breaks around the user, then every effect in
 * words with its rule, a page of 1,000 at a time. `source` is the API path (`previews/ID`, `transfers/ID`,
 * `deletions/ID`) whose `/effects` route pages it and names what it mentions.
 */
export function ImpactView({ impact, source, onNames }: { impact: Impact; source: string; onNames?: (names: Names) => void }) {
  const { t, lang, api, orgNames } = useApp();
  const [effects, setEffects] = useState<Effect[]>(impact.effects);
  const [cursor, setCursor] = useState<string | undefined>(impact.nextCursor);
  const [names, setNames] = useState<Names>({});
  // The effects are listed once their names are known (or could not be read: then ids stand in), never ids first.
  const [named, setNamed] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();

  // The first page again, from the /effects route, for the names of what it mentions.
  useEffect(() => {
    api
      .effects(source)
      .then(
        (page) => {
          setNames((n) => mergeNames(n, page.names));
          if (page.names) onNames?.(page.names);
        },
        () => undefined,
      )
      .finally(() => setNamed(true));
  }, [source]);

  const more = async () => {
    setBusy(true);
    try {
      const page = await api.effects(source, cursor);
      setNames((n) => mergeNames(n, page.names));
      setEffects((e) => [...e, ...page.effects]);
      setCursor(page.nextCursor);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const l = labels(t, names, orgNames, impact.userId);
  const groups = useMemo(() => {
    const m = new Map<string, Effect[]>();
    for (const e of effects) m.set(e.kind, [...(m.get(e.kind) ?? []), e]);
    // the move (or the deletion) first, then what breaks, then what is handed on: not the API's alphabetical order
    return [...m].sort(([a], [b]) => kindRank(a) - kindRank(b));
  }, [effects]);
  const totalOf = (kind: string) => impact.summary.filter((r) => r.kind === kind).reduce((n, r) => n + r.count, 0);
  const remaining = impact.effectCount - effects.length;

  return (
    <div class="impact" data-named={named ? 'yes' : 'no'}>
      <p class="count-line">
        <strong>{t.effectCount(formatNumber(lang, impact.effectCount))}</strong>
      </p>
      <div class="impact-top">
        <section class="card" aria-labelledby="summary-title">
          <h2 id="summary-title">{t.summaryTitle}</h2>
          {impact.summary.length === 0 ? (
            <p>{t.noEffects}</p>
          ) : (
            <table class="summary">
              <thead>
                <tr>
                  <th scope="col">{t.summaryKind}</th>
                  <th scope="col">{t.summaryRule}</th>
                  <th scope="col" class="num">
                    {t.summaryCount}
                  </th>
                </tr>
              </thead>
              <tbody>
                {[...impact.summary]
                  .sort((a, b) => kindRank(a.kind) - kindRank(b.kind))
                  .map((r) => (
                    <tr>
                      <td>{kindLabel(t, r.kind)}</td>
                      <td>
                        <abbr title={ruleMeaning(lang, r.rule)}>{r.rule}</abbr>
                      </td>
                      <td class="num">{formatNumber(lang, r.count)}</td>
                    </tr>
                  ))}
              </tbody>
            </table>
          )}
        </section>
        <Picture impact={impact} effects={effects} l={l} />
      </div>
      <section aria-labelledby="effects-title">
        <h2 id="effects-title">{t.effectsTitle}</h2>
        <p class="muted" aria-live="polite">
          {t.effectsShown(formatNumber(lang, effects.length), formatNumber(lang, impact.effectCount))}
        </p>
        {!named && <p role="status">{t.loading}</p>}
        {named &&
          groups.map(([kind, list]) => (
            <section class="effect-group" aria-label={kindLabel(t, kind)}>
              <h3>
                {kindLabel(t, kind)} <span class="badge">{formatNumber(lang, totalOf(kind))}</span>
              </h3>
              <ul class="effects">
                {list.map((e) => (
                  <li class="effect" data-kind={e.kind} data-rule={e.rule} data-key={effectKey(e)}>
                    <span class="sentence">{describeEffect(t, l, e, impact.userId)}</span>{' '}
                    <details class="why">
                      <summary>
                        {t.why} <span class="rule-id">{e.rule}</span>
                      </summary>
                      <span class="why-text">{whyText(t, e.kind, e.rule, (id) => ruleMeaning(lang, id))}</span>
                    </details>
                  </li>
                ))}
              </ul>
            </section>
          ))}
        {error !== undefined && <ErrorPanel t={t} lang={lang} error={error} />}
        {cursor !== undefined && remaining > 0 && (
          <button class="more" onClick={more} disabled={busy} aria-busy={busy}>
            {t.showMore(formatNumber(lang, Math.min(PAGE, remaining)))}
          </button>
        )}
      </section>
    </div>
  );
}

const MAX_NODES = 12;

/** The contacts that break and the chats left or deleted, drawn around the user. */
function Picture({ impact, effects, l }: { impact: Impact; effects: Effect[]; l: Labels }) {
  const { t } = useApp();
  const count = (kinds: string[]) => impact.summary.filter((r) => kinds.includes(r.kind)).reduce((n, r) => n + r.count, 0);
  const contacts = count(['contact-removed']);
  const chats = count(['chat-left', 'chat-deleted']);
  if (contacts + chats === 0) return null;
  const subject = impact.userId;
  const nodes = effects.flatMap((e) =>
    e.kind === 'contact-removed'
      ? [{ kind: 'contact', label: l.user(e.userIds.find((u) => u !== subject)) }]
      : (e.kind === 'chat-left' && e.userId === subject) || e.kind === 'chat-deleted'
        ? [{ kind: e.kind === 'chat-deleted' ? 'deleted' : 'left', label: l.chat(e.chatId) }]
        : [],
  );
  // contacts and chats both drawn when there are both (the effects come sorted by kind: chats first)
  const contactNodes = nodes.filter((n) => n.kind === 'contact');
  const chatNodes = nodes.filter((n) => n.kind !== 'contact');
  const someContacts = contactNodes.slice(0, Math.max(MAX_NODES / 2, MAX_NODES - chatNodes.length));
  const shown = [...chatNodes.slice(0, MAX_NODES - someContacts.length), ...someContacts];
  const hidden = contacts + chats - shown.length;
  const W = 480,
    H = 320,
    cx = W / 2,
    cy = H / 2,
    r = 105;
  const trim = (s: string) => (s.length > 16 ? `${s.slice(0, 15)}…` : s);
  return (
    <section class="card picture" aria-labelledby="picture-title">
      <h2 id="picture-title">{t.pictureTitle}</h2>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={t.pictureDescription(contacts, chats)}>
        {shown.map((n, i) => {
          const a = (2 * Math.PI * i) / Math.max(shown.length, 1) - Math.PI / 2;
          const x = cx + r * Math.cos(a),
            y = cy + r * Math.sin(a);
          return (
            <g class={`node ${n.kind}`}>
              <line x1={cx} y1={cy} x2={x} y2={y} class="edge" />
              <line x1={(cx + x) / 2 - 6} y1={(cy + y) / 2 - 6} x2={(cx + x) / 2 + 6} y2={(cy + y) / 2 + 6} class="cut" />
              {n.kind === 'contact' ? <circle cx={x} cy={y} r="9" /> : <rect x={x - 9} y={y - 9} width="18" height="18" rx="3" />}
              <text
                x={cx + (r + 16) * Math.cos(a)}
                y={cy + (r + 16) * Math.sin(a) + 4}
                text-anchor={Math.abs(Math.cos(a)) < 0.3 ? 'middle' : Math.cos(a) > 0 ? 'start' : 'end'}
              >
                {trim(n.label)}
              </text>
            </g>
          );
        })}
        <circle cx={cx} cy={cy} r="22" class="subject" />
        <text x={cx} y={cy + 38} text-anchor="middle" class="subject-label">
          {trim(l.user(subject))}
        </text>
        {hidden > 0 && (
          <text x={W - 8} y={H - 8} text-anchor="end" class="more-label">
            {t.pictureMore(hidden)}
          </text>
        )}
      </svg>
      <p class="legend" aria-hidden="true">
        <span class="key contact">●</span> {t['kind_contact-removed']} · <span class="key left">■</span> {t['kind_chat-left']} ·{' '}
        <span class="key deleted">■</span> {t['kind_chat-deleted']}
      </p>
    </section>
  );
}
