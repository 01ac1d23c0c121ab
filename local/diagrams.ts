import { instance } from '@viz-js/viz';
import { LocalNames, resourcesOfType, synthesizeTemplate } from './template.js';

/**
 * The state machines' pictures (docs/diagrams/*.svg), drawn from the synthesized definitions (ASL → Graphviz DOT →
 * SVG with @viz-js/viz, Graphviz compiled to WebAssembly: no browser). `npm run diagrams` writes them;
 * test/infra/diagrams.test.ts fails when a committed picture differs from what the definition draws now.
 */
export const DIAGRAMS_DIR = 'docs/diagrams';

/** `TransferWorkflowStateMachine1A2B3C4D` → `transfer-workflow.svg`. */
export const diagramFile = (logicalId: string) =>
  `${logicalId
    .replace(/[0-9A-F]{8}$/, '')
    .replace(/StateMachine$/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase()}.svg`;

/** A DOT string; a line break becomes DOT's centred `\n`. */
const quote = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
const shortFunction = (name: unknown) =>
  String(name ?? '')
    .replace(/^.*:function:/, '')
    .replace(/^[^-]+-/, '')
    .replace(/[0-9A-F]{8}$/, '');

/** A Choice rule in words: `$.cursor is present`, `$.planned = true and …`. */
function condition(rule: any): string {
  if (rule.And) return rule.And.map(condition).join(' and ');
  if (rule.Or) return rule.Or.map(condition).join(' or ');
  if (rule.Not) return `not (${condition(rule.Not)})`;
  const op = Object.keys(rule).find((k) => k !== 'Variable' && k !== 'Next')!;
  if (op === 'IsPresent') return `${rule.Variable} ${rule[op] ? 'is present' : 'is absent'}`;
  if (op.startsWith('Is')) return `${rule.Variable} ${rule[op] ? '' : 'not '}${op.slice(2).toLowerCase()}`;
  const symbol = op.replace(/^(String|Numeric|Boolean|Timestamp)/, '').replace(/Path$/, '');
  const sign: Record<string, string> = {
    Equals: '=',
    LessThan: '<',
    GreaterThan: '>',
    LessThanEquals: '≤',
    GreaterThanEquals: '≥',
    Matches: '~',
  };
  return `${rule.Variable} ${sign[symbol] ?? op} ${JSON.stringify(rule[op])}`;
}

const errors = (list: string[], style: 'names' | 'count' = 'names') =>
  list.includes('States.ALL')
    ? 'any error'
    : style === 'count' || list.length > 2
      ? `${list.length} error${list.length > 1 ? 's' : ''}`
      : list.join(', ');

/** One definition (its States, recursively for Map and Parallel) as DOT statements. */
function statements(definition: any, prefix: string, lines: string[]): string {
  const id = (name: string) => quote(`${prefix}${name}`);
  for (const [name, s] of Object.entries<any>(definition.States)) {
    const detail: string[] = [s.Type === 'Task' ? `Task: ${shortFunction(s.Parameters?.FunctionName ?? s.Resource)}` : s.Type];
    // each Retry as its attempts and how many errors it matches
    const retries = (s.Retry ?? []).map((r: any) => `×${r.MaxAttempts ?? 3} (${errors(r.ErrorEquals, 'count')})`);
    if (retries.length) detail.push(`retry ${retries.join(', ')}`);
    if (s.Type === 'Wait') {
      detail.push(s.TimestampPath ? `until ${s.TimestampPath}` : s.SecondsPath ? `for ${s.SecondsPath}` : `${s.Seconds ?? s.Timestamp}`);
    }
    const shape =
      s.Type === 'Choice'
        ? 'shape=diamond, style=filled, fillcolor="#fff4d6"'
        : s.Type === 'Succeed'
          ? 'shape=ellipse, style=filled, fillcolor="#dff3df"'
          : s.Type === 'Fail'
            ? 'shape=ellipse, style=filled, fillcolor="#f8dcdc"'
            : s.Type === 'Task'
              ? 'shape=box, style="rounded,filled", fillcolor="#e3ecfa"'
              : 'shape=box, style="rounded,filled", fillcolor="#eeeeee"';
    if (s.Type === 'Map' || s.Type === 'Parallel') {
      const branches = s.Type === 'Map' ? [s.ItemProcessor ?? s.Iterator] : s.Branches;
      lines.push(`${id(name)} [label=${quote(`${name}\n${s.Type}`)}, ${shape}];`);
      branches.forEach((b: any, i: number) => {
        const label = `${name}${branches.length > 1 ? ` ${i + 1}` : ''}`;
        lines.push(`subgraph ${quote(`cluster_${prefix}${name}${i}`)} { label=${quote(label)}; style=dashed;`);
        const start = statements(b, `${prefix}${name}/${i}/`, lines);
        lines.push('}', `${id(name)} -> ${start} [style=dotted];`);
      });
    } else lines.push(`${id(name)} [label=${quote(`${name}\n${detail.join('\n')}`)}, ${shape}];`);
    if (s.Next) lines.push(`${id(name)} -> ${id(s.Next)};`);
    for (const rule of s.Choices ?? []) lines.push(`${id(name)} -> ${id(rule.Next)} [label=${quote(condition(rule))}];`);
    if (s.Default) lines.push(`${id(name)} -> ${id(s.Default)} [label="otherwise"];`);
    for (const c of s.Catch ?? []) {
      const label = quote(`catch ${errors(c.ErrorEquals)}`);
      lines.push(`${id(name)} -> ${id(c.Next)} [label=${label}, style=dashed, color="#b03030", fontcolor="#b03030"];`);
    }
  }
  return id(definition.StartAt);
}

const wrap = (text: string, width: number) =>
  text.split(' ').reduce<string[]>((lines, word) => {
    const last = lines.at(-1);
    if (last !== undefined && `${last} ${word}`.length <= width) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
    return lines;
  }, []);

/** A state machine definition (ASL) as a Graphviz graph, top to bottom. */
export function aslToDot(title: string, definition: any): string {
  const lines = [
    'digraph {',
    `graph [rankdir=TB, fontname="Helvetica", fontsize=12, labelloc=t, label=${quote(title)}, nodesep=0.4, ranksep=0.45, pad=0.3];`,
    'node [fontname="Helvetica", fontsize=10, margin="0.2,0.06"];',
    'edge [fontname="Helvetica", fontsize=9, color="#555555"];',
    '"(start)" [shape=circle, label="", width=0.18, style=filled, fillcolor="#333333"];',
  ];
  const start = statements(definition, '', lines);
  lines.push(`"(start)" -> ${start};`, '}');
  return lines.join('\n');
}

/** Every state machine of the synthesized stack: its file name under docs/diagrams/ and its picture. */
export async function renderStateMachineDiagrams(): Promise<Map<string, string>> {
  const template = synthesizeTemplate();
  const names = new LocalNames(template, 'Offboard');
  const viz = await instance();
  const out = new Map<string, string>();
  for (const [logicalId, r] of resourcesOfType(template, 'AWS::StepFunctions::StateMachine').sort(([a], [b]) => a.localeCompare(b))) {
    const definition = JSON.parse(names.resolve(r.Properties.DefinitionString));
    const file = diagramFile(logicalId);
    const title = [file.replace(/\.svg$/, ''), ...wrap(definition.Comment ?? logicalId, 44)].join('\n');
    out.set(file, viz.renderString(aslToDot(title, definition), { format: 'svg', engine: 'dot' }));
  }
  return out;
}
