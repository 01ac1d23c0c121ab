import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomUUID } from 'node:crypto';
import { AsyncLocalStorage } from 'node:async_hooks';
import { REPO_ROOT } from '../infra/constructs/offboard-function.js';
import type { ClientMiddleware } from '../functions/store/clients.js';
import type { LocalFunction } from './template.js';
import type { Denial, InvokeCaller } from './iam/enforce.js';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

/**
 * A fault to inject into a function, for named retry scenarios: fail `times` times, before the real work, after it
 * (the work done, the answer lost), or `mid`: the invocation stops after `afterWrites` of its own writes to the table
 * or the bucket have landed (0: at its first request), as a Lambda timeout does: nothing more it sends arrives, and
 * Step Functions sees `error` (`Sandbox.Timedout`, as Lambda reports a function that ran out of time).
 */
export interface Fault {
  times: number;
  when: 'before' | 'after' | 'mid';
  error: string;
  afterWrites?: number;
  /**
   * `mid` only: instead of stopping after `afterWrites`, the first write whose command and input
   * (`BatchWriteItem {...}`) match this regular expression fails with `error`, as a refused AWS call would, and the
   * invocation goes on to handle it: a fault at one phase of an Apply step, or at a `PutEvents` (docs/EVENTS.md).
   */
  atWrite?: string;
  /** `before` only: the invocation first waits this long (a slow start), so a test can act while a step is under way. */
  holdMs?: number;
}

/** Lambda's payload quota for a synchronous invocation, request and response alike (6 MB). */
export const INVOKE_PAYLOAD_LIMIT_BYTES = 6_291_556;

/** The requests that change the table or the bucket (a `mid` fault counts these). */
const WRITES = new Set([
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchWriteItem',
  'TransactWriteItems',
  'BatchExecuteStatement',
  'ExecuteStatement',
  'PutObject',
  'DeleteObject',
  'DeleteObjects',
]);

/** One invocation: its writes so far, and for a `mid` fault where it stops. */
export interface InvocationScope {
  name: string;
  fn: LocalFunction;
  /** The event the invocation got and (once it returned) its result: the benchmark attributes requests to operations by them. */
  event: unknown;
  result?: unknown;
  writes: number;
  stopAfter?: number;
  /** The fault's error, or undefined when another invocation running at once took it. */
  failAt?: { pattern: RegExp; fail: () => Error | undefined };
  stopped: boolean;
  /** Stops the invocation: false when another invocation running at once took the fault (this one goes on). */
  stop?: () => boolean;
}
const scope = new AsyncLocalStorage<InvocationScope>();
const never = () => new Promise<never>(() => undefined);

/** The function whose invocation is running here (the IAM enforcement asks whose role a request is made with). */
export function currentFunction(): LocalFunction | undefined {
  return scope.getStore()?.fn;
}

/** The invocation running here, if any (local/request-counts.ts records it with each request). */
export function currentInvocation(): InvocationScope | undefined {
  return scope.getStore();
}

/**
 * A middleware for the store's SDK clients: counts each invocation's writes and, for a `mid` fault, lets
 * `afterWrites` of them through, then stops the invocation: later requests never leave.
 */
function writeWatch(next: (args: any) => Promise<any>, context: { commandName?: string }) {
  return async (args: any) => {
    const s = scope.getStore();
    if (!s) return next(args);
    if (s.stopped) return never();
    if (s.stopAfter === 0) {
      // no write to stop after: the invocation times out during its reads (unless another invocation took the fault)
      if (s.stop?.() !== false) {
        s.stopped = true;
        return never();
      }
      s.stopAfter = undefined;
    }
    const command = String(context.commandName ?? '').replace(/Command$/, '');
    const write = WRITES.has(command);
    // PutEvents can be failed (atWrite) but is not counted: `afterWrites` and mostWrites count the table's and bucket's
    if ((write || command === 'PutEvents') && s.failAt?.pattern.test(`${command} ${JSON.stringify(args.input ?? {})}`)) {
      const error = s.failAt.fail();
      s.failAt = undefined;
      if (error) throw error;
    }
    const result = await next(args);
    if (write && ++s.writes === s.stopAfter && s.stop?.() !== false) {
      s.stopped = true;
      return never();
    }
    return result;
  };
}

/** The embedded stack installs `writeWatch` on the table and bucket clients through the store's client hook. */
export const watchWrites: ClientMiddleware = (client, service) => {
  if (service === 'DynamoDB' || service === 'S3' || service === 'EventBridge') {
    client.middlewareStack.add(writeWatch, { step: 'initialize', name: 'offboardWriteWatch' });
  }
};

/** What the gateway needs of Lambda: a function by ARN or name, and Invoke. */
export interface FunctionInvoker {
  find(arnOrName: string): LocalFunction | undefined;
  /** `caller`: who invokes, for the resource-policy check (local/iam/enforce.ts). */
  invoke(f: LocalFunction, event: unknown, caller?: InvokeCaller): Promise<unknown>;
}

/**
 * Runs the template's Lambda functions in this process with their real handler modules, as Lambda would: the event
 * and result cross a JSON boundary, and a thrown error keeps its name (the Lambda error type).
 */
export class LocalLambda implements FunctionInvoker {
  private readonly byArn = new Map<string, LocalFunction>();
  private readonly byLogicalId = new Map<string, LocalFunction>();
  private readonly modules = new Map<string, Promise<Handler>>();
  private readonly faults = new Map<string, Fault>();
  readonly invocations = new Map<string, number>();
  /** Faults that fired, by function entry name. */
  readonly faultsFired = new Map<string, number>();
  /** The most writes one invocation made, by function entry name (fault scenarios pick where to stop with it). */
  readonly mostWrites = new Map<string, number>();
  /** Instrumentation (the benchmark): the longest single invocation in ms, by function entry (e.g. `functions/handlers/api/transfers.ts`). */
  readonly longestMs = new Map<string, number>();
  /** Instrumentation: invocations currently running. */
  inFlight = 0;
  /** Instrumentation (the benchmark): invocations and GB-seconds (each invocation's duration, rounded up to 1 ms, × its MemorySize), by architecture. */
  readonly billed = new Map<string, { invocations: number; gbSeconds: number }>();
  /** lambda:InvokeFunction as AWS authorizes it (the embedded stack's IAM enforcement); absent: every caller may. */
  authorizeInvoke?: (f: LocalFunction, caller: InvokeCaller) => Promise<Denial | undefined>;

  constructor(functions: LocalFunction[]) {
    for (const f of functions) {
      this.byArn.set(f.arn, f);
      this.byLogicalId.set(f.logicalId, f);
    }
  }

  find(arnOrName: string): LocalFunction | undefined {
    return this.byArn.get(arnOrName) ?? [...this.byArn.values()].find((f) => f.arn.endsWith(`:function:${arnOrName}`));
  }

  /** Faults by function entry file name (e.g. `apply`). */
  setFault(entryName: string, fault: Fault | undefined): void {
    if (fault) this.faults.set(entryName, { ...fault });
    else this.faults.delete(entryName);
  }

  private handler(f: LocalFunction): Promise<Handler> {
    if (!this.modules.has(f.entry)) {
      this.modules.set(
        f.entry,
        import(pathToFileURL(path.join(REPO_ROOT, f.entry)).href).then((m) => {
          if (typeof m.handler !== 'function') throw new Error(`${f.entry} exports no handler`);
          return m.handler as Handler;
        }),
      );
    }
    return this.modules.get(f.entry)!;
  }

  async invoke(f: LocalFunction, event: unknown, caller?: InvokeCaller): Promise<unknown> {
    const request = JSON.stringify(event ?? null);
    // Lambda's quota for a synchronous invocation: 6 MB of request, and of response (below)
    if (Buffer.byteLength(request) > INVOKE_PAYLOAD_LIMIT_BYTES)
      throw Object.assign(new Error(`Request must be smaller than ${INVOKE_PAYLOAD_LIMIT_BYTES} bytes for the InvokeFunction operation`), {
        name: 'RequestEntityTooLargeException',
        statusCode: 413,
      });
    // as Lambda answers an Invoke its caller may not make (403): the function does not run
    const denied = caller && (await this.authorizeInvoke?.(f, caller));
    if (denied) throw Object.assign(new Error(denied.reason), { name: 'AccessDeniedException', statusCode: 403 });
    const name = path.basename(f.entry, '.ts');
    this.invocations.set(name, (this.invocations.get(name) ?? 0) + 1);
    const fault = this.faults.get(name);
    const fire = (when: Fault['when']) => {
      if (fault && fault.when === when && fault.times > 0) {
        fault.times--;
        this.faultsFired.set(name, (this.faultsFired.get(name) ?? 0) + 1);
        const error = new Error(`injected fault in ${name}`);
        error.name = fault.error;
        throw error;
      }
    };
    const handler = await this.handler(f);
    const started = Date.now();
    const context = {
      functionName: f.logicalId,
      awsRequestId: randomUUID(),
      getRemainingTimeInMillis: () => Math.max(0, 300_000 - (Date.now() - started)),
    };
    const watch: InvocationScope = { name, fn: f, event, writes: 0, stopped: false };
    let stopped: Promise<never> | undefined;
    if (fault?.when === 'mid' && fault.times > 0 && fault.atWrite) {
      watch.failAt = {
        pattern: new RegExp(fault.atWrite),
        fail: () => {
          if (fault.times <= 0) return undefined; // invocations run at once (a Map's children): the first takes it
          fault.times--;
          this.faultsFired.set(name, (this.faultsFired.get(name) ?? 0) + 1);
          return Object.assign(new Error(`injected fault at a write matching ${fault.atWrite} in ${name}`), { name: fault.error });
        },
      };
    } else if (fault?.when === 'mid' && fault.times > 0) {
      watch.stopAfter = Math.max(0, fault.afterWrites ?? 1);
      stopped = new Promise<never>((_, reject) => {
        watch.stop = () => {
          if (fault.times <= 0) return false; // invocations run at once (a Map's children): the first takes it
          fault.times--;
          this.faultsFired.set(name, (this.faultsFired.get(name) ?? 0) + 1);
          reject(
            Object.assign(new Error(`Task timed out after 300.00 seconds (injected after ${watch.stopAfter} writes in ${name})`), {
              name: fault.error,
            }),
          );
          return true;
        };
      });
      stopped.catch(() => undefined);
    }
    this.inFlight++;
    try {
      if (fault?.when === 'before' && fault.times > 0 && fault.holdMs) await new Promise((r) => setTimeout(r, fault.holdMs));
      fire('before');
      const run = scope.run(watch, () => handler(JSON.parse(request), context));
      const result = await (stopped ? Promise.race([run, stopped]) : run);
      watch.result = result;
      if (watch.writes > (this.mostWrites.get(name) ?? 0)) this.mostWrites.set(name, watch.writes);
      fire('after');
      if (result === undefined) return null;
      const response = JSON.stringify(result);
      const bytes = Buffer.byteLength(response);
      if (bytes > INVOKE_PAYLOAD_LIMIT_BYTES)
        throw Object.assign(
          new Error(`Response payload size (${bytes} bytes) exceeded maximum allowed payload size (${INVOKE_PAYLOAD_LIMIT_BYTES} bytes).`),
          { name: 'Function.ResponseSizeTooLarge' },
        );
      return JSON.parse(response);
    } finally {
      this.inFlight--;
      const ms = Date.now() - started;
      if (ms > (this.longestMs.get(f.entry) ?? 0)) this.longestMs.set(f.entry, ms);
      const billed = this.billed.get(f.architecture) ?? { invocations: 0, gbSeconds: 0 };
      billed.invocations++;
      billed.gbSeconds += (Math.max(1, Math.ceil(ms)) / 1000) * (f.memorySize / 1024);
      this.billed.set(f.architecture, billed);
    }
  }
}
