import { callStack, fail, parseArgs, stackUrl } from './args.js';

/**
 * `npm run token -- USER_ID [--scope SCOPE]`: a bearer token the running embedded stack accepts, alone on the last
 * line. `--scope offboard/operator` gives the platform team's operator scope (reads every billing run).
 */
const { options, positional } = parseArgs(process.argv.slice(2));
const userId = positional[0];
if (!userId) fail('usage: npm run token -- USER_ID [--scope offboard/operator]');
const { status, json } = await callStack(stackUrl(options), 'POST', '/_local/token', {
  userId,
  scopes: typeof options.scope === 'string' ? options.scope.split(',') : [],
});
if (status !== 200) fail(`no token: ${json.error?.message ?? JSON.stringify(json)}`);
process.stdout.write(`${json.token}\n`);
