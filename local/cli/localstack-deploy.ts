import { deploy, setupFor } from '../localstack/deploy.js';
import { fail, parseArgs } from './args.js';

// `npm run localstack:deploy [-- --setup full|core] [--jwt-issuer URL --jwt-audience ID]`: bootstrap and deploy the
// stack on a LocalStack already running (AWS_ENDPOINT_URL, default http://localhost.localstack.cloud:4566).
const { options } = parseArgs(process.argv.slice(2));
const setup = setupFor(process.env, typeof options.setup === 'string' ? options.setup : undefined);
if (typeof setup !== 'string') fail(setup.refused);
const issuer = typeof options['jwt-issuer'] === 'string' ? options['jwt-issuer'] : undefined;
const audience = typeof options['jwt-audience'] === 'string' ? options['jwt-audience'] : undefined;
if (Boolean(issuer) !== Boolean(audience)) fail('--jwt-issuer and --jwt-audience go together');
if (setup === 'core' && issuer) fail('the core setup has no HTTP API: --jwt-issuer applies to --setup full only');
process.stdout.write(`deploying the ${setup} setup${setup === 'core' ? ' (-c offboard:api=none: no HTTP API, no Cognito)' : ''}\n`);
process.exit(await deploy(setup, { jwt: issuer && audience ? { issuer, audience } : undefined }));
