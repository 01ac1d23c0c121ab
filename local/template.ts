import { createHash } from 'node:crypto';
import { App } from 'aws-cdk-lib';
import { OffboardStack } from '../infra/offboard-stack.js';
import { ENTRY_METADATA } from '../infra/constructs/offboard-function.js';

export type Template = { Resources: Record<string, { Type: string; Properties?: any; Metadata?: any }>; Outputs?: Record<string, any> };

export const REGION = 'us-east-1';
export const ACCOUNT = '000000000000';

/**
 * The stack exactly as `cdk synth` builds it, minus asset bundling (the embedded stack runs the handler sources).
 * `api: 'none'` is the stack as `-c offboard:api=none` deploys it (LocalStack's free tier).
 */
export function synthesizeTemplate(options: { api?: 'http' | 'none'; confirmationThreshold?: number } = {}): Template {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new OffboardStack(app, 'Offboard', {
    jwtIssuer: 'http://127.0.0.1/local-idp',
    jwtAudience: ['offboard-local'],
    retainData: false,
    api: options.api,
    ...(options.confirmationThreshold === undefined ? {} : { confirmationThreshold: options.confirmationThreshold }),
  });
  return app.synth().getStackByName(stack.stackName).template as Template;
}

/** Names the embedded stack gives to the template's resources (a prefix keeps several stacks apart on one emulator). */
export class LocalNames {
  constructor(
    readonly template: Template,
    readonly prefix: string,
  ) {}

  physicalName(logicalId: string): string {
    const type = this.template.Resources[logicalId]?.Type;
    switch (type) {
      case 'AWS::DynamoDB::GlobalTable':
      case 'AWS::DynamoDB::Table':
        return `${this.prefix}-${logicalId}`;
      case 'AWS::S3::Bucket':
        return `${this.prefix}-${logicalId}`
          .toLowerCase()
          .replace(/[^a-z0-9-]/g, '-')
          .slice(0, 63);
      case 'AWS::StepFunctions::StateMachine': {
        // a given name (the transfer workflow has one, so its steps can start it: B2) is resolved like any value
        const named = this.template.Resources[logicalId]?.Properties?.StateMachineName;
        return `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${named ? String(this.resolve(named)) : `${this.prefix}-${logicalId}`}`;
      }
      case 'AWS::Lambda::Function':
        return `${this.prefix}-${logicalId}`;
      case 'AWS::ApiGatewayV2::Api':
        // an API id as API Gateway makes them: 10 lowercase letters and digits
        return createHash('sha256').update(`${this.prefix}/${logicalId}`).digest('hex').slice(0, 10);
      case 'AWS::Events::EventBus':
        // Ref of a bus is its name
        return String(this.resolve(this.template.Resources[logicalId]?.Properties?.Name ?? `${this.prefix}-${logicalId}`));
      default:
        return `${this.prefix}-${logicalId}`;
    }
  }

  arn(logicalId: string): string {
    const type = this.template.Resources[logicalId]?.Type;
    if (type === 'AWS::Lambda::Function') return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${this.physicalName(logicalId)}`;
    if (type === 'AWS::StepFunctions::StateMachine') return this.physicalName(logicalId);
    if (type === 'AWS::DynamoDB::GlobalTable' || type === 'AWS::DynamoDB::Table')
      return `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${this.physicalName(logicalId)}`;
    if (type === 'AWS::S3::Bucket') return `arn:aws:s3:::${this.physicalName(logicalId)}`;
    // as AWS names them, so the policies that name them (queue policy, lambda permissions) resolve to what is checked
    if (type === 'AWS::SQS::Queue') return `arn:aws:sqs:${REGION}:${ACCOUNT}:${this.physicalName(logicalId)}`;
    if (type === 'AWS::IAM::Role') return `arn:aws:iam::${ACCOUNT}:role/${this.physicalName(logicalId)}`;
    if (type === 'AWS::Events::Rule') {
      const bus = this.template.Resources[logicalId]?.Properties?.EventBusName;
      return `arn:aws:events:${REGION}:${ACCOUNT}:rule/${bus ? `${this.resolve(bus)}/` : ''}${this.physicalName(logicalId)}`;
    }
    if (type === 'AWS::Events::EventBus') return `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${this.physicalName(logicalId)}`;
    return `arn:aws:local:${REGION}:${ACCOUNT}:${logicalId}`;
  }

  /** Resolves the intrinsic functions the template uses into local values. */
  resolve(value: any): any {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    if (value === null || typeof value !== 'object') return value;
    if ('Ref' in value) {
      const ref = value.Ref as string;
      const pseudo: Record<string, string> = {
        'AWS::Region': REGION,
        'AWS::AccountId': ACCOUNT,
        'AWS::Partition': 'aws',
        'AWS::URLSuffix': 'amazonaws.com',
        'AWS::StackName': this.prefix,
      };
      if (ref in pseudo) return pseudo[ref];
      const type = this.template.Resources[ref]?.Type;
      return type === 'AWS::StepFunctions::StateMachine' ? this.arn(ref) : this.physicalName(ref);
    }
    if ('Fn::GetAtt' in value) {
      const [id, attr] = value['Fn::GetAtt'] as [string, string];
      if (attr === 'Arn') return this.arn(id);
      if (attr === 'ApiEndpoint') return `https://${this.physicalName(id)}.execute-api.${REGION}.amazonaws.com`;
      return `${this.physicalName(id)}.${attr}`;
    }
    if ('Fn::Join' in value) {
      const [sep, parts] = value['Fn::Join'];
      return (this.resolve(parts) as any[]).join(sep);
    }
    if ('Fn::Select' in value) {
      const [index, list] = value['Fn::Select'];
      return (this.resolve(list) as any[])[Number(index)];
    }
    if ('Fn::Split' in value) {
      const [sep, text] = value['Fn::Split'];
      return String(this.resolve(text)).split(sep);
    }
    if ('Fn::Sub' in value) {
      const text = Array.isArray(value['Fn::Sub']) ? value['Fn::Sub'][0] : value['Fn::Sub'];
      return String(text).replace(/\$\{([^}]+)\}/g, (_, name: string) =>
        this.resolve(name.includes('.') ? { 'Fn::GetAtt': name.split('.') } : { Ref: name }),
      );
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.resolve(v)]));
  }
}

export interface LocalFunction {
  logicalId: string;
  arn: string;
  /** Handler module, relative to the repository root. */
  entry: string;
  environment: Record<string, string>;
  /** MemorySize of the function in MB (Lambda's default 128 when the template has none), for the benchmark's GB-seconds. */
  memorySize: number;
  /** `arm64` or `x86_64` (Lambda's default), for the benchmark's price. */
  architecture: string;
}

/** Every Lambda function of the template with its handler module (from the function construct's metadata). */
export function localFunctions(names: LocalNames): LocalFunction[] {
  return Object.entries(names.template.Resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.[ENTRY_METADATA])
    .map(([logicalId, r]) => ({
      logicalId,
      arn: names.arn(logicalId),
      entry: r.Metadata[ENTRY_METADATA],
      environment: names.resolve(r.Properties?.Environment?.Variables ?? {}),
      memorySize: Number(r.Properties?.MemorySize ?? 128),
      architecture: String(r.Properties?.Architectures?.[0] ?? 'x86_64'),
    }));
}

export function resourcesOfType(template: Template, type: string): [string, any][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}
