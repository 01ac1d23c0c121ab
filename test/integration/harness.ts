import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, beforeEach, inject } from 'vitest';
import { generateKeyPair, importPKCS8, SignJWT } from 'jose';
import { REPO_ROOT } from '../../infra/constructs/offboard-function.js';
import type { Problem } from '../../local/world/check.js';
import { fileObjectKey } from '../../functions/store/keys.js';
import { describeDenials } from '../../local/iam/enforce.js';

/** Where each embedded stack of the suite writes what its functions used (merged by test/least-privilege/). */
export const IAM_USAGE_DIR = path.join(REPO_ROOT, '.offboard', 'iam-usage');

export interface Answer {
  status: number;
  body: any;
}

/** Where the integration tests run: the embedded stack (default) or a deployed stack (OFFBOARD_TARGET=stack). */
export interface Target {
  url: string;
  /** Fault injection is only possible on the embedded stack. */
  canInjectFaults: boolean;
  call(method: string, route: string, options?: { as?: string; token?: string | null; body?: unknown; raw?: string }): Promise<Answer>;
  load(world: unknown): Promise<void>;
  /** Loads and reports a refusal instead of throwing: `{ path, message }` of the first bad place. */
  tryLoad(world: unknown): Promise<{ ok: true } | { ok: false; path: string; message: string }>;
  export(): Promise<any>;
  /** Every key in the files bucket. */
  objectKeys(): Promise<string[]>;
  /** Overwrites one object of the files bucket with `content`, leaving the table as it is. */
  putObject(key: string, content: string): Promise<void>;
  /** Every broken invariant of the world (local/world/check.ts), once no execution is running. */
  check(): Promise<Problem[]>;
  /** Puts a billing event on the billing bus (`times` > 1 redelivers the same event, as at-least-once delivery may). */
  billing(
    entry: { Source: string; DetailType: string; Detail: unknown; Time?: string },
    options?: { times?: number },
  ): Promise<{ eventId: string; deliveries?: any[] }>;
  deadLetters(): Promise<any[]>;
  /** A token with the platform operator scope, for the platform operator (an active user of the world, fixtures/operator.ts). */
  operator: { token: () => Promise<string> };
  /** `mid`: the invocation stops, as a Lambda timeout, after `afterWrites` of its own writes landed. */
  fault(
    functionName: string,
    fault?: { times: number; when: 'before' | 'after' | 'mid'; error: string; afterWrites?: number; atWrite?: string; holdMs?: number },
  ): Promise<void>;
  /** Faults fired and the most writes one invocation made, by function, since the last call (which resets both). */
  faultReport(): Promise<{ fired: Record<string, number>; mostWrites: Record<string, number> }>;
  /** Pins the time applied effects write into the world (a deleted user's `deletedAt`), or unpins it. */
  pinClock(at: string | undefined): Promise<void>;
  /** A token signed with the stack's key whose issuer, audience or expiry may be wrong on purpose (authorizer tests). */
  tokenWith(userId: string, claims: { iss?: string; aud?: string; exp?: number }): Promise<string>;
  /** Throttling and partial failures at the SDK clients (`seed:rate`, undefined for off); answers what the previous setting injected, by kind and `total`. Embedded stack only. */
  chaos(spec?: string): Promise<Record<string, number>>;
  invocations(): Promise<Record<string, number>>;
  /** D7: moves the embedded stack's clock forward (`PUT /_local/clock`); a deployed stack's clock cannot be moved. */
  clock(to: { advanceMs: number } | { now: string }): Promise<string>;
  close(): Promise<void>;
}

/**
 * Runs `run` with the embedded stack's Apply limited to `work` item writes an invocation (APPLY_WORK_PER_INVOCATION,
 * functions/services/phases.ts), so that a small run takes several Apply invocations and the Finalize step runs
 * (a run one invocation applies whole is finalized by it); `undefined`: as configured. Only the embedded stack's
 * functions, in this process, see it: on LocalStack the run is finalized by Apply either way.
 */
export async function withApplyWork<T>(work: string | undefined, run: () => Promise<T>): Promise<T> {
  if (work) process.env.APPLY_WORK_PER_INVOCATION = work;
  try {
    return await run();
  } finally {
    delete process.env.APPLY_WORK_PER_INVOCATION;
  }
}

export function demoWorld(): any {
  return JSON.parse(readFileSync(path.join(REPO_ROOT, 'fixtures', 'demo-world.json'), 'utf8'));
}

async function request(url: string, method: string, route: string, token: string | null, body?: string): Promise<Answer> {
  const res = await fetch(`${url}${route}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed };
}

/** Stack settings a test file may choose (the embedded stack only; a deployed stack has its own). */
export interface TargetOptions {
  /** B4: `offboard:confirmationThreshold`. */
  confirmationThreshold?: number;
}

async function embedded(options: TargetOptions = {}): Promise<Target> {
  const { startEmbeddedStack } = await import('../../local/embedded-stack.js');
  const stack = await startEmbeddedStack({
    ...options,
    dynamodbEndpoint: inject('dynamodbEndpoint'),
    s3Endpoint: inject('s3Endpoint'),
    prefix: `t${Math.random().toString(36).slice(2, 8)}`,
  });
  const tokens = new Map<string, string>();
  const control = async (method: string, route: string, body?: unknown) => {
    const a = await request(stack.url, method, route, null, body === undefined ? undefined : JSON.stringify(body));
    if (a.status !== 200) throw new Error(`${method} ${route}: ${a.status} ${JSON.stringify(a.body)}`);
    return a.body;
  };
  return {
    url: stack.url,
    canInjectFaults: true,
    async call(method, route, { as, token, body, raw } = {}) {
      let t = token === undefined ? null : token;
      if (as) {
        if (!tokens.has(as)) tokens.set(as, await stack.token(as));
        t = tokens.get(as)!;
      }
      return request(stack.url, method, route, t, raw ?? (body === undefined ? undefined : JSON.stringify(body)));
    },
    load: (world) => control('PUT', '/_local/world', world),
    async tryLoad(world) {
      const a = await request(stack.url, 'PUT', '/_local/world', null, JSON.stringify(world));
      return a.status === 200 ? { ok: true } : { ok: false, path: a.body.error.path, message: a.body.error.message };
    },
    export: () => control('GET', '/_local/world'),
    objectKeys: () => control('GET', '/_local/objects'),
    putObject: async (key, content) => void (await control('PUT', '/_local/objects', { key, content })),
    check: async () => (await control('GET', '/_local/world/check')).problems,
    fault: (fn, fault) => control('PUT', '/_local/faults', { function: fn, fault }),
    faultReport: () => control('GET', '/_local/faults'),
    pinClock: async (at) => void (await control('PUT', '/_local/clock/pin', at === undefined ? {} : { at })),
    chaos: (spec) => control('PUT', '/_local/chaos', spec ? { spec } : {}),
    billing: (entry, options = {}) => control('PUT', '/_local/billing', { entry, times: options.times }),
    deadLetters: () => control('GET', '/_local/dead-letters'),
    operator: { token: () => stack.token('platform-operator', ['offboard/operator']) },
    tokenWith: (userId, claims) => stack.token(userId, [], claims),
    invocations: () => control('GET', '/_local/invocations'),
    clock: async (to) => (await control('PUT', '/_local/clock', to)).now,
    async close() {
      await stack.stop();
      if (!stack.iam) return;
      stack.iam.writeUsage(IAM_USAGE_DIR);
      // a request the synthesized policies would not allow on AWS fails the file, naming function, action and resource
      if (stack.iam.denials.length)
        throw new Error(
          `AWS would refuse ${stack.iam.denials.length} requests of this file (local/iam/enforce.ts):\n${describeDenials(stack.iam.denials)}`,
        );
    },
  };
}

/**
 * A deployed stack (LocalStack via `npm run localstack:deploy` or `npm run test:localstack`, or AWS), reached the way a
 * user's tools reach it: endpoints from the standard AWS environment (`AWS_ENDPOINT_URL`), the table, bucket, bus and
 * queue from the stack outputs (`OFFBOARD_STACK`, default `Offboard`). With an HTTP API, it is reached by URL (built
 * for LocalStack from `ApiUrl`, local/deployed-stack.ts) with tokens signed by the key of the identity provider the
 * stack was deployed with (OFFBOARD_JWT_PRIVATE_KEY_FILE, OFFBOARD_JWT_ISSUER, OFFBOARD_JWT_AUDIENCE, OFFBOARD_JWT_KID).
 * Deployed without one (`-c offboard:api=none`), the project's own gateway serves the routes in front of lambda:Invoke.
 */
export async function openDeployedTarget(): Promise<Target> {
  const { apiBaseUrl, requireOutputs, stackOutputs, startGatewayOverInvoke } = await import('../../local/deployed-stack.js');
  const stackName = process.env.OFFBOARD_STACK ?? 'Offboard';
  const outputs = await stackOutputs(stackName);
  requireOutputs(outputs, ['TableName', 'BucketName', 'BillingEventBusName', 'BillingDeadLetterQueueUrl'], stackName);
  process.env.TABLE_NAME = outputs.TableName;
  process.env.BUCKET_NAME = outputs.BucketName;
  const store = await import('../../local/world/world-store.js');

  let url: string;
  let sign: (userId: string, scope?: string, claims?: { iss?: string; aud?: string; exp?: number }) => Promise<string>;
  let gateway: { close(): Promise<void> } | undefined;
  const signer =
    (key: Parameters<SignJWT['sign']>[0], issuer: string, audience: string, kid?: string) =>
    (userId: string, scope?: string, claims: { iss?: string; aud?: string; exp?: number } = {}) =>
      new SignJWT(scope ? { scope } : {})
        .setProtectedHeader({ alg: 'RS256', ...(kid ? { kid } : {}) })
        .setSubject(userId)
        .setIssuer(claims.iss ?? issuer)
        .setAudience(claims.aud ?? audience)
        .setIssuedAt()
        .setExpirationTime(claims.exp ?? '1h')
        .sign(key);
  if (outputs.ApiUrl) {
    const missing = ['OFFBOARD_JWT_PRIVATE_KEY_FILE', 'OFFBOARD_JWT_ISSUER', 'OFFBOARD_JWT_AUDIENCE'].filter((k) => !process.env[k]);
    if (missing.length)
      throw new Error(`stack ${stackName} has an HTTP API: set ${missing.join(', ')} (the identity provider it was deployed with)`);
    const key = await importPKCS8(readFileSync(process.env.OFFBOARD_JWT_PRIVATE_KEY_FILE!, 'utf8'), 'RS256');
    sign = signer(key, process.env.OFFBOARD_JWT_ISSUER!, process.env.OFFBOARD_JWT_AUDIENCE!, process.env.OFFBOARD_JWT_KID ?? 'offboard');
    url = apiBaseUrl(outputs.ApiUrl, process.env.AWS_ENDPOINT_URL, process.env.OFFBOARD_API_URL_STYLE === 'host' ? 'host' : 'path');
  } else {
    // deployed with -c offboard:api=none: the gateway checks tokens of a key made here
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const issuer = 'http://127.0.0.1/offboard-gateway';
    const audience = 'offboard-gateway';
    const started = await startGatewayOverInvoke(stackName, { key: publicKey, issuer, audience });
    gateway = started;
    sign = signer(privateKey, issuer, audience);
    url = started.url;
  }
  return {
    url,
    canInjectFaults: false,
    // on a deployed stack deliveries are asynchronous: tests poll for the effects
    async call(method, route, { as, token, body, raw } = {}) {
      const t = as ? await sign(as) : (token ?? null);
      return request(url, method, route, t, raw ?? (body === undefined ? undefined : JSON.stringify(body)));
    },
    load: async (world) => void (await store.loadWorld(world)),
    async tryLoad(world) {
      try {
        await store.loadWorld(world);
        return { ok: true };
      } catch (error: any) {
        if (error.name !== 'InvalidWorld') throw error;
        return { ok: false, path: error.path, message: error.message };
      }
    },
    export: () => store.exportWorld(),
    objectKeys: () => store.objectKeys(),
    putObject: (key, content) => store.putObjectBytes(key, content),
    // a deployed stack's table and bucket (set above from its outputs), read by the library itself
    check: async () => (await import('../../local/world/check.js')).checkWorld(),
    fault: async () => {
      throw new Error('fault injection needs the embedded stack');
    },
    faultReport: async () => {
      throw new Error('fault injection needs the embedded stack');
    },
    pinClock: async () => {
      throw new Error('the clock can be pinned on the embedded stack only');
    },
    chaos: async () => {
      throw new Error('chaos at the SDK clients needs the embedded stack');
    },
    async billing(entry) {
      const { EventBridgeClient, PutEventsCommand } = await import('@aws-sdk/client-eventbridge');
      const detail = typeof entry.Detail === 'string' ? entry.Detail : JSON.stringify(entry.Detail);
      const client = new EventBridgeClient({});
      const out = await client
        .send(
          new PutEventsCommand({
            Entries: [
              { ...entry, Detail: detail, Time: entry.Time ? new Date(entry.Time) : undefined, EventBusName: outputs.BillingEventBusName },
            ],
          }),
        )
        .finally(() => client.destroy());
      const first = out.Entries?.[0];
      if (out.FailedEntryCount || !first?.EventId)
        throw new Error(`PutEvents on ${outputs.BillingEventBusName} refused the event: ${first?.ErrorCode} ${first?.ErrorMessage}`);
      return { eventId: first.EventId };
    },
    async deadLetters() {
      const { SQSClient, ReceiveMessageCommand } = await import('@aws-sdk/client-sqs');
      const client = new SQSClient({});
      const res = await client
        .send(
          new ReceiveMessageCommand({
            QueueUrl: outputs.BillingDeadLetterQueueUrl,
            MaxNumberOfMessages: 10,
            VisibilityTimeout: 0,
            WaitTimeSeconds: 1,
          }),
        )
        .finally(() => client.destroy());
      return (res.Messages ?? []).map((m) => JSON.parse(m.Body ?? '{}'));
    },
    operator: { token: () => sign('platform-operator', 'offboard/operator') },
    tokenWith: (userId, claims) => sign(userId, undefined, claims),
    invocations: async () => ({}),
    clock: async () => {
      throw new Error('moving the clock needs the embedded stack');
    },
    close: async () => gateway?.close(),
  };
}

export function openTarget(options: TargetOptions = {}): Promise<Target> {
  return process.env.OFFBOARD_TARGET === 'stack' ? openDeployedTarget() : embedded(options);
}

const TERMINAL = ['succeeded', 'failed', 'cancelled', 'awaiting-seat'];

/** Polls an operation until it leaves `running` (or `until` holds). */
export async function settle(
  target: Target,
  route: string,
  as: string,
  until: (body: any) => boolean = (b) => TERMINAL.includes(b.status),
): Promise<any> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const a = await target.call('GET', route, { as });
    if (a.status !== 200) throw new Error(`GET ${route}: ${a.status} ${JSON.stringify(a.body)}`);
    if (until(a.body)) return a.body;
    if (Date.now() > deadline) throw new Error(`GET ${route}: still ${a.body.status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const ids = (list: { id: string }[]) => list.map((x) => x.id);
export const byId = (list: any[], id: string) => list.find((x) => x.id === id);

/** The bucket key of a file (functions/store/keys.ts, O4). */
export const objectKey = fileObjectKey;

/** A billing event as a PutEvents entry (CONTRACT.md "Billing events"). */
export const billingEvent = (DetailType: string, detail: unknown, Time?: string) => ({
  Source: 'billing',
  DetailType,
  Detail: detail,
  ...(Time ? { Time } : {}),
});

/** Polls until `check` returns a value other than undefined. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * CONTRACT.md `planning`: a preview answered 202 `planning` is read at `GET /previews/{id}` until its Impact is
 * ready (200); one answered 200 is ready already. Answers the Impact.
 */
export async function previewReady(target: Target, answer: Answer, as: string, timeoutMs = 120_000): Promise<any> {
  if (answer.status === 200) return answer.body;
  if (answer.status !== 202 || answer.body?.status !== 'planning')
    throw new Error(`POST /previews: ${answer.status} ${JSON.stringify(answer.body)}`);
  return eventually(async () => {
    const a = await target.call('GET', `/previews/${answer.body.id}`, { as });
    if (a.status === 202) return undefined;
    if (a.status !== 200) throw new Error(`GET /previews/${answer.body.id}: ${a.status} ${JSON.stringify(a.body)}`);
    return a.body;
  }, timeoutMs);
}

/** An operation answered `planning` is read until its plan is stored (it awaits approval, runs, or is scheduled). */
export async function planned(target: Target, route: string, body: any, as: string): Promise<any> {
  return body.status === 'planning' ? settle(target, route, as, (b) => b.status !== 'planning') : body;
}

/**
 * One target for a test file (openTarget), closed after the file; `set` receives it once open. `eachWorld`: loaded
 * before each test. `skip`: nothing opened (a file whose tests need the embedded stack, run against a deployed one).
 */
export function useTarget(set: (target: Target) => void, options: { eachWorld?: () => unknown; skip?: boolean } = {}): void {
  let opened: Target | undefined;
  beforeAll(async () => {
    if (options.skip) return;
    opened = await openTarget();
    set(opened);
  }, 120_000);
  afterAll(async () => opened?.close());
  if (options.eachWorld) beforeEach(async () => opened?.load(options.eachWorld!()));
}
