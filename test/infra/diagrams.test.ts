import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/constructs/offboard-function.js';
import { aslToDot, DIAGRAMS_DIR, diagramFile, renderStateMachineDiagrams } from '../../local/diagrams.js';

/**
 * The pictures in docs/diagrams/ are the synthesized state machines as they are (docs/architecture.md links them):
 * a definition changed without `npm run diagrams` fails here, and so does a picture of a machine that is gone.
 */
const dir = path.join(REPO_ROOT, DIAGRAMS_DIR);
let drawn: Map<string, string>;
beforeAll(async () => {
  drawn = await renderStateMachineDiagrams();
}, 120_000);

describe('state machine pictures (docs/diagrams, npm run diagrams)', () => {
  it('one picture per state machine of the stack, and none of a machine that is gone', () => {
    // at least the transfer, deletion and contract-cancellation machines; a new machine only needs npm run diagrams
    for (const known of ['billing-cancellation.svg', 'deletion-workflow.svg', 'transfer-workflow.svg']) {
      expect([...drawn.keys()]).toContain(known);
    }
    const committed = existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => f.endsWith('.svg'))
          .sort()
      : [];
    expect(committed, 'run npm run diagrams').toEqual([...drawn.keys()].sort());
  });

  it('each committed picture is what the synthesized definition draws now (else: npm run diagrams)', () => {
    for (const [file, svg] of drawn) {
      expect(readFileSync(path.join(dir, file), 'utf8') === svg, `${DIAGRAMS_DIR}/${file} is out of date: npm run diagrams`).toBe(true);
    }
  });

  it('every state and every transition of a definition is in its picture: Next, Choice rules, Default, Catch', () => {
    const dot = aslToDot('t', {
      StartAt: 'A',
      States: {
        A: {
          Type: 'Task',
          Resource: 'arn:aws:lambda:us-east-1:000000000000:function:Offboard-StepsApply1A2B3C4D',
          Next: 'C',
          Catch: [{ ErrorEquals: ['States.ALL'], Next: 'F' }],
        },
        C: { Type: 'Choice', Choices: [{ Variable: '$.cursor', IsPresent: true, Next: 'A' }], Default: 'S' },
        S: { Type: 'Succeed' },
        F: { Type: 'Fail' },
      },
    });
    expect(dot).toContain('"A" [label="A\\nTask: StepsApply"');
    expect(dot).toContain('"(start)" -> "A"');
    expect(dot).toContain('"A" -> "C";');
    expect(dot).toContain('"C" -> "A" [label="$.cursor is present"]');
    expect(dot).toContain('"C" -> "S" [label="otherwise"]');
    expect(dot).toContain('"A" -> "F" [label="catch any error"');
    expect(diagramFile('TransferWorkflowStateMachine0A1B2C3D')).toBe('transfer-workflow.svg');
  });

  it('a changed definition draws a different picture (the check above can fail)', async () => {
    const [file, svg] = [...drawn].find(([f]) => f === 'transfer-workflow.svg')!;
    expect(file).toBe('transfer-workflow.svg');
    const { instance } = await import('@viz-js/viz');
    const dot = aslToDot('transfer-workflow', { StartAt: 'A', States: { A: { Type: 'Succeed' } } });
    const other = (await instance()).renderString(dot, { format: 'svg' });
    expect(other).not.toBe(svg);
  });
});
