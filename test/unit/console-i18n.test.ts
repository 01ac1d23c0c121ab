import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/constructs/offboard-function.js';
import { DICTIONARIES, initialLang, RULES, ruleMeaning } from '../../console/src/i18n/index.js';
import { RULE_IDS } from '../../console/src/i18n/rules.js';

const storage = (saved: string | null) => ({ getItem: () => saved });

describe('console languages', () => {
  it('chooses the first of the browser languages it has, a remembered choice first, English otherwise', () => {
    expect(initialLang(storage(null), ['fr-FR', 'ja-JP', 'en-US'])).toBe('ja');
    expect(initialLang(storage(null), ['vi'])).toBe('vi');
    expect(initialLang(storage(null), ['de-DE', 'fr'])).toBe('en');
    expect(initialLang(storage('vi'), ['ja-JP'])).toBe('vi');
    expect(initialLang(storage('xx'), ['ja-JP'])).toBe('ja');
  });

  it('explains every rule id of docs/RULES.md in each language, in English with RULES.md wording', () => {
    const rules = readFileSync(path.join(REPO_ROOT, 'docs', 'RULES.md'), 'utf8');
    const ids = [...rules.matchAll(/^- \*\*([A-Z]\d+)\*\*/gm)].map((m) => m[1]);
    expect(ids.length).toBeGreaterThan(25);
    expect([...RULE_IDS].sort()).toEqual([...ids].sort());
    for (const lang of ['en', 'ja', 'vi'] as const)
      for (const id of RULE_IDS) expect(RULES[lang][id].length, `${lang} ${id}`).toBeGreaterThan(10);
    // the English meanings keep RULES.md's own words where they fit in a sentence
    expect(rules).toContain('Two users of the same organization may always communicate.');
    expect(ruleMeaning('en', 'C1')).toBe('Two users of the same organization may always communicate.');
    expect(ruleMeaning('en', 'Z9')).toBe('Z9');
  });

  it('has the same keys in every dictionary, and parameterised strings take the same arguments', () => {
    for (const lang of ['ja', 'vi'] as const) {
      expect(Object.keys(DICTIONARIES[lang]).sort()).toEqual(Object.keys(DICTIONARIES.en).sort());
      for (const [key, value] of Object.entries(DICTIONARIES.en)) {
        const other = (DICTIONARIES[lang] as Record<string, unknown>)[key];
        expect(typeof other, `${lang}.${key}`).toBe(typeof value);
        if (typeof value === 'function') expect((other as (...args: never[]) => unknown).length, `${lang}.${key}`).toBe(value.length);
      }
    }
  });
});
