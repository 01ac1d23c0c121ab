import { en, type Dictionary } from './en.js';
import { ja } from './ja.js';
import { vi } from './vi.js';
import { rulesEn, rulesJa, rulesVi, RULE_IDS, type RuleId, type RuleMeanings } from './rules.js';

export type Lang = 'en' | 'ja' | 'vi';
export const LANGS: { id: Lang; label: string }[] = [
  { id: 'en', label: 'English' },
  { id: 'ja', label: '日本語' },
  { id: 'vi', label: 'Tiếng Việt' },
];
export const DICTIONARIES: Record<Lang, Dictionary> = { en, ja, vi };
export const RULES: Record<Lang, RuleMeanings> = { en: rulesEn, ja: rulesJa, vi: rulesVi };
export type { Dictionary, RuleId };

const STORAGE_KEY = 'offboard.lang';

/** The reader's language: the one chosen before, else the first of the browser's languages we have, else English. */
export function initialLang(storage: { getItem(key: string): string | null }, languages: readonly string[]): Lang {
  const saved = storage.getItem(STORAGE_KEY);
  if (saved === 'en' || saved === 'ja' || saved === 'vi') return saved;
  for (const l of languages) {
    const base = l.toLowerCase().split('-')[0];
    if (base === 'en' || base === 'ja' || base === 'vi') return base;
  }
  return 'en';
}

export function rememberLang(storage: { setItem(key: string, value: string): void }, lang: Lang): void {
  storage.setItem(STORAGE_KEY, lang);
}

export const isRuleId = (id: unknown): id is RuleId => typeof id === 'string' && (RULE_IDS as readonly string[]).includes(id);

/** A rule's meaning in the reader's language; an id the console does not know is shown as it is. */
export const ruleMeaning = (lang: Lang, id: string): string => (isRuleId(id) ? RULES[lang][id] : id);

export const formatDate = (lang: Lang, iso: string | undefined): string => {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'medium' }).format(d);
};
export const formatNumber = (lang: Lang, n: number): string => new Intl.NumberFormat(lang).format(n);

/**
 * How far off an instant is, in the reader's language ("in 7 days", "in 3 hours"): the largest unit, rounded away
 * from now (up, for a time to come), so a 7-day grace period reads "in 7 days" from its first second, not "6 days"
 * (D7's countdown). Past instants round the same way ("3 hours ago").
 */
export function formatRelative(lang: Lang, iso: string, nowMs: number): string {
  const ms = Date.parse(iso) - nowMs;
  if (Number.isNaN(ms)) return iso;
  const format = new Intl.RelativeTimeFormat(lang, { numeric: 'always' });
  const abs = Math.abs(ms);
  const away = (unit: number) => Math.sign(ms) * Math.ceil(abs / unit);
  if (abs > 86_400_000) return format.format(away(86_400_000), 'day');
  if (abs > 3_600_000) return format.format(away(3_600_000), 'hour');
  if (abs > 60_000) return format.format(away(60_000), 'minute');
  return format.format(away(1000), 'second');
}
