import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../../infra/constructs/offboard-function.js';
import { DIAGRAMS_DIR, renderStateMachineDiagrams } from '../diagrams.js';

/** `npm run diagrams`: each synthesized state machine's picture in docs/diagrams/, and no picture of one that is gone. */
const dir = path.join(REPO_ROOT, DIAGRAMS_DIR);
mkdirSync(dir, { recursive: true });
const diagrams = await renderStateMachineDiagrams();
for (const old of readdirSync(dir).filter((f) => f.endsWith('.svg') && !diagrams.has(f))) rmSync(path.join(dir, old));
for (const [file, svg] of diagrams) writeFileSync(path.join(dir, file), svg);
process.stdout.write(`${[...diagrams.keys()].map((f) => `${DIAGRAMS_DIR}/${f}`).join('\n')}\n`);
