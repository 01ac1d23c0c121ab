import { readFileSync, writeFileSync } from 'node:fs';
import { requireOutputs, stackOutputs } from '../deployed-stack.js';
import { callStack, fail, loadRefusal, parseArgs, stackUrl } from './args.js';

const USAGE =
  'usage: npm run world -- export [--out FILE] [--stack NAME]\n       npm run world -- load FILE [--stack NAME [--yes-replace-everything NAME]]\n       npm run world -- check [--stack NAME]\n       npm run world -- migrate --stack NAME';
const { options, positional } = parseArgs(process.argv.slice(2));
const [command, file] = positional;

/**
 * A deployed stack (LocalStack or AWS): its table and bucket from the stack outputs (CloudFormation at the standard
 * AWS endpoint: `AWS_ENDPOINT_URL` for LocalStack), the same store code.
 */
async function useDeployedStack(name: string) {
  let outputs: Record<string, string> = {};
  try {
    outputs = await stackOutputs(name);
    requireOutputs(outputs, ['TableName', 'BucketName'], name);
  } catch (error) {
    fail((error as Error).message);
  }
  process.env.TABLE_NAME = outputs.TableName;
  process.env.BUCKET_NAME = outputs.BucketName;
}

function readWorldFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    return fail(`cannot read ${path}: ${(error as Error).message}`);
  }
}

if (command === 'export') {
  let world: unknown;
  if (typeof options.stack === 'string') {
    await useDeployedStack(options.stack);
    world = await (await import('../world/world-store.js')).exportWorld();
  } else {
    const { status, json } = await callStack(stackUrl(options), 'GET', '/_local/world');
    if (status !== 200) fail(`export failed: ${JSON.stringify(json)}`);
    world = json;
  }
  const text = `${JSON.stringify(world, null, 2)}\n`;
  if (typeof options.out === 'string') writeFileSync(options.out, text);
  else process.stdout.write(text);
} else if (command === 'load' && file) {
  const text = readWorldFile(file);
  if (typeof options.stack === 'string') {
    let world: unknown;
    try {
      world = JSON.parse(text);
    } catch {
      fail(`${file}: not valid JSON`);
    }
    const refusal = await loadRefusal(options.stack, options['yes-replace-everything']);
    if (refusal) fail(refusal);
    await useDeployedStack(options.stack);
    const store = await import('../world/world-store.js');
    try {
      const result = await store.loadWorld(world);
      process.stdout.write(`loaded ${file}: ${result.items} items, ${result.objects} objects\n`);
    } catch (error) {
      fail(`${file}: refused, nothing changed: ${(error as Error).message}`);
    }
  } else {
    const { status, json } = await callStack(stackUrl(options), 'PUT', '/_local/world', text);
    if (status !== 200) fail(`${file}: refused, nothing changed: ${json.error?.message ?? JSON.stringify(json)}`);
    process.stdout.write(`loaded ${file}: ${json.items} items, ${json.objects} objects\n`);
  }
} else if (command === 'check') {
  // Issue 10: every broken invariant of the world, one per line; exit 1 when there is any.
  let problems: { invariant: string; message: string; ids: string[] }[];
  if (typeof options.stack === 'string') {
    await useDeployedStack(options.stack);
    problems = await (await import('../world/check.js')).checkWorld();
  } else {
    const { status, json } = await callStack(stackUrl(options), 'GET', '/_local/world/check');
    if (status !== 200) fail(`check failed: ${JSON.stringify(json)}`);
    problems = json.problems;
  }
  for (const p of problems) process.stdout.write(`${p.invariant}: ${p.message} [${p.ids.join(', ')}]\n`);
  process.stdout.write(problems.length ? `world check: ${problems.length} problems\n` : 'world check: ok\n');
  process.exit(problems.length ? 1 : 0);
} else if (command === 'migrate' && typeof options.stack === 'string') {
  // a table deployed before GSI3 (docs/architecture.md "Owners"): the owned files' records of their hand-overs
  await useDeployedStack(options.stack);
  const { files, records } = await (await import('../world/world-store.js')).migrateHandOvers();
  process.stdout.write(`migrated: ${files} file items out of GSI1, ${records} hand-over records written\n`);
} else {
  fail(USAGE);
}
