import { randomUUID } from 'node:crypto';
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

export interface Delivery {
  rule: string;
  target: string;
  outcome: 'delivered' | 'dead-lettered';
  attempts: number;
  result?: unknown;
  error?: { errorType: string; errorMessage: string };
}

/**
 * EventBridge as the template defines it: buses, rules with their patterns (matched by the project's own matcher),
 * Lambda targets invoked asynchronously with the function's retry count, and the on-failure destination queue
 * receiving what Lambda would send there (the event and the error).
 */
export class LocalEventBus {
  readonly rules: LocalRule[];
  private readonly queues = new Map<string, string>();
  private readonly asyncConfig = new Map<string, { retries: number; onFailure?: string }>();
  private readonly sqs: SQSClient;
  /** sqs:SendMessage of a function's on-failure record, as its role allows it (the IAM enforcement). */
  authorizeDestination?: (fn: LocalFunction, queueArn: string) => Promise<Denial | undefined>;

  constructor(private readonly names: LocalNames, private readonly lambda: LocalLambda, sqsEndpoint: string) {
    this.sqs = new SQSClient({ endpoint: sqsEndpoint, region: REGION, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const busNames = new Map(resourcesOfType(names.template, 'AWS::Events::EventBus').map(([id, r]) => [id, names.resolve(r.Properties.Name) as string]));
    this.rules = resourcesOfType(names.template, 'AWS::Events::Rule').map(([id, r]) => ({
      name: id,
      busName: busNames.get(r.Properties.EventBusName?.Ref) ?? 'default',
      pattern: r.Properties.EventPattern,
      targets: (r.Properties.Targets ?? []).map((t: any) => ({
        functionArn: names.resolve(t.Arn),
        deadLetterQueue: t.DeadLetterConfig ? names.resolve(t.DeadLetterConfig.Arn) : undefined,
      })),
    }));
    for (const [, r] of resourcesOfType(names.template, 'AWS::Lambda::EventInvokeConfig')) {
      const fnArn = names.arn(r.Properties.FunctionName.Ref);
      const onFailure = r.Properties.DestinationConfig?.OnFailure?.Destination;
      this.asyncConfig.set(fnArn, { retries: r.Properties.MaximumRetryAttempts ?? 2, onFailure: onFailure ? names.resolve(onFailure) : undefined });
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
    const of = (rules: LocalRule[]) => rules.flatMap((r) => (Array.isArray(r.pattern['detail-type']) ? r.pattern['detail-type'].filter((d): d is string => typeof d === 'string') : []));
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
    for (let i = 0; i < (options.times ?? 1); i++) {
      for (const rule of this.rules.filter((r) => r.busName === busName && matchesPattern(r.pattern, event))) {
        deliveries.push(...(await Promise.all(rule.targets.map((t) => this.deliver(rule, t.functionArn, event)))));
      }
    }
    return { eventId: event.id, deliveries };
  }

  private async deliver(rule: LocalRule, functionArn: string, event: unknown): Promise<Delivery> {
    const fn = this.lambda.find(functionArn);
    if (!fn) throw new Error(`rule ${rule.name}: no function ${functionArn}`);
    const config = this.asyncConfig.get(functionArn) ?? { retries: 2 };
    let error: { errorType: string; errorMessage: string } | undefined;
    let attempts = 0;
    for (; attempts <= config.retries; ) {
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

  /** What an operator reads in the dead-letter queues: each event with its reason. */
  async deadLetters(): Promise<unknown[]> {
    const out: unknown[] = [];
    for (const url of this.queues.values()) {
      const res = await this.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 0, WaitTimeSeconds: 0 }));
      out.push(...(res.Messages ?? []).map((m) => JSON.parse(m.Body ?? '{}')));
    }
    return out;
  }
}
