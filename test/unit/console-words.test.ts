import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/constructs/offboard-function.js';
import { auditEventLabel, codeWords } from '../../console/src/describe.js';
import { DICTIONARIES, formatRelative } from '../../console/src/i18n/index.js';
import { javaProblem } from '../../local/emulators/dynamodb-local.js';

/** Every .ts file under `dir` (relative to the repository), with its text. */
function sources(dir: string): { file: string; text: string }[] {
  const root = path.join(REPO_ROOT, dir);
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => ({ file: path.join(dir, f), text: readFileSync(path.join(root, f), 'utf8') }));
}
const all = (files: { text: string }[], pattern: RegExp) =>
  [...new Set(files.flatMap(({ text }) => [...text.matchAll(pattern)].map((m) => m[1]!)))].sort();

const functions = sources('functions');
/** Audit event names, as the functions record them (`audit(…, { event: 'suspended', … })`). */
const EVENTS = all(functions, /\bevent: '([a-z][a-z-]*)'/g);
/**
 * Error and refusal codes the console can be shown: CONTRACT.md's error answers (errorBody), every `code` a function
 * sets (a run's error, a refusal reason's condition), a run's error named after the error that ended it (the named
 * errors of functions/shared/errors.ts; describeError's `Unknown`), and the local gateway's own answers.
 */
const CODES = [
  ...all(functions, /errorBody\('([a-z][a-z-]*)'/g),
  ...all(functions, /\bcode(?::| =) '([A-Za-z][A-Za-z-]*)'/g),
  ...all(
    functions.filter((f) => f.file.endsWith(path.join('shared', 'errors.ts'))),
    /override name = '([A-Za-z]+)'/g,
  ),
  ...all(sources('local'), /contractError\('([a-z][a-z-]*)'/g),
  'Unknown',
];

describe('console words for every audit event and every code (issue 21)', () => {
  it('finds the events and codes in the source', () => {
    // the list is read from the source, not kept by hand: these are known to be there
    expect(EVENTS).toEqual(expect.arrayContaining(['requested', 'approved', 'suspended', 'undone', 'resumed', 'purge-started']));
    expect(CODES).toEqual(
      expect.arrayContaining([
        'invalid-request',
        'ineligible',
        'impact-changed',
        'NoFreeSeat',
        'already-deleted',
        'last-administrator',
        'payload-too-large',
      ]),
    );
  });

  for (const lang of ['en', 'ja', 'vi'] as const) {
    const t = DICTIONARIES[lang];
    it(`${lang}: every audit event has words (never its raw name)`, () => {
      const missing = EVENTS.filter((e) => typeof (t as Record<string, unknown>)[`audit_${e}`] !== 'string');
      expect(missing).toEqual([]);
      for (const e of EVENTS) expect(auditEventLabel(t, e), e).not.toBe(e);
      expect(auditEventLabel(t, 'some-new-event')).toBe(t.audit_unknown);
    });
    it(`${lang}: every error and refusal code has words`, () => {
      const missing = CODES.filter((c) => codeWords(t, c) === undefined);
      expect(missing).toEqual([]);
      // a code that reads as one (kebab-case, PascalCase) never shows inside its words
      for (const c of CODES.filter((c) => /[-A-Z]/.test(c))) expect(codeWords(t, c), c).not.toContain(c);
    });
  }

  it('Japanese and Vietnamese word them in their own language, not in English', () => {
    for (const lang of ['ja', 'vi'] as const) {
      const t = DICTIONARIES[lang];
      for (const e of EVENTS) expect(auditEventLabel(t, e), `${lang} ${e}`).not.toBe(auditEventLabel(DICTIONARIES.en, e));
      for (const c of CODES) expect(codeWords(t, c), `${lang} ${c}`).not.toBe(codeWords(DICTIONARIES.en, c));
      for (const k of ['cancelledUser', 'plan_free', 'plan_business', 'plan_enterprise'] as const)
        expect(t[k], `${lang} ${k}`).not.toBe(DICTIONARIES.en[k]);
      expect(t.deletedUserName('X')).not.toBe(DICTIONARIES.en.deletedUserName('X'));
    }
  });
});

describe('D7 countdown', () => {
  const now = Date.parse('2026-12-01T00:00:00Z');
  const inDays = (d: number, extraMs = 0) => new Date(now + d * 86_400_000 + extraMs).toISOString();
  it('a 7-day grace period reads "in 7 days" from its first second (rounded up, not down to 6)', () => {
    expect(formatRelative('en', inDays(7, -1000), now)).toBe('in 7 days');
    expect(formatRelative('en', inDays(7), now)).toBe('in 7 days');
    expect(formatRelative('en', inDays(6, 1000), now)).toBe('in 7 days');
    expect(formatRelative('en', inDays(6), now)).toBe('in 6 days');
    expect(formatRelative('en', inDays(0, 90 * 60_000), now)).toBe('in 2 hours');
    expect(formatRelative('ja', inDays(7, -1000), now)).toBe('7 日後');
  });
});

describe('npm start checks Java first', () => {
  it('names what to install, in one line, when java is missing', () => {
    const problem = javaProblem('/nonexistent/java');
    expect(problem).toMatch(/^DynamoDB Local needs Java, and \/nonexistent\/java was not found: install a Java runtime 17 or newer/);
    expect(problem).not.toContain('\n');
  });
  it('says nothing when the java on PATH runs and is new enough', () => {
    expect(javaProblem()).toBeUndefined();
  });
});
