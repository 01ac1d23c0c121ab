import * as path from 'node:path';
import { build, type Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUNDLING, REPO_ROOT } from '../../infra/constructs/offboard-function.js';
import { synthesize } from './template.js';

/**
 * Nothing of the test harness ships (issue 17): fault and throttle injection (local/chaos.ts), request counters
 * (local/request-counts.ts), write watching and world load/export live in local/ and reach the functions' SDK clients
 * only through the hook in functions/store/clients.ts, which the embedded stack and the benchmark call. Every
 * function's entry is bundled here as CDK's NodejsFunction bundles it (esbuild, the construct's own options), and
 * every bundle and every function environment is searched for harness code and variables.
 */
const HARNESS_TEXT = [
  'OFFBOARD_CHAOS', // the chaos switch
  'injected by OFFBOARD', // chaos's error messages
  'offboardChaos', // chaos's middleware names
  'offboardRequestCounter',
  'offboardWriteWatch',
  'takeRequestCounts',
  '/_local/', // the embedded stack's control routes
];
/** Variables of the harness (local/, bench/, test/): none belongs in a deployed function's environment. */
const HARNESS_VARIABLE = /CHAOS|^OFFBOARD_|^BENCH_|^AWS_ENDPOINT_URL/;

let functions: { id: string; entry: string; environment: Record<string, unknown> }[];
let bundles: Map<string, string>;
let metafile: Metafile;
beforeAll(async () => {
  const template = synthesize();
  functions = Object.entries<any>(template.findResources('AWS::Lambda::Function'))
    .filter(([, f]) => f.Metadata?.['offboard:entry'])
    .map(([id, f]) => ({ id, entry: f.Metadata['offboard:entry'], environment: f.Properties.Environment?.Variables ?? {} }));
  const entries = [...new Set(functions.map((f) => f.entry))];
  const result = await build({
    absWorkingDir: REPO_ROOT,
    entryPoints: Object.fromEntries(entries.map((e) => [e.replace(/\.ts$/, ''), path.join(REPO_ROOT, e)])),
    bundle: true,
    platform: 'node',
    format: BUNDLING.format,
    target: BUNDLING.target,
    minify: BUNDLING.minify,
    external: BUNDLING.externalModules,
    outdir: path.join(REPO_ROOT, '.offboard', 'bundles'),
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  metafile = result.metafile;
  bundles = new Map(
    result.outputFiles.map((o) => [path.relative(path.join(REPO_ROOT, '.offboard', 'bundles'), o.path).replace(/\.js$/, '.ts'), o.text]),
  );
  expect([...bundles.keys()].sort()).toEqual([...entries].sort());
}, 120_000);

describe('nothing of the test harness ships (issue 17)', () => {
  it('bundles every function entry of the template (32 functions)', () => {
    expect(functions.length).toBe(32);
    for (const f of functions) expect(bundles.get(f.entry), f.id).toBeTruthy();
  });

  it('no bundle holds code from local/, bench/ or test/: only functions/ and packages', () => {
    const inputs = Object.keys(metafile.inputs);
    expect(inputs.filter((i) => !i.startsWith('functions/') && !i.includes('node_modules/'))).toEqual([]);
  });

  it('no bundle holds the chaos injector, the request counter or a control route', () => {
    const found = [...bundles].flatMap(([entry, text]) => HARNESS_TEXT.filter((t) => text.includes(t)).map((t) => `${entry}: ${t}`));
    expect(found).toEqual([]);
  });

  it('no function environment sets a harness variable (OFFBOARD_CHAOS, endpoints, bench switches)', () => {
    const found = functions.flatMap((f) =>
      Object.keys(f.environment)
        .filter((k) => HARNESS_VARIABLE.test(k))
        .map((k) => `${f.id}: ${k}`),
    );
    expect(found).toEqual([]);
    expect(functions.every((f) => 'POWERTOOLS_SERVICE_NAME' in f.environment)).toBe(true); // the environments were read
  });
});
