import { callStack, fail, parseArgs, stackUrl } from './args.js';

/** `npm run token -- USER_ID`: a bearer token the running embedded stack accepts, alone on the last line. */
const { options, positional } = parseArgs(process.argv.slice(2));
const userId = positional[0];
if (!userId) fail('usage: npm run token -- USER_ID');
const { status, json } = await callStack(stackUrl(options), 'POST', '/_local/token', { userId });
if (status !== 200) fail(`the stack refused: ${JSON.stringify(json)}`);
process.stdout.write(`${json.token}\n`);
