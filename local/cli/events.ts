import { callStack, fail, parseArgs, stackUrl } from './args.js';

const USAGE = `usage: npm run events -- tail [--all] [--json] [--from-start] [--once]
  prints the operation bus's events (docs/EVENTS.md) as a running \`npm start\` stack emits them
  --all         every bus (the billing bus's events too)
  --json        one event a line, as EventBridge delivers it
  --from-start  the events emitted before, then the new ones
  --once        print what there is and stop`;
const { options, positional } = parseArgs(process.argv.slice(2));
if (positional[0] !== 'tail' || positional.length > 1) fail(USAGE);
const url = stackUrl(options);

/** One line per event: its time, detail-type, what it is about and its idempotency key. */
function line(e: { bus: string; event: any }): string {
  const d = e.event.detail ?? {};
  const about =
    e.event['detail-type'] === 'Affected'
      ? `${d.affectedUserId} (${d.phase}): ${(d.effects ?? []).map((x: any) => `${x.kind}${x.withUserId ? ` with ${x.withUserId}` : x.fileId ? ` ${x.fileId}` : x.taskId ? ` ${x.taskId}` : x.chatId ? ` ${x.chatId}` : ''}`).join(', ')}${d.when ? ` · when ${d.when}` : ''}`
      : d.runId
        ? `${d.runId} ${d.organizationId} → ${d.status} · ${d.counts?.done}/${d.counts?.total} done, ${d.counts?.failed} failed`
        : `${d.operationId} ${d.userId} ${d.from ?? '∅'} → ${d.status} by ${d.by} (${d.rule}) · ${d.effectCount} effects`;
  return `${e.event.time}  ${e.event['detail-type'].padEnd(26)} ${about}  [${d.id ?? e.event.id}]`;
}

let after = 0;
if (!options['from-start']) after = (await callStack(url, 'GET', '/_local/events?after=0')).json.last ?? 0;
const operationsOnly = !options.all;
process.stderr.write(`tailing ${operationsOnly ? 'the operation bus' : 'every bus'} of ${url} (Ctrl-C stops)\n`);
for (;;) {
  const { status, json } = await callStack(url, 'GET', `/_local/events?after=${after}&waitMs=${options.once ? 0 : 20000}`);
  if (status !== 200) fail(`${url}: ${json.error?.message ?? JSON.stringify(json)}`);
  for (const e of json.events as { bus: string; event: any }[]) {
    if (operationsOnly && !e.bus.endsWith('-operations')) continue;
    process.stdout.write(`${options.json ? JSON.stringify(e.event) : line(e)}\n`);
  }
  after = json.last;
  if (options.once) break;
}
