import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/constructs/offboard-function.js';
import { grantedActions, stackPolicies, type StackPolicies } from '../../local/iam/policies.js';
import { LocalNames, resourcesOfType, synthesizeTemplate, type Template } from '../../local/template.js';

/**
 * Least privilege, measured: every action a function's role grants is one some test path of that function used
 * (recorded by the embedded stack's IAM enforcement, local/iam/enforce.ts, into .offboard/iam-usage/ while the
 * integration tests ran; this project runs after them). What no test can use is listed here with its reason.
 */
const EVERY_FUNCTION: Record<string, string> = {
  'logs:CreateLogGroup': 'AWSLambdaBasicExecutionRole: the Lambda runtime writes the function’s logs, not its code',
  'logs:CreateLogStream': 'AWSLambdaBasicExecutionRole: the Lambda runtime writes the function’s logs, not its code',
  'logs:PutLogEvents': 'AWSLambdaBasicExecutionRole: the Lambda runtime writes the function’s logs, not its code',
  'xray:PutTraceSegments': 'active tracing: the Lambda runtime sends the trace segments, not the function’s code',
  'xray:PutTelemetryRecords': 'active tracing: the Lambda runtime sends the trace segments, not the function’s code',
};
/** Function (logical id without its hash) → action → why no test path uses it. */
const EXCEPTIONS: Record<string, Record<string, string>> = {
  BillingRunStepsRecordBatchFailed: {
    'dynamodb:BatchWriteItem':
      'F3: when the last batch fails, the files the batch before handed on are deleted here, records after bytes (services/bulk-run.ts recordBatchFailed); no test fails the last batch with files handed on',
    's3:DeleteObject':
      'F3: when the last batch fails, the files the batch before handed on are deleted here (services/bulk-run.ts recordBatchFailed); no test fails the last batch with files handed on',
  },
  BillingPlanChanged: {
    'dynamodb:BatchGetItem':
      "docs/EVENTS.md: a B3 cancellation delivers what the transfer left in its outbox (its request's Affected events, read from its plan pages) before its own event; no test leaves a request's events undelivered until a Plan Changed",
  },
  StepsAwaitSeat: {
    'dynamodb:BatchGetItem':
      'docs/EVENTS.md: an event left in the outbox is delivered by the next step that reads the operation, reading its plan pages for the Affected events; no test leaves one undelivered until AwaitSeat',
  },
  StepsStartPurge: {
    'dynamodb:BatchGetItem':
      'docs/EVENTS.md: an event left in the outbox is delivered by the next step that reads the operation, reading its plan pages for the Affected events; no test leaves one undelivered until StartPurge',
  },
  StepsMarkFailed: {
    'states:StartExecution':
      'T4, B2: a failed operation gives its seat back and resumes the transfer waiting longest for it (services/lifecycle.ts markFailed); no test fails an operation while a transfer waits for that seat',
  },
};

const USAGE_DIR = path.join(REPO_ROOT, '.offboard', 'iam-usage');
const MERGED = path.join(REPO_ROOT, '.offboard', 'iam-usage.json');
const shortName = (logicalId: string) => logicalId.replace(/[0-9A-F]{8}$/, '');

let template: Template;
let policies: StackPolicies;
let usage: Record<string, Record<string, string[]>>;

beforeAll(() => {
  template = synthesizeTemplate();
  policies = stackPolicies(new LocalNames(template, '{prefix}'));
  usage = {};
  const files = existsSync(USAGE_DIR) ? readdirSync(USAGE_DIR).filter((f) => f.endsWith('.json')) : [];
  for (const file of files) {
    const one = JSON.parse(readFileSync(path.join(USAGE_DIR, file), 'utf8')) as Record<string, Record<string, string[]>>;
    for (const [fn, actions] of Object.entries(one)) {
      const merged = (usage[fn] ??= {});
      for (const [action, resources] of Object.entries(actions))
        merged[action] = [...new Set([...(merged[action] ?? []), ...resources])].sort();
    }
  }
  mkdirSync(path.dirname(MERGED), { recursive: true });
  writeFileSync(MERGED, JSON.stringify(usage, null, 1));
});

/** Per function: the actions its role grants, and those the tests used. */
function table() {
  return resourcesOfType(template, 'AWS::Lambda::Function')
    .filter(([id]) => policies.functionRoles.has(id) && template.Resources[id]!.Metadata?.['offboard:entry'])
    .map(([id]) => {
      const granted = grantedActions(policies.roles.get(policies.functionRoles.get(id)!)!).filter((a) => !(a in EVERY_FUNCTION));
      const used = Object.keys(usage[id] ?? {}).sort();
      return { id, name: shortName(id), granted, used };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

const strip = (a: string) => a.replace(/^[a-z0-9]+:/, '');
function markdownTable(rows: ReturnType<typeof table>): string {
  return [
    '| function | actions granted | actions used by the tests |',
    '|---|---|---|',
    ...rows.map((r) => {
      const byService = (list: string[]) => {
        const groups = new Map<string, string[]>();
        for (const a of list) groups.set(a.split(':')[0]!, [...(groups.get(a.split(':')[0]!) ?? []), strip(a)]);
        return [...groups].map(([service, actions]) => `${service}: ${actions.join(', ')}`).join('; ');
      };
      return `| ${r.name} | ${byService(r.granted) || '—'} | ${r.granted.join() === r.used.join() ? 'the same' : byService(r.used)} |`;
    }),
  ].join('\n');
}

describe('least privilege, measured by the integration tests (local/iam/enforce.ts)', () => {
  it('the integration tests recorded what the functions used (run them first: npm test, or vitest run test/integration)', () => {
    expect(Object.keys(usage).length, `no usage in ${path.relative(REPO_ROOT, USAGE_DIR)}`).toBeGreaterThan(0);
  });

  it('no role grants an action no test path of its function uses (each exception listed with its reason)', () => {
    const unused = table().flatMap((r) =>
      r.granted.filter((a) => !r.used.includes(a) && !EXCEPTIONS[r.name]?.[a]).map((a) => `${r.name}: ${a}`),
    );
    expect(unused).toEqual([]);
  });

  it('every exception is still granted and still unused (a stale one is removed)', () => {
    const rows = new Map(table().map((r) => [r.name, r]));
    const stale = Object.entries(EXCEPTIONS).flatMap(([fn, actions]) =>
      Object.keys(actions)
        .filter((a) => !rows.get(fn)?.granted.includes(a) || rows.get(fn)!.used.includes(a))
        .map((a) => `${fn}: ${a}`),
    );
    expect(stale).toEqual([]);
  });

  it('docs/reliability.md shows the table as measured: function, actions granted, actions used', () => {
    const measured = markdownTable(table());
    writeFileSync(path.join(REPO_ROOT, '.offboard', 'iam-table.md'), `${measured}\n`); // to paste when it changed
    expect(
      readFileSync(path.join(REPO_ROOT, 'docs', 'reliability.md'), 'utf8'),
      'paste .offboard/iam-table.md into docs/reliability.md',
    ).toContain(measured);
  });
});
