import { deploy, setupFor } from '../localstack/deploy.js';
import { fail, parseArgs } from './args.js';

// `npm run localstack:deploy [-- --setup full|core] [--jwt-issuer URL --jwt-audience ID | --cognito-issuer-base URL]`:
// bootstrap and deploy the stack on a LocalStack already running (AWS_ENDPOINT_URL, default http://localhost.localstack.cloud:4566).
const { options } = parseArgs(process.argv.slice(2));
const setup = setupFor(process.env, typeof options.setup === 'string' ? options.setup : undefined);
if (typeof setup !== 'string') fail(setup.refused);
const issuer = typeof options['jwt-issuer'] === 'string' ? options['jwt-issuer'] : undefined;
const audience = typeof options['jwt-audience'] === 'string' ? options['jwt-audience'] : undefined;
if (Boolean(issuer) !== Boolean(audience)) fail('--jwt-issuer and --jwt-audience go together');
const cognitoIssuerBase = typeof options['cognito-issuer-base'] === 'string' ? options['cognito-issuer-base'] : undefined;
if (setup === 'core' && (issuer || cognitoIssuerBase))
  fail('the core setup has no HTTP API: --jwt-issuer and --cognito-issuer-base apply to --setup full only');
if (issuer && cognitoIssuerBase) fail('--jwt-issuer replaces the Cognito pool: give one or the other');
process.stdout.write(`deploying the ${setup} setup${setup === 'core' ? ' (-c offboard:api=none: no HTTP API, no Cognito)' : ''}\n`);
process.exit(await deploy(setup, { jwt: issuer && audience ? { issuer, audience } : undefined, cognitoIssuerBase }));
