import { createServer, type Server } from 'node:http';
import { StateMachine } from 'aws-local-stepfunctions';
import type { LocalLambda } from './functions.js';
import { ACCOUNT, REGION } from './template.js';
import { nowMs, onClockMove } from '../functions/shared/clock.js';

interface Execution {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  input: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  startDate: number;
  stopDate?: number;
  output?: string;
  error?: string;
  cause?: string;
  done: Promise<void>;
  /** In a Wait until a timestamp of the injected clock: idle, as far as `idle()` goes. */
  parked?: boolean;
  /** StopExecution: aborts the run and ends any Wait it is in. */
  stop?: () => void;
  /** Ends the clock Wait the execution is in. */
  endWait?: () => void;
  /** A terminal error no Catch sees (States.DataLimitExceeded): the run is aborted and the execution fails with it. */
  terminal?: { error: string; cause: string };
  abort?: () => void;
}

/** Step Functions' payload quota: a state's input or output, and a task's, at most 256 KiB (UTF-8). */
export const PAYLOAD_LIMIT_BYTES = 256 * 1024;

/** The largest delay setTimeout takes (about 24.8 days); a longer one fires at once. */
const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);
/** Marks a Wait state rewritten to wait on the injected clock (see `register`). */
const CLOCK_WAIT = 'local:clock-wait';

/** `$.a.b` of a state's input (the only JSONPath form a TimestampPath needs here). */
const pathValue = (input: any, path: string): unknown =>
  path
    .replace(/^\$\.?/, '')
    .split('.')
    .filter(Boolean)
    .reduce((v, k) => v?.[k], input);

class ServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** Collects every Task state, in nested Map/Parallel states too. */
function taskStates(definition: any, out: [string, any][] = []): [string, any][] {
  for (const [name, state] of Object.entries<any>(definition.States ?? {})) {
    if (state.Type === 'Task') out.push([name, state]);
    if (state.Type === 'Map') taskStates(state.ItemProcessor ?? state.Iterator, out);
    if (state.Type === 'Parallel') for (const b of state.Branches ?? []) taskStates(b, out);
  }
  return out;
}

/**
 * A Step Functions endpoint (AWS JSON 1.0: StartExecution, DescribeExecution, ListExecutions) that runs the
 * synthesized definitions with aws-local-stepfunctions. Lambda tasks run the real handlers in this process.
 * Retry intervals are shortened (`retryIntervalMs`) so fault scenarios do not wait seconds; everything else is as defined.
 */
export class LocalStepFunctions {
  private readonly machines = new Map<string, { definition: any; machine: StateMachine }>();
  private readonly executions = new Map<string, Execution>();
  private server?: Server;
  endpoint = '';
  /**
   * The largest state payload a task received or returned, or a state passed on, in bytes. Past PAYLOAD_LIMIT_BYTES
   * the execution fails with States.DataLimitExceeded, which no Catch (not even States.ALL) takes, as on AWS.
   */
  largestPayload = { bytes: 0, where: '' };
  /**
   * Instrumentation (the benchmark): state transitions as Step Functions bills them, summed over every execution:
   * each state entered (Task, Choice, Pass, Map, ..., in Map iterations too) plus each retry of a state, read from
   * the execution's event log (`StateEntered` and `StateRetried` events).
   */
  stateTransitions = 0;
  /** Instrumentation: the same transitions by state name. */
  readonly transitionsByState = new Map<string, number>();
  /** Instrumentation: the longest single Lambda invocation of a state machine task, in ms, and where. */
  longestTask = { ms: 0, where: '' };

  constructor(
    private readonly lambda: LocalLambda,
    private readonly retryIntervalMs = 20,
  ) {}

  /**
   * D7's grace period waits days: a Wait until a timestamp (`Timestamp`, `TimestampPath`) runs here as a state that
   * ends when the injected clock (functions/shared/clock.ts, moved by `PUT /_local/clock`) passes it, or when the
   * execution is stopped. aws-local-stepfunctions would sleep on the system clock. Timeouts past setTimeout's range
   * (the deletion machine allows 31 days) are capped at it.
   */
  private localDefinition(definition: any): any {
    const copy = structuredClone(definition);
    if (copy.TimeoutSeconds > MAX_TIMER_SECONDS) copy.TimeoutSeconds = MAX_TIMER_SECONDS;
    for (const [name, state] of Object.entries<any>(copy.States ?? {})) {
      if (state.Type !== 'Wait' || (state.Timestamp === undefined && state.TimestampPath === undefined)) continue;
      const { Type, Timestamp, TimestampPath, ...rest } = state;
      copy.States[name] = {
        ...rest,
        Type: 'Task',
        Resource: `${CLOCK_WAIT}:${Timestamp ?? TimestampPath}`,
        TimeoutSeconds: MAX_TIMER_SECONDS,
      };
    }
    return copy;
  }

  register(stateMachineArn: string, definition: any): void {
    definition = this.localDefinition(definition);
    const machine = new StateMachine(definition, { validationOptions: { checkArn: false, checkPaths: true } });
    this.machines.set(stateMachineArn, { definition, machine });
  }

  private overrides(definition: any, execution: Execution) {
    const taskResourceLocalHandlers: Record<string, (input: any) => Promise<any>> = {};
    const retryIntervalOverrides: Record<string, number> = {};
    for (const [name, state] of taskStates(definition)) {
      if (String(state.Resource).startsWith(`${CLOCK_WAIT}:`)) {
        const when = String(state.Resource).slice(CLOCK_WAIT.length + 1);
        taskResourceLocalHandlers[name] = async (input: any) => {
          await this.waitUntil(Date.parse(String(when.startsWith('$') ? pathValue(input, when) : when)), execution);
          return input; // a Wait passes its input on
        };
        continue;
      }
      const viaInvoke = state.Resource === 'arn:aws:states:::lambda:invoke';
      retryIntervalOverrides[name] = this.retryIntervalMs;
      taskResourceLocalHandlers[name] = async (input: any) => {
        const target = viaInvoke ? input.FunctionName : state.Resource;
        const fn = this.lambda.find(target);
        if (!fn) throw Object.assign(new Error(`no local function for ${target}`), { name: 'Lambda.ResourceNotFoundException' });
        this.measure(input, `${name} input`, execution);
        const started = Date.now();
        const result = await this.lambda
          .invoke(fn, viaInvoke ? input.Payload : input, { kind: 'states', stateMachineArn: execution.stateMachineArn })
          .finally(() => {
            const ms = Date.now() - started;
            if (ms > this.longestTask.ms) this.longestTask = { ms, where: name };
          });
        this.measure(result, `${name} output`, execution);
        return viaInvoke ? { Payload: result, StatusCode: 200 } : result;
      };
    }
    return { taskResourceLocalHandlers, retryIntervalOverrides };
  }

  startExecution(stateMachineArn: string, name: string, input: string): Execution {
    const entry = this.machines.get(stateMachineArn);
    if (!entry) throw new ServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${stateMachineArn}'`);
    const machineName = stateMachineArn.split(':').pop()!;
    const executionArn = `arn:aws:states:${REGION}:${ACCOUNT}:execution:${machineName}:${name}`;
    const existing = this.executions.get(executionArn);
    if (existing) {
      // Standard workflows: the same name and input is idempotent; another input is refused.
      if (existing.input === input) return existing;
      throw new ServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const execution: Execution = {
      executionArn,
      stateMachineArn,
      name,
      input,
      status: 'RUNNING',
      startDate: Date.now() / 1000,
      done: Promise.resolve(),
    };
    const parsed = JSON.parse(input || '{}');
    const run = entry.machine.run(parsed, {
      overrides: this.overrides(entry.definition, execution),
      context: { Execution: { Id: executionArn, Name: name, Input: parsed, StartTime: new Date().toISOString() } },
    } as any);
    void (async () => {
      for await (const event of run.eventLogs) {
        if (event.type === 'StateExited') this.measure(event.state.output, `${event.state.name} output`, execution, false);
        if (event.type !== 'StateEntered' && event.type !== 'StateRetried') continue;
        this.stateTransitions++;
        this.transitionsByState.set(event.state.name, (this.transitionsByState.get(event.state.name) ?? 0) + 1);
      }
    })().catch(() => undefined);
    let stopped = false;
    execution.abort = () => run.abort();
    execution.stop = () => {
      stopped = true;
      execution.endWait?.();
      run.abort();
    };
    // the one place an execution ends: ABORTED once stopped; FAILED when it threw, or when a quota failed it (its
    // error first); SUCCEEDED otherwise. Its output is kept unless it failed; its error and cause whenever it threw.
    const end = (outcome: { output: unknown } | { thrown: any }) => {
      const threw = 'thrown' in outcome;
      const failed = threw || (execution.terminal !== undefined && !stopped);
      execution.status = stopped ? 'ABORTED' : failed ? 'FAILED' : 'SUCCEEDED';
      if (failed) {
        const thrown = threw ? outcome.thrown : undefined;
        execution.error = execution.terminal?.error ?? thrown?.name ?? 'Error';
        execution.cause = execution.terminal?.cause ?? thrown?.message ?? String(thrown);
      } else execution.output = JSON.stringify((outcome as { output: unknown }).output);
    };
    execution.done = run.result
      .then(
        (output: unknown) => end({ output }),
        (thrown: unknown) => end({ thrown }),
      )
      .finally(() => {
        execution.stopDate = Date.now() / 1000;
      });
    this.executions.set(executionArn, execution);
    return execution;
  }

  /** Records a payload's size; past the quota, fails the execution as Step Functions does (and throws, in a task). */
  private measure(value: unknown, where: string, execution: Execution, inTask = true): void {
    const bytes = Buffer.byteLength(JSON.stringify(value ?? null));
    if (bytes > this.largestPayload.bytes) this.largestPayload = { bytes, where };
    if (bytes <= PAYLOAD_LIMIT_BYTES || execution.terminal) return;
    const cause = `The state/task '${where}' has a payload of ${bytes} bytes, exceeding the maximum number of bytes service limit (${PAYLOAD_LIMIT_BYTES}).`;
    execution.terminal = { error: 'States.DataLimitExceeded', cause };
    execution.abort?.();
    if (inTask) throw Object.assign(new Error(cause), { name: 'States.DataLimitExceeded' });
  }

  /** Resolves once the injected clock reaches `atMs` (at once if it has), or when the execution is stopped. */
  private waitUntil(atMs: number, execution: Execution): Promise<void> {
    if (!(nowMs() < atMs)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const end = () => {
        unsubscribe();
        execution.parked = false;
        execution.endWait = undefined;
        this.parkedChanged();
        resolve();
      };
      const unsubscribe = onClockMove(() => {
        if (nowMs() >= atMs) end();
      });
      execution.parked = true;
      execution.endWait = end;
      this.parkedChanged();
    });
  }

  private parkWaiters = new Set<() => void>();
  private parkedChanged(): void {
    for (const w of this.parkWaiters) w();
    this.parkWaiters.clear();
  }

  list(): Execution[] {
    return [...this.executions.values()];
  }

  /** Resolves when no execution is running, but those waiting for the injected clock (D7's grace period). */
  async idle(): Promise<void> {
    for (;;) {
      const running = this.list().filter((e) => e.status === 'RUNNING' && !e.parked);
      if (running.length === 0) return;
      await Promise.race([Promise.all(running.map((e) => e.done)), new Promise<void>((r) => this.parkWaiters.add(r))]);
    }
  }

  /** Stops every execution waiting for the injected clock (a world load removes the operations they wait for; a stop ends them). */
  stopWaiting(): void {
    for (const e of this.list()) if (e.status === 'RUNNING' && e.parked) e.stop?.();
  }

  /** StopExecution: the run ends ABORTED; stopping one that ended changes nothing. */
  stopExecution(executionArn: string): { stopDate: number } {
    const e = this.executions.get(executionArn);
    if (!e) throw new ServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    if (e.status === 'RUNNING') e.stop?.();
    return { stopDate: Date.now() / 1000 };
  }

  private describe(e: Execution) {
    const { done, ...rest } = e;
    return rest;
  }

  private handle(target: string, body: any): unknown {
    switch (target) {
      case 'StartExecution': {
        const e = this.startExecution(body.stateMachineArn, body.name ?? crypto.randomUUID(), body.input ?? '{}');
        return { executionArn: e.executionArn, startDate: e.startDate };
      }
      case 'DescribeExecution': {
        const e = this.executions.get(body.executionArn);
        if (!e) throw new ServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${body.executionArn}'`);
        return this.describe(e);
      }
      case 'StopExecution':
        return this.stopExecution(body.executionArn);
      case 'ListExecutions':
        return {
          executions: this.list()
            .filter((e) => e.stateMachineArn === body.stateMachineArn && (!body.statusFilter || e.status === body.statusFilter))
            .map((e) => this.describe(e)),
        };
      default:
        throw new ServiceError('UnknownOperationException', `${target} is not supported by the embedded stack`);
    }
  }

  async listen(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const target = String(req.headers['x-amz-target'] ?? '').replace(/^AWSStepFunctions\./, '');
        try {
          const result = this.handle(target, JSON.parse(Buffer.concat(chunks).toString() || '{}'));
          res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify(result));
        } catch (error) {
          const e = error instanceof ServiceError ? error : new ServiceError('InternalFailure', String(error), 500);
          res
            .writeHead(e.status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': e.type })
            .end(JSON.stringify({ __type: e.type, message: e.message }));
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as any).port}`;
    return this.endpoint;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
