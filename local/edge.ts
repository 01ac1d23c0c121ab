import { randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { LocalEventBus } from './event-bus.js';
import type { LocalLambda } from './functions.js';
import type { LocalHttpApi } from './gateway.js';
import { ACCOUNT, REGION, type LocalNames } from './template.js';

export interface EdgeOptions {
  /** The name DescribeStacks answers to (`--stack NAME`, OFFBOARD_STACK). */
  stackName: string;
  names: LocalNames;
  lambda: LocalLambda;
  eventBus: LocalEventBus;
  /** Served at `/_aws/execute-api/{apiId}/…` and on the host `{apiId}.execute-api.localhost.localstack.cloud`; absent when the stack has no HTTP API. */
  api?: LocalHttpApi;
  /** Where requests for each emulated service go. */
  backends: { dynamodb: string; s3: string; sqs: string; states: string };
}

export interface Edge {
  url: string;
  /** Resolves when every event accepted by PutEvents has been delivered. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const xml = (s: unknown) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const CFN_NS = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';

/** The AWS service a request is for: the SigV4 credential scope names it, as LocalStack's edge reads it. */
export function serviceOf(headers: IncomingMessage['headers'], url: string): string | undefined {
  const auth = String(headers.authorization ?? '');
  const scope =
    /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(auth) ??
    /X-Amz-Credential=[^&]*%2F\d{8}%2F[^%]+%2F([^%]+)%2Faws4_request/i.exec(url);
  if (scope) return scope[1];
  const target = String(headers['x-amz-target'] ?? '');
  const byTarget: [string, string][] = [
    ['DynamoDB_', 'dynamodb'],
    ['AWSStepFunctions.', 'states'],
    ['AWSEvents.', 'events'],
    ['AmazonSQS.', 'sqs'],
  ];
  return byTarget.find(([prefix]) => target.startsWith(prefix))?.[1];
}

/**
 * One endpoint for every service, as LocalStack's edge port 4566 serves them: requests are routed by the service in
 * their SigV4 scope to DynamoDB Local, the S3 and SQS emulator, the local Step Functions endpoint, lambda:Invoke on
 * the local functions, EventBridge PutEvents on the local bus, and a CloudFormation that describes this one stack
 * (DescribeStacks with its outputs, ListStackResources). With it the embedded stack presents itself the way a
 * deployed one does, so the deployed-stack code paths (`OFFBOARD_TARGET=stack`, `world --stack`) run in `npm test`.
 */
export async function startEdge(options: EdgeOptions): Promise<Edge> {
  const pending = new Set<Promise<unknown>>();
  let url = '';
  const stackId = `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${options.stackName}/${randomUUID()}`;
  const created = new Date().toISOString();
  const apiLogicalId = Object.keys(options.names.template.Resources).find(
    (id) => options.names.template.Resources[id]!.Type === 'AWS::ApiGatewayV2::Api',
  );
  const apiId = options.api && apiLogicalId ? options.names.physicalName(apiLogicalId) : undefined;

  // Queues are named by URLs on this endpoint, as LocalStack names them on its own; SQS requests get the emulator's.
  const queueUrls = new Map<string, string>();
  for (const [id, r] of Object.entries(options.names.template.Resources)) {
    const emulated = r.Type === 'AWS::SQS::Queue' ? options.eventBus.queueUrlForArn(options.names.arn(id)) : undefined;
    if (emulated) queueUrls.set(id, emulated);
  }
  const edgeQueueUrl = (id: string) => `${url}/${ACCOUNT}/${options.names.physicalName(id)}`;
  const emulatedQueueUrl = (queueUrl: string) => [...queueUrls].find(([id]) => edgeQueueUrl(id) === queueUrl)?.[1];

  const outputs = (): [string, string][] =>
    Object.entries<any>(options.names.template.Outputs ?? {}).map(([key, o]) => {
      const ref = o.Value?.Ref as string | undefined;
      // Ref of a queue is its URL
      if (ref && queueUrls.has(ref)) return [key, edgeQueueUrl(ref)];
      return [key, String(options.names.resolve(o.Value))];
    });

  const sqsBody = (raw: Buffer): Buffer => {
    const text = raw.toString('utf8');
    if (!text.startsWith('{')) return raw;
    const body = JSON.parse(text);
    if (typeof body.QueueUrl === 'string') body.QueueUrl = emulatedQueueUrl(body.QueueUrl) ?? body.QueueUrl;
    return Buffer.from(JSON.stringify(body));
  };

  const cfnError = (res: ServerResponse, code: string, message: string) =>
    void res
      .writeHead(400, { 'content-type': 'text/xml' })
      .end(
        `<ErrorResponse xmlns="${CFN_NS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${xml(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
      );
  const cfnAnswer = (res: ServerResponse, action: string, result: string) =>
    void res
      .writeHead(200, { 'content-type': 'text/xml' })
      .end(
        `<${action}Response xmlns="${CFN_NS}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`,
      );

  const cloudFormation = (res: ServerResponse, body: string) => {
    const params = new URLSearchParams(body);
    const action = params.get('Action') ?? '';
    const name = params.get('StackName');
    if (!['DescribeStacks', 'ListStackResources'].includes(action))
      return cfnError(res, 'InvalidAction', `${action} is not supported by the embedded stack's edge`);
    if (name !== options.stackName && name !== stackId && !(action === 'DescribeStacks' && name === null)) {
      return cfnError(res, 'ValidationError', `Stack with id ${name} does not exist`);
    }
    if (action === 'DescribeStacks') {
      const members = outputs()
        .map(([k, v]) => `<member><OutputKey>${xml(k)}</OutputKey><OutputValue>${xml(v)}</OutputValue></member>`)
        .join('');
      return cfnAnswer(
        res,
        action,
        `<Stacks><member><StackName>${xml(options.stackName)}</StackName><StackId>${xml(stackId)}</StackId><CreationTime>${created}</CreationTime><StackStatus>CREATE_COMPLETE</StackStatus><Outputs>${members}</Outputs></member></Stacks>`,
      );
    }
    const summaries = Object.entries(options.names.template.Resources)
      .map(([id, r]) => {
        const physical = r.Type === 'AWS::Lambda::Function' ? options.names.physicalName(id) : String(options.names.resolve({ Ref: id }));
        return `<member><LogicalResourceId>${xml(id)}</LogicalResourceId><PhysicalResourceId>${xml(physical)}</PhysicalResourceId><ResourceType>${xml(r.Type)}</ResourceType><LastUpdatedTimestamp>${created}</LastUpdatedTimestamp><ResourceStatus>CREATE_COMPLETE</ResourceStatus></member>`;
      })
      .join('');
    return cfnAnswer(res, action, `<StackResourceSummaries>${summaries}</StackResourceSummaries>`);
  };

  const lambdaInvoke = async (req: IncomingMessage, res: ServerResponse, path: string, body: string) => {
    const m = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(path);
    const fn = m ? options.lambda.find(decodeURIComponent(m[1]!)) : undefined;
    const json = (status: number, value: unknown, headers: Record<string, string> = {}) =>
      void res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(value));
    if (!m || req.method !== 'POST')
      return json(
        404,
        { Type: 'User', message: `no Lambda route ${req.method} ${path}` },
        { 'x-amzn-errortype': 'ResourceNotFoundException' },
      );
    if (!fn)
      return json(
        404,
        { Type: 'User', message: `Function not found: ${decodeURIComponent(m[1]!)}` },
        { 'x-amzn-errortype': 'ResourceNotFoundException' },
      );
    const event = body === '' ? null : JSON.parse(body);
    if (req.headers['x-amz-invocation-type'] === 'Event') {
      track(options.lambda.invoke(fn, event));
      return void res.writeHead(202).end();
    }
    try {
      const result = await options.lambda.invoke(fn, event);
      return json(200, result, { 'x-amz-executed-version': '$LATEST' });
    } catch (error) {
      // as Lambda answers a function error: 200, X-Amz-Function-Error, the error as the payload
      return json(
        200,
        { errorType: (error as Error).name, errorMessage: (error as Error).message },
        { 'x-amz-function-error': 'Unhandled', 'x-amz-executed-version': '$LATEST' },
      );
    }
  };

  const track = (p: Promise<unknown>) => {
    const settled = p.catch((error) => console.error(`edge: asynchronous delivery failed: ${(error as Error).message}`));
    pending.add(settled);
    void settled.finally(() => pending.delete(settled));
  };

  // EventBridge answers at once and delivers after (the bus tracks the deliveries: idle())
  const putEvents = (res: ServerResponse, body: string) => options.eventBus.answerPutEvents(res, body);

  const proxy = (req: IncomingMessage, res: ServerResponse, backend: string, body: Buffer) =>
    new Promise<void>((resolve) => {
      const target = new URL(req.url ?? '/', backend);
      const out = httpRequest(target, { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on('end', resolve);
      });
      out.on('error', (error) => {
        res
          .writeHead(502, { 'content-type': 'application/json' })
          .end(JSON.stringify({ message: `edge: ${backend} did not answer: ${error.message}` }));
        resolve();
      });
      out.end(body);
    });

  const server: Server = createServer(async (req, res) => {
    try {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const raw = Buffer.concat(chunks);
      const body = raw.toString('utf8');
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      // API Gateway's two URL forms on LocalStack
      const byPath = /^\/_aws\/execute-api\/([^/]+)(\/.*)?$/.exec(url.pathname);
      const byHost = /^([a-z0-9]+)\.execute-api\.localhost\.localstack\.cloud(:\d+)?$/.exec(String(req.headers.host ?? ''));
      if (byPath || byHost) {
        const asked = (byPath ?? byHost)![1];
        if (!options.api || asked !== apiId)
          return void res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ message: `no API ${asked}` }));
        if (byPath) req.url = `${byPath[2] ?? '/'}${url.search}`;
        if (await options.api.handle(req, res, body)) return;
        return void res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'Not Found' }));
      }
      const service = serviceOf(req.headers, req.url ?? '');
      switch (service) {
        case 'dynamodb':
          return await proxy(req, res, options.backends.dynamodb, raw);
        case 's3':
          return await proxy(req, res, options.backends.s3, raw);
        case 'sqs': {
          const body = sqsBody(raw);
          req.headers['content-length'] = String(body.length);
          return await proxy(req, res, options.backends.sqs, body);
        }
        case 'states':
          return await proxy(req, res, options.backends.states, raw);
        case 'lambda':
          return await lambdaInvoke(req, res, url.pathname, body);
        case 'events':
          if (String(req.headers['x-amz-target']) === 'AWSEvents.PutEvents') return putEvents(res, body);
          break;
        case 'cloudformation':
          return cloudFormation(res, req.method === 'GET' ? url.search.slice(1) : body);
      }
      res.writeHead(501, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          __type: 'NotImplemented',
          message: `the embedded stack's edge does not serve ${service ?? 'this request'} (${req.method} ${url.pathname})`,
        }),
      );
    } catch (error) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ __type: 'InternalFailure', message: (error as Error).message }));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  url = `http://127.0.0.1:${(server.address() as any).port}`;
  return {
    url,
    async idle() {
      while (pending.size) await Promise.all([...pending]);
      await options.eventBus.idle();
    },
    async close() {
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
