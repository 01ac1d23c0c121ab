/**
 * What keeps `cdklocal` on LocalStack. `cdklocal bootstrap` with real credentials in the environment has deployed to
 * a real account; so every LocalStack command of this project runs cdklocal only with an endpoint on this machine
 * and LocalStack's test credentials, and refuses, saying why in one line, otherwise.
 */

export const LOCALSTACK_PORT = 4566;
export const DEFAULT_ENDPOINT = `http://localhost.localstack.cloud:${LOCALSTACK_PORT}`;

/** Hosts that can only be this machine (or a container it runs). */
const LOCAL_HOST =
  /^(localhost|127\.\d+\.\d+\.\d+|\[::1\]|(.+\.)?localhost\.localstack\.cloud|host\.docker\.internal|host\.testcontainers\.internal)$/;

/** Variables through which the SDK would find real credentials, or pick an account, instead of the test ones. */
const REAL_CREDENTIALS = [
  'AWS_PROFILE',
  'AWS_DEFAULT_PROFILE',
  'AWS_SESSION_TOKEN',
  'AWS_SECURITY_TOKEN',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_ROLE_ARN',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
];

export function isLocalEndpoint(endpoint: string): boolean {
  try {
    return LOCAL_HOST.test(new URL(endpoint).hostname);
  } catch {
    return false;
  }
}

/**
 * The environment cdklocal runs with: the endpoint (AWS_ENDPOINT_URL, default LocalStack's), its S3 form (cdklocal v3
 * requires AWS_ENDPOINT_URL_S3 with `.s3.` in it whenever AWS_ENDPOINT_URL is set), credentials `test`/`test`, the
 * region; and AWS_ENVAR_ALLOWLIST naming the AWS_* variables cdklocal v3 would otherwise strip. Or, when anything
 * could send it to a real account, the reason, in one line.
 */
export function cdklocalEnvironment(env: NodeJS.ProcessEnv): { env: NodeJS.ProcessEnv } | { refused: string } {
  const endpoint = env.AWS_ENDPOINT_URL ?? DEFAULT_ENDPOINT;
  if (!isLocalEndpoint(endpoint))
    return {
      refused: `refusing to run cdklocal: AWS_ENDPOINT_URL=${endpoint} is not a local endpoint (localhost, 127.0.0.1, *.localhost.localstack.cloud)`,
    };
  const port = new URL(endpoint).port || String(LOCALSTACK_PORT);
  const s3 = env.AWS_ENDPOINT_URL_S3 ?? `${new URL(endpoint).protocol}//s3.localhost.localstack.cloud:${port}`;
  if (!isLocalEndpoint(s3)) return { refused: `refusing to run cdklocal: AWS_ENDPOINT_URL_S3=${s3} is not a local endpoint` };
  const present = REAL_CREDENTIALS.filter((k) => env[k]);
  if (present.length)
    return {
      refused: `refusing to run cdklocal: ${present.join(', ')} ${present.length > 1 ? 'are' : 'is'} set (real credentials could reach a real account); unset ${present.length > 1 ? 'them' : 'it'}`,
    };
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const) {
    if (env[k] !== undefined && env[k] !== 'test')
      return { refused: `refusing to run cdklocal: ${k} is set and is not LocalStack's "test"; unset it or set it to test` };
  }
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  return {
    env: {
      ...env,
      AWS_ENDPOINT_URL: endpoint,
      AWS_ENDPOINT_URL_S3: s3,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ENVAR_ALLOWLIST: 'AWS_REGION,AWS_DEFAULT_REGION,AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY',
      CDK_DEFAULT_REGION: region,
    },
  };
}
