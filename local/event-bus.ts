import { randomUUID } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { LocalLambda } from './functions.js';
import { matchesPattern } from './event-pattern.js';
import { ACCOUNT, REGION, resourcesOfType, type LocalFunction, type LocalNames } from './template.js';
import type { Denial } from './iam/enforce.js';

interface LocalRule {
  name: string;
  busName: string;
  pattern: any;
  targets: { functionArn: string; deadLetterQueue?: string }[];
}

export interface PutEventsEntry {
  Source: string;
  DetailType: string;
  Detail: string | Record<string, unknown>;
  EventBusName?: string;
  Time?: string;
}

/** An event as a bus received it (in order; `seq` counts from 1 in this stack). */
export interface RecordedEvent {
  seq: number;
  bus: string;
  event: {
    version: string;
    id: string;
    'detail-type': string;
    source: string;
    account: string;
    time: string;
    region: string;
    resources: string[];
    detail: any;
  };
}

export interface Delivery {
  rule: string;
  target: string;
  outcome: 'delivered' | 'dead-lettered';
  attempts: number;
  result?: unknown;
  error?: { errorType: string; errorMessage: string };
}

/** PutEvents' quotas: 10 entries a request, 256 KB of entries (AWS's "Calculating PutEvents event entry size"). */
export const PUT_EVENTS_MAX_ENTRIES = 10;
export const PUT_EVENTS_MAX_BYTES = 256 * 1024;

/** An entry's size as EventBridge counts it: Time (14 bytes), Source, DetailType, Detail and Resources, in UTF-8. */
function entrySize(entry: { Time?: unknown; Source?: string; DetailType?: string; Detail?: string; Resources?: string[] }): number {
  const utf8 = (v: string | undefined) => (v ? Buffer.byteLength(v) : 0);
  return (
    (entry.Time !== undefined ? 14 : 0) +
    utf8(entry.Source) +
    utf8(entry.DetailType) +
    utf8(entry.Detail) +
    (entry.Resources ?? []).reduce((n, r) => n + utf8(r), 0)
  );
}

/**
 * EventBridge as the template defines it: buses, rules with their patterns (matched by the project's own matcher),
 * Lambda targets invoked asynchronously with the function's retry count, and the on-failure destination queue
 * receiving what Lambda would send there (the event and the error).
 */
export class LocalEventBus {
  readonly rules: LocalRule[];
  /** The scheduled rules (`rate(1 minute)`): run when asked, `POST /_local/schedules` (the outbox sweeper, docs/EVENTS.md). */
  readonly schedules: (LocalRule & { expression: string })[];
  private readonly queues = new Map<string, string>();
  private readonly asyncConfig = new Map<string, { retries: number; onFailure?: string }>();
  private readonly sqs: SQSClient;
  /** Every event put on any bus, in order (what `npm run events -- tail` reads through `/_local/events`). */
  private readonly log: RecordedEvent[] = [];
  private readonly waiters = new Set<() => void>();
  private readonly pending = new Set<Promise<unknown>>();
  private server?: Server;
  /** Every bus the template defines (a bus without rules, as the operation bus, still takes events). */
  readonly definedBusNames: string[];
  /** sqs:SendMessage of a function's on-failure record, as its role allows it (the IAM enforcement). */
  authorizeDestination?: (fn: LocalFunction, queueArn: string) => Promise<Denial | undefined>;

  constructor(
    private readonly names: LocalNames,
    private readonly lambda: LocalLambda,
    sqsEndpoint: string,
  ) {
    this.sqs = new SQSClient({ endpoint: sqsEndpoint, region: REGION, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const busNames = new Map(
      resourcesOfType(names.template, 'AWS::Events::EventBus').map(([id, r]) => [id, names.resolve(r.Properties.Name) as string]),
    );
    const rule = ([id, r]: [string, any]): LocalRule => ({
      name: id,
      busName: busNames.get(r.Properties.EventBusName?.Ref) ?? 'default',
      pattern: r.Properties.EventPattern,
      targets: (r.Properties.Targets ?? []).map((t: any) => ({
        functionArn: names.resolve(t.Arn),
        deadLetterQueue: t.DeadLetterConfig ? names.resolve(t.DeadLetterConfig.Arn) : undefined,
      })),
    });
    const allRules = resourcesOfType(names.template, 'AWS::Events::Rule');
    this.rules = allRules.filter(([, r]) => r.Properties.EventPattern !== undefined).map(rule);
    // a rule with a ScheduleExpression matches no event: the embedded stack runs none on a timer (runSchedules)
    this.schedules = allRules
      .filter(([, r]) => r.Properties.ScheduleExpression !== undefined)
      .map((r) => ({ ...rule(r), expression: String(r[1].Properties.ScheduleExpression) }));
    this.definedBusNames = [...new Set([...busNames.values(), ...this.rules.map((r) => r.busName)])];
    for (const [, r] of resourcesOfType(names.template, 'AWS::Lambda::EventInvokeConfig')) {
      const fnArn = names.arn(r.Properties.FunctionName.Ref);
      const onFailure = r.Properties.DestinationConfig?.OnFailure?.Destination;
      this.asyncConfig.set(fnArn, {
        retries: r.Properties.MaximumRetryAttempts ?? 2,
        onFailure: onFailure ? names.resolve(onFailure) : undefined,
      });
    }
  }

  get busNames(): string[] {
    return [...new Set(this.rules.map((r) => r.busName))];
  }

  async createQueues(): Promise<void> {
    for (const [id] of resourcesOfType(this.names.template, 'AWS::SQS::Queue')) {
      const out = await this.sqs.send(new CreateQueueCommand({ QueueName: this.names.physicalName(id) }));
      this.queues.set(this.names.arn(id), out.QueueUrl!);
    }
  }

  /** The queue's ARN as the template resolves it, for the SQS resources. */
  queueUrlForArn(arn: string): string | undefined {
    return this.queues.get(arn);
  }

  /** The detail-types the rules match for events of `source` (every source when it matches none), sorted. */
  detailTypes(source?: string): string[] {
    const of = (rules: LocalRule[]) =>
      rules.flatMap((r) =>
        Array.isArray(r.pattern['detail-type']) ? r.pattern['detail-type'].filter((d): d is string => typeof d === 'string') : [],
      );
    const bySource = this.rules.filter((r) => Array.isArray(r.pattern.source) && r.pattern.source.includes(source));
    return [...new Set(of(bySource.length ? bySource : this.rules))].sort();
  }

  /** PutEvents, then delivery to every matching rule's targets. Resolves when the deliveries are done. */
  async put(entry: PutEventsEntry, options: { id?: string; times?: number } = {}): Promise<{ eventId: string; deliveries: Delivery[] }> {
    const busName = entry.EventBusName ?? this.busNames[0]!;
    const event = {
      version: '0',
      id: options.id ?? randomUUID(),
      'detail-type': entry.DetailType,
      source: entry.Source,
      account: ACCOUNT,
      time: entry.Time ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: REGION,
      resources: [],
      detail: typeof entry.Detail === 'string' ? JSON.parse(entry.Detail) : entry.Detail,
    };
    const deliveries: Delivery[] = [];
    this.record(busName, event);
    for (let i = 0; i < (options.times ?? 1); i++) {
      for (const rule of this.rules.filter((r) => r.busName === busName && matchesPattern(r.pattern, event))) {
        deliveries.push(...(await Promise.all(rule.targets.map((t) => this.deliver(rule, t.functionArn, event)))));
      }
    }
    return { eventId: event.id, deliveries };
  }

  private record(bus: string, event: RecordedEvent['event']): void {
    this.log.push({ seq: this.log.length + 1, bus, event });
    for (const wake of this.waiters) wake();
    this.waiters.clear();
  }

  /**
   * The events put after `after` (a `seq`), on `bus` if given; with `waitMs`, waits that long for one to arrive
   * (a long poll: `npm run events -- tail`).
   */
  async recorded(options: { after?: number; bus?: string; waitMs?: number } = {}): Promise<{ events: RecordedEvent[]; last: number }> {
    const pick = () => this.log.slice(options.after ?? 0).filter((e) => !options.bus || e.bus === options.bus);
    if (pick().length === 0 && options.waitMs) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => (this.waiters.delete(done), resolve()), options.waitMs);
        const done = () => (clearTimeout(timer), resolve());
        this.waiters.add(done);
      });
    }
    return { events: pick(), last: this.log.length };
  }

  /**
   * EventBridge's PutEvents request (JSON 1.1 body): each entry on its bus, answered at once; the deliveries to the
   * rules' targets follow (as EventBridge delivers after answering), tracked by `idle()`. An unknown bus fails its entry.
   */
  acceptPutEvents(body: string): {
    FailedEntryCount: number;
    Entries: ({ EventId: string } | { ErrorCode: string; ErrorMessage: string })[];
  } {
    const { Entries = [] } = JSON.parse(body || '{}') as { Entries?: any[] };
    // EventBridge's quotas for one request, refused whole (ValidationException), as AWS does
    if (Entries.length < 1 || Entries.length > PUT_EVENTS_MAX_ENTRIES)
      throw new Error(
        `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to ${PUT_EVENTS_MAX_ENTRIES} and greater than or equal to 1 (got ${Entries.length})`,
      );
    const size = Entries.reduce((n, e) => n + entrySize(e), 0);
    if (size > PUT_EVENTS_MAX_BYTES)
      throw new Error(`Total size of the entries in the request is over the limit (${size} bytes, at most ${PUT_EVENTS_MAX_BYTES}).`);
    const results = Entries.map((entry) => {
      const bus = String(entry.EventBusName ?? 'default')
        .split('/')
        .pop()!;
      if (!this.definedBusNames.includes(bus))
        return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${bus} does not exist.` };
      const id = randomUUID();
      const time =
        entry.Time === undefined
          ? undefined
          : new Date(typeof entry.Time === 'number' ? entry.Time * 1000 : entry.Time).toISOString().replace(/\.\d{3}Z$/, 'Z');
      const delivered = this.put(
        { Source: entry.Source, DetailType: entry.DetailType, Detail: entry.Detail, EventBusName: bus, Time: time },
        { id },
      ).catch((error) => console.error(`event bus: asynchronous delivery failed: ${(error as Error).message}`));
      this.pending.add(delivered);
      void delivered.finally(() => this.pending.delete(delivered));
      return { EventId: id };
    });
    return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
  }

  /** Resolves when every event accepted by PutEvents has been delivered. */
  async idle(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  /** Answers a PutEvents request as EventBridge does: 200 with an entry per event, or 400 for a request over its quotas. */
  answerPutEvents(res: ServerResponse, body: string): void {
    try {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(this.acceptPutEvents(body)));
    } catch (error) {
      res
        .writeHead(400, { 'content-type': 'application/x-amz-json-1.1' })
        .end(JSON.stringify({ __type: 'ValidationException', message: (error as Error).message }));
    }
  }

  /** The EventBridge endpoint the functions' SDK client is pointed at (AWS_ENDPOINT_URL_EVENTBRIDGE): PutEvents only. */
  async listen(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const target = String(req.headers['x-amz-target'] ?? '');
        if (target !== 'AWSEvents.PutEvents') {
          return void res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' }).end(
            JSON.stringify({
              __type: 'UnknownOperationException',
              message: `the embedded stack's EventBridge serves PutEvents only, not ${target}`,
            }),
          );
        }
        this.answerPutEvents(res, Buffer.concat(chunks).toString('utf8'));
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(0, '127.0.0.1', resolve);
    });
    return `http://127.0.0.1:${(this.server.address() as any).port}`;
  }

  async close(): Promise<void> {
    await this.idle();
    this.server?.closeAllConnections?.();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async deliver(rule: LocalRule, functionArn: string, event: unknown): Promise<Delivery> {
    const fn = this.lambda.find(functionArn);
    if (!fn) throw new Error(`rule ${rule.name}: no function ${functionArn}`);
    const config = this.asyncConfig.get(functionArn) ?? { retries: 2 };
    let error: { errorType: string; errorMessage: string } | undefined;
    let attempts = 0;
    for (; attempts <= config.retries;) {
      attempts++;
      try {
        const result = await this.lambda.invoke(fn, event, { kind: 'events', ruleArn: this.names.arn(rule.name) });
        return { rule: rule.name, target: fn.logicalId, outcome: 'delivered', attempts, result };
      } catch (e) {
        error = { errorType: (e as Error).name, errorMessage: (e as Error).message };
      }
    }
    const queueUrl = config.onFailure ? this.queues.get(config.onFailure) : undefined;
    // Lambda sends the failure record with the function's role (local/iam/enforce.ts); refused, it never arrives
    const refused = queueUrl && config.onFailure ? await this.authorizeDestination?.(fn, config.onFailure) : undefined;
    if (queueUrl && !refused) {
      const record = {
        version: '1.0',
        timestamp: new Date().toISOString(),
        requestContext: { requestId: randomUUID(), functionArn, condition: 'RetriesExhausted', approximateInvokeCount: attempts },
        requestPayload: event,
        responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
        responsePayload: error,
      };
      await this.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(record) }));
    }
    return { rule: rule.name, target: fn.logicalId, outcome: 'dead-lettered', attempts, error };
  }

  /**
   * The scheduled rules whose logical id starts with `rule` (all of them without), run now: each target invoked as
   * EventBridge invokes it at the scheduled time (a `Scheduled Event` from `aws.events`, the function's resource policy
   * checked, its retries), one rule after another. Answers each delivery with the function's result.
   */
  async runSchedules(rule?: string): Promise<Delivery[]> {
    const deliveries: Delivery[] = [];
    for (const r of this.schedules.filter((s) => !rule || s.name.startsWith(rule))) {
      const event = {
        version: '0',
        id: randomUUID(),
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        account: ACCOUNT,
        time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        region: REGION,
        resources: [this.names.arn(r.name)],
        detail: {},
      };
      deliveries.push(...(await Promise.all(r.targets.map((t) => this.deliver(r, t.functionArn, event)))));
    }
    return deliveries;
  }

  /** What an operator reads in the dead-letter queues: each event with its reason. */
  async deadLetters(): Promise<unknown[]> {
    const out: unknown[] = [];
    for (const url of this.queues.values()) {
      const res = await this.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 0, WaitTimeSeconds: 0 }),
      );
      out.push(...(res.Messages ?? []).map((m) => JSON.parse(m.Body ?? '{}')));
    }
    return out;
  }
}
