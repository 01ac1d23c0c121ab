import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { freePort, waitFor } from './ports.js';

export interface RunningEmulator {
  endpoint: string;
  stop(): Promise<void>;
}

/** DynamoDB Local's jar runs on Java 17 or newer. */
const JAVA_MAJOR = 17;

/**
 * Why DynamoDB Local cannot start here, in one line naming what to install, or undefined when `java` (or $JAVA) runs
 * and is 17 or newer. Checked first, so `npm start` does not wait for an emulator that cannot start.
 */
export function javaProblem(java = process.env.JAVA ?? 'java'): string | undefined {
  const run = spawnSync(java, ['-version'], { encoding: 'utf8', timeout: 15_000 });
  const install = `install a Java runtime ${JAVA_MAJOR} or newer (Debian/Ubuntu: sudo apt-get install openjdk-${JAVA_MAJOR}-jre-headless; macOS: brew install openjdk@${JAVA_MAJOR}), or set JAVA to its java binary`;
  if (run.error)
    return `DynamoDB Local needs Java, and ${java} ${(run.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'was not found' : `does not run (${run.error.message})`}: ${install}`;
  const version = /version "(\d+)(?:\.(\d+))?/.exec(`${run.stderr}${run.stdout}`);
  const major = version ? (version[1] === '1' ? Number(version[2]) : Number(version[1])) : undefined;
  if (major === undefined) return `DynamoDB Local needs Java, and ${java} -version printed no version (exit ${run.status}): ${install}`;
  if (major < JAVA_MAJOR) return `DynamoDB Local needs Java ${JAVA_MAJOR} or newer, and ${java} is Java ${major}: ${install}`;
  return undefined;
}

/**
 * DynamoDB Local (Amazon's own engine, the one LocalStack runs), from the jar that the npm package
 * amplify-dynamodb-simulator ships. Needs Java 17+. In memory: nothing is left behind.
 */
export async function startDynamoDbLocal(): Promise<RunningEmulator> {
  // The jar takes a port number, not a bound socket: the port is picked, freed and bound by Java, and another process can
  // take it in between. Java then exits with a BindException; pick another port and start again.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce();
    } catch (error) {
      if (attempt >= 5 || !/BindException|Address already in use/.test((error as Error).message)) throw error;
    }
  }
}

async function startOnce(): Promise<RunningEmulator> {
  const require = createRequire(import.meta.url);
  const dir = path.join(path.dirname(require.resolve('amplify-dynamodb-simulator/package.json')), 'emulator');
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.env.JAVA ?? 'java',
    [
      // the JVM's heap: 1 GB holds the benchmark's L worlds; the XL user's (about 1 M items) needs more
      `-Xmx${process.env.DYNAMODB_LOCAL_HEAP ?? '1g'}`,
      `-Djava.library.path=${path.join(dir, 'DynamoDBLocal_lib')}`,
      '-jar',
      path.join(dir, 'DynamoDBLocal.jar'),
      '-inMemory',
      '-sharedDb',
      '-port',
      String(port),
      '-disableTelemetry',
    ],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', (e) => (stderr += String(e)));
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`DynamoDB Local exited: ${stderr}`);
        await client.send(new ListTablesCommand({}));
        return true;
      },
      30_000,
      'DynamoDB Local',
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\n${stderr}`);
  } finally {
    client.destroy();
  }
  return {
    endpoint,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    },
  };
}
