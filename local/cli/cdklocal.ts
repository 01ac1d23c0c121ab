import { cdklocal } from '../localstack/deploy.js';

// `npm run cdklocal -- ARGS`: cdklocal, only ever against a local endpoint with LocalStack's test credentials.
process.exit(await cdklocal(process.argv.slice(2)));
