import { createServer, type Server } from 'node:http';
import { CloudFormationClient, DescribeStacksCommand, paginateListStackResources } from '@aws-sdk/client-cloudformation';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { FunctionInvoker } from './functions.js';
import type { JwtSettings } from './gateway.js';
import type { LocalFunction } from './template.js';

/**
 * A deployed stack (LocalStack or AWS) as the tools see it: its outputs through CloudFormation, the API by URL, or,
 * where the stack was deployed without one (`-c offboard:api=none`), the project's own gateway in front of
 * lambda:Invoke on the deployed functions. Every client takes its endpoint from the standard AWS environment
 * (`AWS_ENDPOINT_URL` for LocalStack).
 */

export type StackOutputs = Record<string, string>;

/** The stack's outputs (DescribeStacks); fails naming the stack when there is none. */
export async function stackOutputs(stackName: string): Promise<StackOutputs> {
  const cfn = new CloudFormationClient({});
  try {
    const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = out.Stacks?.[0];
    if (!stack) throw new Error(`no stack ${stackName}`);
    return Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey!, o.OutputValue!]));
  } catch (error) {
    const where = process.env.AWS_ENDPOINT_URL ? ` at ${process.env.AWS_ENDPOINT_URL}` : '';
    throw new Error(`cannot read stack ${stackName}${where}: ${(error as Error).message}`);
  } finally {
    cfn.destroy();
  }
}

/** What a tool needs of the outputs, checked: a missing one is named. */
export function requireOutputs(outputs: StackOutputs, keys: string[], stackName: string): void {
  const missing = keys.filter((k) => !outputs[k]);
  if (missing.length) throw new Error(`stack ${stackName} has no ${missing.join(', ')} output${missing.length > 1 ? 's' : ''}`);
}

/**
 * The base URL that reaches the HTTP API. On AWS, the `ApiUrl` output as it is. Behind a local endpoint
 * (`AWS_ENDPOINT_URL`, as LocalStack serves it) the output still reads `https://{apiId}.execute-api.{region}.amazonaws.com/`,
 * which is not where the API answers: LocalStack serves it at `{endpoint}/_aws/execute-api/{apiId}` (`path`, works with
 * any host) or at `http://{apiId}.execute-api.localhost.localstack.cloud:{port}` (`host`, needs that DNS name).
 */
export function apiBaseUrl(apiUrl: string, endpoint: string | undefined, style: 'path' | 'host' = 'path'): string {
  const trimmed = apiUrl.replace(/\/+$/, '');
  if (!endpoint) return trimmed;
  const m = /^https?:\/\/([^./]+)\.execute-api\.[^/]+/.exec(trimmed);
  if (!m) return trimmed; // already a local URL
  const edge = new URL(endpoint);
  if (style === 'host')
    return `${edge.protocol}//${m[1]}.execute-api.localhost.localstack.cloud:${edge.port || (edge.protocol === 'https:' ? 443 : 80)}`;
  return `${edge.origin}/_aws/execute-api/${m[1]}`;
}

/** lambda:Invoke on the deployed functions, each found by its logical id in the stack's resources. */
class DeployedLambda implements FunctionInvoker {
  private readonly byArn: Map<string, LocalFunction>;

  constructor(
    private readonly client: LambdaClient,
    private readonly invokeCommand: typeof import('@aws-sdk/client-lambda').InvokeCommand,
    functions: LocalFunction[],
    private readonly physical: Map<string, string>,
  ) {
    this.byArn = new Map(functions.map((f) => [f.arn, f]));
  }

  find(arn: string): LocalFunction | undefined {
    const f = this.byArn.get(arn);
    return f && this.physical.has(f.logicalId) ? f : undefined;
  }

  async invoke(f: LocalFunction, event: unknown): Promise<unknown> {
    const out = await this.client.send(
      new this.invokeCommand({ FunctionName: this.physical.get(f.logicalId), Payload: Buffer.from(JSON.stringify(event)) }),
    );
    const text = out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
    const payload = text ? JSON.parse(text) : null;
    if (out.FunctionError) {
      const error = new Error(payload?.errorMessage ?? out.FunctionError);
      error.name = payload?.errorType ?? 'Error';
      throw error;
    }
    return payload;
  }

  destroy(): void {
    this.client.destroy();
  }
}

export interface Gateway {
  url: string;
  close(): Promise<void>;
}

/**
 * The HTTP API for a stack deployed without one: routes and authorizers as the full template defines them, each route
 * invoking the deployed function with the same logical id (ListStackResources), tokens checked against `jwt`.
 */
export async function startGatewayOverInvoke(stackName: string, jwt: JwtSettings): Promise<Gateway> {
  // loaded here: `npm run world -- --stack` needs none of this (the CDK library, the gateway, Lambda)
  const [{ LocalNames, localFunctions, synthesizeTemplate }, { LocalHttpApi }, { InvokeCommand, LambdaClient }] = await Promise.all([
    import('./template.js'),
    import('./gateway.js'),
    import('@aws-sdk/client-lambda'),
  ]);
  const names = new LocalNames(synthesizeTemplate({ api: 'http' }), 'template');
  const cfn = new CloudFormationClient({});
  const physical = new Map<string, string>();
  try {
    for await (const page of paginateListStackResources({ client: cfn }, { StackName: stackName })) {
      for (const r of page.StackResourceSummaries ?? []) {
        if (r.ResourceType === 'AWS::Lambda::Function' && r.LogicalResourceId && r.PhysicalResourceId)
          physical.set(r.LogicalResourceId, r.PhysicalResourceId);
      }
    }
  } finally {
    cfn.destroy();
  }
  const lambda = new DeployedLambda(new LambdaClient({}), InvokeCommand, localFunctions(names), physical);
  const api = new LocalHttpApi(names, lambda, jwt);
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    try {
      if (await api.handle(req, res, Buffer.concat(chunks).toString('utf8'))) return;
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { code: 'not-found', message: `no route ${req.method} ${req.url}` } }));
    } catch (error) {
      res
        .writeHead(500, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { code: 'internal', message: (error as Error).message } }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as any).port}`,
    async close() {
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      lambda.destroy();
    },
  };
}
