import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../../infra/constructs/offboard-function.js';
import { ensureConsoleBuilt } from '../console-files.js';
import { javaProblem } from '../emulators/dynamodb-local.js';
import { startEmbeddedStack } from '../embedded-stack.js';
import { fail, parseArgs, STATE_FILE } from './args.js';

const started = Date.now();
// first, before building anything: DynamoDB Local runs on Java
const noJava = javaProblem();
if (noJava) fail(noJava);
const { options } = parseArgs(process.argv.slice(2));
const port = Number(typeof options.port === 'string' ? options.port : (process.env.PORT ?? 3000));
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port: not a port number: ${options.port ?? process.env.PORT}`);
const worldFile = typeof options.world === 'string' ? path.resolve(options.world) : path.join(REPO_ROOT, 'fixtures', 'demo-world.json');
let world: unknown;
try {
  world = JSON.parse(readFileSync(worldFile, 'utf8'));
} catch (error) {
  fail(`--world: cannot read ${worldFile}: ${(error as Error).message}`);
}

await ensureConsoleBuilt((line) => process.stdout.write(line)).catch((error: Error) =>
  fail(`could not build the admin console: ${error.message}`),
);
process.stdout.write('Starting the embedded stack (DynamoDB Local, in-memory S3, synthesized state machines, HTTP API)…\n');
// --edge: also one AWS endpoint for every service, as LocalStack's port 4566 (README, "LocalStack")
// --no-iam: the template's IAM and resource policies not enforced (experiments; README, "IAM")
const stack = await startEmbeddedStack({
  port,
  world,
  edge: options.edge === true,
  iam: options['no-iam'] === true ? false : undefined,
}).catch((error: Error) => fail(`could not start: ${error.message}`));
if (stack.iam)
  stack.iam.onDenial = (d) => process.stderr.write(`AWS would refuse ${d.function}: ${d.action} on ${d.resource}\n  ${d.reason}\n`);
mkdirSync(path.dirname(STATE_FILE), { recursive: true });
writeFileSync(STATE_FILE, JSON.stringify({ url: stack.url, pid: process.pid }));
const token = await stack.token('adminA');
process.stdout.write(`
offboard is ready at ${stack.url}  (${((Date.now() - started) / 1000).toFixed(1)} s; world: ${path.relative(process.cwd(), worldFile)})
Admin console: ${stack.url}/

Try it (adminA administers Company A; a1 moves to Company C, as in the help article's case):

  TOKEN=$(npm run -s token -- adminA | tail -1)
  curl -s -X POST ${stack.url}/previews -H "authorization: Bearer $TOKEN" \\
       -H 'content-type: application/json' -d '{"operation":"transfer","userId":"a1","destinationOrganizationId":"C"}'

${
  stack.edgeUrl
    ? `AWS endpoint for every service (stack ${stack.stackName}), as LocalStack's:

  AWS_ENDPOINT_URL=${stack.edgeUrl} AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \\
    npm run world -- export --stack ${stack.stackName}

`
    : ''
}A token for adminA, valid 12 h:
${token}

Ctrl-C stops the stack.
`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  process.stdout.write('\nStopping…\n');
  await stack.stop();
  rmSync(STATE_FILE, { force: true });
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
