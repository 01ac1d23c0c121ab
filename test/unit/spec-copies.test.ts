import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/constructs/offboard-function.js';

/** The repository carries the specification it implements; where the shared original is at hand, the copies match it. */
const SHARED = path.resolve(REPO_ROOT, '..', 'shared', 'spec');
const copies: [string, string][] = [
  ['docs/RULES.md', 'RULES.md'],
  ['docs/CONTRACT.md', 'CONTRACT.md'],
  ['local/world/world.schema.json', 'world.schema.json'],
  ['docs/world.schema.json', 'world.schema.json'],
];

describe('the specification copies', () => {
  for (const [copy, original] of copies) {
    it.skipIf(!existsSync(path.join(SHARED, original)))(`${copy} is the shared ${original}, unchanged`, () => {
      expect(readFileSync(path.join(REPO_ROOT, copy), 'utf8')).toBe(readFileSync(path.join(SHARED, original), 'utf8'));
    });
  }
  it('docs/world.schema.json (beside docs/CONTRACT.md, which names it) is the schema the world loader validates with', () => {
    const read = (p: string) => readFileSync(path.join(REPO_ROOT, p), 'utf8');
    expect(read('docs/world.schema.json')).toBe(read('local/world/world.schema.json'));
  });
});
