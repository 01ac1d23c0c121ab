import { useEffect, useState } from 'preact/hooks';
import { formatDate, type Lang } from './i18n/index.js';

/**
 * The notices sent for one operation (docs/EVENTS.md): its lifecycle events and each `Affected`, as the embedded stack
 * recorded them (`GET /_local/events`). Deployed, the events go to the operation bus's subscribers and nothing is
 * listed here (the route does not exist there). Its words are its own, in the console's three languages.
 */
const WORDS = {
  en: {
    title: 'Notices sent',
    none: 'None yet.',
    to: (who: string) => `to ${who}`,
    requested: 'what will happen',
    applied: 'what happened',
  },
  ja: {
    title: '送信された通知',
    none: 'まだありません。',
    to: (who: string) => `${who} へ`,
    requested: '予定の内容',
    applied: '実施した内容',
  },
  vi: {
    title: 'Thông báo đã gửi',
    none: 'Chưa có.',
    to: (who: string) => `tới ${who}`,
    requested: 'điều sẽ xảy ra',
    applied: 'điều đã xảy ra',
  },
} as const;

interface Notice {
  time: string;
  type: string;
  id: string;
  to?: string;
  phase?: 'requested' | 'applied';
  kinds: string[];
}

async function noticesOf(operationId: string): Promise<Notice[] | undefined> {
  const res = await fetch('/_local/events?after=0', { cache: 'no-store' });
  if (!res.ok) return undefined;
  const { events } = (await res.json()) as { events: { bus: string; event: any }[] };
  return events
    .filter((e) => e.event?.source === 'offboard' && e.event.detail?.operationId === operationId)
    .map(({ event }) => ({
      time: event.time,
      type: event['detail-type'],
      id: event.detail.id,
      ...(event.detail.affectedUserId ? { to: event.detail.affectedUserId, phase: event.detail.phase } : {}),
      kinds: [...new Set<string>((event.detail.effects ?? []).map((x: { kind: string }) => x.kind))],
    }));
}

export function Notices({ operationId, lang, refresh }: { operationId: string; lang: Lang; refresh: unknown }) {
  const [notices, setNotices] = useState<Notice[]>();
  useEffect(() => {
    let live = true;
    noticesOf(operationId).then(
      (n) => live && setNotices(n),
      () => live && setNotices(undefined),
    );
    return () => void (live = false);
  }, [operationId, refresh]);
  if (notices === undefined) return null; // not the embedded stack
  const w = WORDS[lang as keyof typeof WORDS] ?? WORDS.en;
  return (
    <section class="card" aria-labelledby="notices-title">
      <h2 id="notices-title">{w.title}</h2>
      {notices.length === 0 ? (
        <p class="muted">{w.none}</p>
      ) : (
        <ol class="notices">
          {notices.map((n) => (
            <li key={n.id}>
              <time dateTime={n.time}>{formatDate(lang, n.time)}</time>
              <span class="event">{n.type}</span>
              {n.to && (
                <span class="muted">
                  {' '}
                  {w.to(n.to)} · {n.phase === 'applied' ? w.applied : w.requested}: {n.kinds.join(', ')}
                </span>
              )}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
