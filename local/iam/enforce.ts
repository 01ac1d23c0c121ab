import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import { S3ServiceException } from '@aws-sdk/client-s3';
import { SFNServiceException } from '@aws-sdk/client-sfn';
import { EventBridgeServiceException } from '@aws-sdk/client-eventbridge';
import { ACCOUNT, REGION, type LocalFunction, type LocalNames } from '../template.js';
import { authorizationsFor, type Authorization } from './actions.js';
import { stackPolicies, type PolicyDocument, type StackPolicies } from './policies.js';

/** A request AWS would refuse: who asked, for what, on what, and why. */
export interface Denial {
  /** The function's logical id (or the service that asked, for an invocation). */
  function: string;
  principal: string;
  action: string;
  resource: string;
  reason: string;
}

/** Who invokes a function: a state machine (its role), or a service through the function's resource policy. */
export type InvokeCaller =
  { kind: 'states'; stateMachineArn: string } | { kind: 'events'; ruleArn: string } | { kind: 'apigateway'; sourceArn: string };

/** One request as the simulator takes it: who asks, under which policies, for what, on what. */
interface SimulatedRequest {
  principal: string;
  identity: { name: string; policy: PolicyDocument }[];
  action: string;
  resource: string;
  context: Record<string, string>;
  resourcePolicy?: PolicyDocument;
}

type Decision = { allowed: true } | { allowed: false; explicit: boolean };

/** Is enforcement on? On unless `OFFBOARD_IAM=off` (experiments: `npm start -- --no-iam`). */
export function iamEnforcedByDefault(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.OFFBOARD_IAM;
  if (v === undefined || v === '' || v === 'enforce') return true;
  if (v === 'off') return false;
  throw new Error(`OFFBOARD_IAM must be "enforce" or "off", not ${JSON.stringify(v)}`);
}

const wildcard = (pattern: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );

/**
 * The synthesized IAM and resource policies, enforced on the embedded stack as AWS would: every SDK call a function
 * makes and every invocation of a function is evaluated (`@cloud-copilot/iam-simulate`) against the template's
 * policies; a refused one fails as AWS answers it and is kept in `denials`. What was allowed is kept, per function,
 * in `usage` (least privilege is measured from it).
 */
export class IamEnforcer {
  policies: StackPolicies;
  readonly denials: Denial[] = [];
  /** Told of each denial as it happens (`npm start` prints them). */
  onDenial?: (denial: Denial) => void;
  /** Function logical id → action → resources (object keys to their first segment, executions to their state machine). */
  readonly usage = new Map<string, Map<string, Set<string>>>();
  /** Decisions by request shape, as promises: requests of one shape that arrive together share one simulation. */
  private readonly cache = new Map<string, Promise<Decision>>();
  /** Simulations run (the rest were answered from `cache`). */
  simulations = 0;
  private readonly patterns = new Map<string, RegExp>();
  private readonly documents = new Map<PolicyDocument, number>();

  constructor(readonly names: LocalNames) {
    this.policies = stackPolicies(names);
  }

  /** Reads the policies again from the template (a test that changed it), forgetting every decision made. */
  reload(): void {
    this.policies = stackPolicies(this.names);
    this.cache.clear();
    this.documents.clear();
  }

  private roleOf(fn: LocalFunction) {
    const id = this.policies.functionRoles.get(fn.logicalId);
    const role = id ? this.policies.roles.get(id) : undefined;
    if (!role) throw new Error(`function ${fn.logicalId} has no role in the template`);
    return role;
  }

  /** The session a function's code runs as: `assumed-role/ROLE/FUNCTION`, as Lambda names it. */
  sessionOf(fn: LocalFunction): string {
    return `arn:aws:sts::${ACCOUNT}:assumed-role/${this.roleOf(fn).roleName}/${this.names.physicalName(fn.logicalId)}`;
  }

  private matches(pattern: string, value: string): boolean {
    let re = this.patterns.get(pattern);
    if (!re) this.patterns.set(pattern, (re = wildcard(pattern)));
    return re.test(value);
  }

  /** The decision for one request; cached by which of the policies' resource patterns the resource matches. */
  async decide(
    principal: string,
    identity: { name: string; policy: PolicyDocument }[],
    action: string,
    resource: string,
    context: Record<string, string>,
    resourcePolicy?: PolicyDocument,
  ): Promise<Decision> {
    const statements = [...identity.flatMap((p) => p.policy.Statement), ...(resourcePolicy?.Statement ?? [])];
    const shape = statements
      .map((s) =>
        [s.Resource ?? s.NotResource ?? []]
          .flat()
          .map((p: string) => (this.matches(p, resource) ? 1 : 0))
          .join(''),
      )
      .join('|');
    if (resourcePolicy && !this.documents.has(resourcePolicy)) this.documents.set(resourcePolicy, this.documents.size);
    const key = JSON.stringify([
      principal,
      action,
      shape,
      context,
      resource.split(':')[2],
      resourcePolicy ? this.documents.get(resourcePolicy) : -1,
    ]);
    let decision = this.cache.get(key);
    if (!decision) {
      decision = this.simulate({ principal, identity, action, resource, context, resourcePolicy });
      this.cache.set(key, decision);
      decision.catch(() => this.cache.delete(key));
    }
    return decision;
  }

  private async simulate({ principal, identity, action, resource, context, resourcePolicy }: SimulatedRequest): Promise<Decision> {
    this.simulations++;
    const result: any = await runSimulation(
      {
        request: {
          principal,
          action,
          resource: { resource, accountId: ACCOUNT },
          // the SDK reaches AWS over HTTPS: a TLS-only bucket or queue policy lets these requests through
          contextVariables: {
            'aws:SecureTransport': 'true',
            'aws:SourceAccount': ACCOUNT,
            'aws:PrincipalAccount': ACCOUNT,
            'aws:RequestedRegion': REGION,
            ...context,
          },
        },
        identityPolicies: identity,
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy,
      } as any,
      {},
    );
    if (result.resultType === 'error')
      throw new Error(`iam-simulate refused ${action} on ${resource}: ${result.errors.message} ${JSON.stringify(result.errors)}`);
    return result.overallResult === 'Allowed'
      ? { allowed: true }
      : { allowed: false, explicit: result.overallResult === 'ExplicitlyDenied' };
  }

  private record(fn: string, action: string, resource: string): void {
    const byAction = this.usage.get(fn) ?? new Map<string, Set<string>>();
    this.usage.set(fn, byAction);
    const set = byAction.get(action) ?? new Set<string>();
    byAction.set(action, set);
    // an object key says which prefix was used; the table and bucket names lose the stack's prefix
    const general = resource
      .replace(/^(arn:aws:s3:::[^/]+\/[^/]+\/).+$/, '$1*')
      .replace(/^(arn:aws:states:[^:]+:[^:]+:execution:[^:]+:).+$/, '$1*')
      .split(this.names.prefix)
      .join('{prefix}');
    set.add(general);
  }

  private deny(fn: string, principal: string, action: string, resource: string, decision: Decision & { allowed: false }): Denial {
    const shown = action.startsWith('s3:') ? `"${resource}"` : resource;
    const reason = decision.explicit
      ? 'with an explicit deny in a resource-based policy'
      : `because no identity-based policy allows the ${action} action`;
    const denial = {
      function: fn,
      principal,
      action,
      resource,
      reason: `User: ${principal} is not authorized to perform: ${action} on resource: ${shown} ${reason}`,
    };
    this.denials.push(denial);
    this.onDenial?.(denial);
    return denial;
  }

  /** Checks one SDK request of `fn`; answers the denials (none: allowed). */
  async checkRequest(fn: LocalFunction, a: Authorization): Promise<Denial | undefined> {
    const role = this.roleOf(fn);
    const principal = this.sessionOf(fn);
    const bucket = a.resource.startsWith('arn:aws:s3:::') ? a.resource.replace(/\/.*$/, '') : undefined;
    const resourcePolicy = this.policies.resourcePolicies.get(bucket ?? a.resource);
    const decision = await this.decide(
      principal,
      role.policies,
      a.action,
      a.resource,
      { 'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:role/${role.roleName}`, ...a.context },
      resourcePolicy,
    );
    if (decision.allowed) {
      this.record(fn.logicalId, a.action, a.resource);
      return undefined;
    }
    return this.deny(fn.logicalId, principal, a.action, a.resource, decision);
  }

  /** lambda:InvokeFunction of `fn` by `caller`: the state machine's role, or the function's permissions for a service. */
  async checkInvoke(fn: LocalFunction, caller: InvokeCaller): Promise<Denial | undefined> {
    const resourcePolicy = this.policies.resourcePolicies.get(fn.arn);
    if (caller.kind === 'states') {
      const roleId = this.policies.stateMachineRoles.get(caller.stateMachineArn);
      const role = roleId ? this.policies.roles.get(roleId) : undefined;
      if (!role) throw new Error(`state machine ${caller.stateMachineArn} has no role in the template`);
      const principal = `arn:aws:sts::${ACCOUNT}:assumed-role/${role.roleName}/${caller.stateMachineArn.split(':').pop()}`;
      const decision = await this.decide(
        principal,
        role.policies,
        'lambda:InvokeFunction',
        fn.arn,
        { 'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:role/${role.roleName}` },
        resourcePolicy,
      );
      return decision.allowed ? undefined : this.deny(role.roleLogicalId, principal, 'lambda:InvokeFunction', fn.arn, decision);
    }
    const service = caller.kind === 'events' ? 'events.amazonaws.com' : 'apigateway.amazonaws.com';
    const sourceArn = caller.kind === 'events' ? caller.ruleArn : caller.sourceArn;
    const decision = await this.decide(service, [], 'lambda:InvokeFunction', fn.arn, { 'aws:SourceArn': sourceArn }, resourcePolicy);
    return decision.allowed
      ? undefined
      : this.deny(service, service, 'lambda:InvokeFunction', fn.arn, { allowed: false, explicit: decision.explicit });
  }

  /** sqs:SendMessage by a service (EventBridge's dead-letter queue) through the queue's policy. */
  async checkServiceSend(service: string, sourceArn: string, queueArn: string): Promise<Denial | undefined> {
    const decision = await this.decide(
      service,
      [],
      'sqs:SendMessage',
      queueArn,
      { 'aws:SourceArn': sourceArn },
      this.policies.resourcePolicies.get(queueArn),
    );
    return decision.allowed ? undefined : this.deny(service, service, 'sqs:SendMessage', queueArn, decision);
  }

  /**
   * The SDK middleware (step `initialize`) for one client of the store (`service`: DynamoDB, S3, SFN): every request
   * made inside a function's invocation is checked against that function's role and the resource's policy. A refused
   * request fails as AWS fails it (DynamoDB `AccessDeniedException`, S3 `AccessDenied` 403); in a PartiQL batch a refused
   * statement answers `AccessDenied` in its response and in DeleteObjects a refused key is listed in `Errors`, the rest
   * running, as AWS authorizes them one by one.
   */
  middleware(service: 'DynamoDB' | 'S3' | 'SFN' | 'EventBridge', current: () => LocalFunction | undefined) {
    return (next: (args: any) => Promise<any>, context: { commandName?: string }) => async (args: any) => {
      const fn = current();
      if (!fn) return next(args); // the harness itself (world load and export), not a function
      const command = String(context.commandName ?? '');
      const auths = authorizationsFor(service, command, args.input);
      const results = await Promise.all(auths.map((a) => this.checkRequest(fn, a)));
      const denied = auths.map((a, i) => ({ a, d: results[i] })).filter((x): x is { a: Authorization; d: Denial } => x.d !== undefined);
      if (denied.length === 0) return next(args);
      const byPart = denied.every((x) => x.a.part !== undefined);
      if (byPart && command.startsWith('BatchExecuteStatement'))
        return this.partial(args, next, 'Statements', denied, (d) => ({ Error: { Code: 'AccessDenied', Message: d.reason } }));
      if (byPart && command.startsWith('DeleteObjects')) return this.partialDelete(args, next, denied);
      throw accessDenied(service, denied[0]!.d);
    };
  }

  private async partial(
    args: any,
    next: (args: any) => Promise<any>,
    field: string,
    denied: { a: Authorization; d: Denial }[],
    answer: (d: Denial) => unknown,
  ) {
    const refused = new Map(denied.map((x) => [x.a.part!, x.d]));
    const all: unknown[] = args.input[field];
    const kept = all.filter((_, i) => !refused.has(i));
    const out = kept.length
      ? await next({ ...args, input: { ...args.input, [field]: kept } })
      : { output: { $metadata: { httpStatusCode: 200 }, Responses: [] }, response: {} };
    const responses = [...(out.output.Responses ?? [])];
    out.output = { ...out.output, Responses: all.map((_, i) => (refused.has(i) ? answer(refused.get(i)!) : responses.shift())) };
    return out;
  }

  private async partialDelete(args: any, next: (args: any) => Promise<any>, denied: { a: Authorization; d: Denial }[]) {
    const refused = new Set(denied.map((x) => x.a.part!));
    const objects: { Key: string }[] = args.input.Delete.Objects;
    const kept = objects.filter((_, i) => !refused.has(i));
    const out = kept.length
      ? await next({ ...args, input: { ...args.input, Delete: { ...args.input.Delete, Objects: kept } } })
      : { output: { $metadata: { httpStatusCode: 200 } }, response: {} };
    const errors = objects.filter((_, i) => refused.has(i)).map((o) => ({ Key: o.Key, Code: 'AccessDenied', Message: 'Access Denied' }));
    out.output = { ...out.output, Errors: [...(out.output.Errors ?? []), ...errors] };
    return out;
  }

  /** The usage, for `.offboard/iam-usage/`: function → action → resources, sorted. */
  usageJson(): Record<string, Record<string, string[]>> {
    return Object.fromEntries(
      [...this.usage.entries()]
        .sort()
        .map(([fn, actions]) => [fn, Object.fromEntries([...actions.entries()].sort().map(([a, r]) => [a, [...r].sort()]))]),
    );
  }

  writeUsage(dir: string): void {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `${this.names.prefix}-${process.pid}.json`), JSON.stringify(this.usageJson(), null, 1));
  }
}

/** The error AWS answers a refused request with. */
export function accessDenied(service: 'DynamoDB' | 'S3' | 'SFN' | 'EventBridge', d: Denial): Error {
  const metadata = { httpStatusCode: service === 'S3' ? 403 : 400, requestId: 'local-iam' };
  if (service === 'S3')
    return Object.assign(new S3ServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: metadata, message: d.reason }), {
      Code: 'AccessDenied',
    });
  if (service === 'EventBridge')
    return new EventBridgeServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata: metadata, message: d.reason });
  if (service === 'SFN')
    return new SFNServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata: metadata, message: d.reason });
  return new DynamoDBServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata: metadata, message: d.reason });
}

/** Denials as the harness reports them: one line each, function, action and resource first. */
export function describeDenials(denials: readonly Denial[]): string {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const d of denials) {
    const line = `${d.function}: ${d.action} on ${d.resource}`;
    if (seen.has(line)) continue;
    seen.add(line);
    lines.push(`${line}\n    ${d.reason}`);
  }
  return lines.join('\n');
}
