import { readFileSync } from 'node:fs';
import { callStack, fail, parseArgs, stackUrl } from './args.js';

const USAGE = `usage: npm run billing -- put FILE [--times N]   deliver the event in FILE (a PutEvents entry: Source, DetailType, Detail)
       npm run billing -- dead-letters               list the events in the billing dead-letter queue, with their reasons`;
const { options, positional } = parseArgs(process.argv.slice(2));
const [command, file] = positional;
const url = stackUrl(options);

if (command === 'put' && file) {
  let entry: unknown;
  try {
    entry = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    fail(`${file}: ${(error as Error).message}`);
  }
  const times = typeof options.times === 'string' ? Number(options.times) : 1;
  if (!Number.isInteger(times) || times < 1) fail('--times: a whole number of deliveries, 1 or more');
  const { status, json } = await callStack(url, 'PUT', '/_local/billing', { entry, times });
  if (status !== 200) fail(`${file}: ${json.error?.message ?? JSON.stringify(json)}`);
  process.stdout.write(`event ${json.eventId}\n`);
  const runId = json.deliveries.find((d: any) => d.result?.runId)?.result.runId;
  if (runId) process.stdout.write(`run: ${runId}\n`);
  if (json.deliveries.length === 0) {
    // a misspelled detail-type is delivered nowhere: said, with the names the rules know, and exit 2 (as a rejection)
    const e = entry as { Source?: unknown; DetailType?: unknown };
    process.stderr.write(
      `${file}: the event (source ${JSON.stringify(e.Source)}, detail-type ${JSON.stringify(e.DetailType)}) matched no rule; nothing was delivered. Known detail-types: ${(json.detailTypes ?? []).map((d: string) => JSON.stringify(d)).join(', ')} (source "billing")\n`,
    );
    process.exitCode = 2;
  }
  for (const d of json.deliveries) {
    if (d.outcome === 'delivered') process.stdout.write(`  ${d.rule} → ${d.target}: ${JSON.stringify(d.result)}\n`);
    else
      process.stdout.write(
        `  ${d.rule} → ${d.target}: rejected after ${d.attempts} attempts, sent to the dead-letter queue: ${d.error.errorType}: ${d.error.errorMessage}\n`,
      );
  }
  if (json.deliveries.some((d: any) => d.outcome !== 'delivered')) process.exitCode = 2;
} else if (command === 'dead-letters') {
  const { json } = await callStack(url, 'GET', '/_local/dead-letters');
  if (json.length === 0) process.stdout.write('the dead-letter queue is empty\n');
  for (const m of json) {
    process.stdout.write(
      `${m.timestamp}  ${m.requestPayload?.['detail-type']} ${m.requestPayload?.id}: ${m.responsePayload?.errorType}: ${m.responsePayload?.errorMessage}\n`,
    );
  }
} else {
  fail(USAGE);
}
