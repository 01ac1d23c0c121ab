import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from '../../infra/constructs/offboard-function.js';
import { deploy, IMAGES, LOCALSTACK_ENV, setupFor, type Setup } from '../localstack/deploy.js';
import { LOCALSTACK_PORT } from '../localstack/guard.js';
import { ISSUER_KID, startIssuer } from '../localstack/issuer.js';
import { parseArgs } from './args.js';

/**
 * `npm run test:localstack [-- --setup full|core]`: starts LocalStack in Docker (Testcontainers' LocalStack module),
 * deploys the stack with cdklocal, runs the integration suite against it (OFFBOARD_TARGET=stack), and stops it.
 * Whatever is missing (Docker, the auth token the full setup needs) is said in one line, exit code 1, before anything
 * starts: this never passes without having run.
 */
const say = (line: string) => process.stderr.write(`test:localstack: ${line}\n`);
const stop = (line: string): never => {
  say(line);
  process.exit(1);
};

const { options } = parseArgs(process.argv.slice(2));
const chosen = setupFor(process.env, typeof options.setup === 'string' ? options.setup : undefined);
if (typeof chosen !== 'string') stop(chosen.refused);
const setup = chosen as Setup;
const token = process.env.LOCALSTACK_AUTH_TOKEN;
if (setup === 'full' && !token) {
  stop(
    'the full setup needs LOCALSTACK_AUTH_TOKEN (an auth token of a LocalStack account with the Base plan or above); without one: npm run test:localstack -- --setup core',
  );
}

/** Why Docker cannot be used here, or undefined. */
async function dockerProblem(): Promise<string | undefined> {
  const sockets = [
    '/var/run/docker.sock',
    path.join(homedir(), '.docker', 'run', 'docker.sock'),
    path.join(homedir(), '.colima', 'default', 'docker.sock'),
  ];
  if (!process.env.DOCKER_HOST && !sockets.some((s) => existsSync(s))) {
    return 'no Docker: LocalStack runs in a container and no Docker engine is reachable here (DOCKER_HOST unset, no /var/run/docker.sock)';
  }
  const { getContainerRuntimeClient } = await import('testcontainers');
  try {
    await Promise.race([
      getContainerRuntimeClient(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('no answer in 20 s')), 20_000).unref()),
    ]);
    return undefined;
  } catch (error) {
    return `no Docker: the Docker engine does not answer (${(error as Error).message.split('\n')[0]})`;
  }
}
const problem = await dockerProblem();
if (problem) stop(problem);

const { LocalstackContainer } = await import('@testcontainers/localstack');
const { TestContainers } = await import('testcontainers');
const port = Number(process.env.OFFBOARD_LOCALSTACK_PORT ?? LOCALSTACK_PORT);
const endpoint = `http://localhost.localstack.cloud:${port}`;
const audience = 'offboard-localstack';
// the LocalStack container reaches this machine's ports at host.testcontainers.internal once exposed
const issuer = setup === 'full' ? await startIssuer((p) => `http://host.testcontainers.internal:${p}`) : undefined;
if (issuer) await TestContainers.exposeHostPorts(issuer.port);

say(`starting ${IMAGES[setup]} (${setup} setup) on ${endpoint}`);
const container = await new LocalstackContainer(IMAGES[setup])
  .withExposedPorts({ container: LOCALSTACK_PORT, host: port })
  .withEnvironment({
    ...LOCALSTACK_ENV,
    LOCALSTACK_HOST: `localhost.localstack.cloud:${port}`,
    ...(setup === 'full' ? { LOCALSTACK_AUTH_TOKEN: token! } : {}),
  })
  // Lambda functions run in containers of their own, which LocalStack starts through the engine
  .withBindMounts([{ source: process.env.OFFBOARD_DOCKER_SOCKET ?? '/var/run/docker.sock', target: '/var/run/docker.sock' }])
  .start()
  .catch(async (error: Error) => {
    await issuer?.close();
    // e.g. a refused auth token: LocalStack exits before it is ready
    return stop(`LocalStack did not start: ${error.message.split('\n')[0]}`);
  });

let code = 1;
try {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_ENDPOINT_URL: endpoint,
    AWS_ENDPOINT_URL_S3: `http://s3.localhost.localstack.cloud:${port}`,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  };
  code = await deploy(setup, { env, jwt: issuer && { issuer: issuer.issuer, audience } });
  if (code !== 0) say(`cdklocal deploy failed (exit ${code}); nothing was tested`);
  else {
    say(`deployed; running the integration suite with OFFBOARD_TARGET=stack`);
    code = await new Promise<number>((resolve) => {
      // one file at a time: every file loads its own world into the one deployed table
      const child = spawn(path.join(REPO_ROOT, 'node_modules', '.bin', 'vitest'), ['run', 'test/integration', '--no-file-parallelism'], {
        cwd: REPO_ROOT,
        stdio: 'inherit',
        env: {
          ...env,
          OFFBOARD_TARGET: 'stack',
          OFFBOARD_STACK: 'Offboard',
          ...(issuer
            ? {
                OFFBOARD_JWT_PRIVATE_KEY_FILE: issuer.keyFile,
                OFFBOARD_JWT_ISSUER: issuer.issuer,
                OFFBOARD_JWT_AUDIENCE: audience,
                OFFBOARD_JWT_KID: ISSUER_KID,
              }
            : {}),
        },
      });
      child.on('exit', (c) => resolve(c ?? 1));
    });
  }
} finally {
  await container.stop();
  await issuer?.close();
}
process.exit(code);
