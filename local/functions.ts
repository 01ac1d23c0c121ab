import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomUUID } from 'node:crypto';
import { REPO_ROOT } from '../infra/constructs/offboard-function.js';
import type { LocalFunction } from './template.js';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

/** A fault to inject into a function, for named retry scenarios: fail `times` times, before or after the real work. */
export interface Fault {
  times: number;
  when: 'before' | 'after';
  error: string;
}

/** What the gateway needs of Lambda: a function by ARN or name, and Invoke. */
export interface FunctionInvoker {
  find(arnOrName: string): LocalFunction | undefined;
  invoke(f: LocalFunction, event: unknown): Promise<unknown>;
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
  /** Instrumentation (the benchmark): the longest single invocation in ms, by function entry (e.g. `functions/handlers/api/transfers.ts`). */
  readonly longestMs = new Map<string, number>();
  /** Instrumentation: invocations currently running. */
  inFlight = 0;

  constructor(functions: LocalFunction[]) {
    for (const f of functions) {
      this.byArn.set(f.arn, f);
      this.byLogicalId.set(f.logicalId, f);
    }
  }

  find(arnOrName: string): LocalFunction | undefined {
    return this.byArn.get(arnOrName) ?? [...this.byArn.values()].find((f) => f.arn.endsWith(`:function:${arnOrName}`));
  }

  /** Faults by function entry file name (e.g. `apply-membership`). */
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

  async invoke(f: LocalFunction, event: unknown): Promise<unknown> {
    const name = path.basename(f.entry, '.ts');
    this.invocations.set(name, (this.invocations.get(name) ?? 0) + 1);
    const fault = this.faults.get(name);
    const fire = (when: Fault['when']) => {
      if (fault && fault.when === when && fault.times > 0) {
        fault.times--;
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
    this.inFlight++;
    try {
      fire('before');
      const result = await handler(JSON.parse(JSON.stringify(event ?? null)), context);
      fire('after');
      return result === undefined ? null : JSON.parse(JSON.stringify(result));
    } finally {
      this.inFlight--;
      const ms = Date.now() - started;
      if (ms > (this.longestMs.get(f.entry) ?? 0)) this.longestMs.set(f.entry, ms);
    }
  }
}
