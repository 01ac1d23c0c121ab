import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { jwtVerify } from 'jose';
import { INVOKE_PAYLOAD_LIMIT_BYTES, type FunctionInvoker } from './functions.js';
import { ACCOUNT, LocalNames, REGION, resourcesOfType, type LocalFunction } from './template.js';

interface Route {
  method: string;
  pattern: RegExp;
  params: string[];
  routeKey: string;
  jwt: boolean;
  /** The route's authorization scopes: a token must carry one of them (API Gateway answers 403 otherwise). */
  scopes: string[];
  fn: LocalFunction;
}

export interface JwtSettings {
  key: Parameters<typeof jwtVerify>[1];
  issuer: string;
  audience: string;
}

const contractError = (code: string, message: string) => JSON.stringify({ error: { code, message } });

/** API Gateway's payload limit for HTTP APIs: a larger request is answered 413 and never reaches a function. */
export const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

/**
 * The request's URL as API Gateway reads it: the request target is always a path, so `//console` is the path
 * `//console` (no route), not a URL with the host `console`.
 */
export function requestUrl(req: IncomingMessage): URL {
  const target = req.url ?? '/';
  try {
    return new URL(target.startsWith('/') ? `http://127.0.0.1${target}` : target);
  } catch {
    return new URL('http://127.0.0.1/\u0000invalid'); // matches no route
  }
}

/**
 * The HTTP API as API Gateway (payload format 2.0) serves it: routes, JWT authorizers and Lambda integrations
 * read from the synthesized template, the real handlers invoked with the event API Gateway would send.
 */
export class LocalHttpApi {
  readonly routes: Route[];

  /** The API's id, as the lambda permissions' source ARNs name it. */
  private readonly apiId: string;

  constructor(
    names: LocalNames,
    private readonly lambda: FunctionInvoker,
    private readonly jwt: JwtSettings,
  ) {
    const api = resourcesOfType(names.template, 'AWS::ApiGatewayV2::Api')[0];
    this.apiId = api ? names.physicalName(api[0]) : 'local';
    const integrations = new Map(
      resourcesOfType(names.template, 'AWS::ApiGatewayV2::Integration').map(([id, r]) => [
        id,
        r.Properties.IntegrationUri['Fn::GetAtt'][0] as string,
      ]),
    );
    this.routes = resourcesOfType(names.template, 'AWS::ApiGatewayV2::Route').map(([, r]) => {
      const routeKey: string = r.Properties.RouteKey;
      const [method, path] = routeKey.split(' ') as [string, string];
      const integrationId = r.Properties.Target['Fn::Join'][1][1].Ref as string;
      const fnId = integrations.get(integrationId)!;
      const fn = lambda.find(names.arn(fnId));
      if (!fn) throw new Error(`route ${routeKey}: no local function ${fnId}`);
      const params: string[] = [];
      const pattern = new RegExp(`^${path.replace(/\{(\w+)\}/g, (_, p: string) => (params.push(p), '([^/]+)'))}$`);
      return {
        method,
        pattern,
        params,
        routeKey,
        jwt: r.Properties.AuthorizationType === 'JWT',
        scopes: (r.Properties.AuthorizationScopes as string[] | undefined) ?? [],
        fn,
      };
    });
  }

  /** Answers the request if it matches an API route; returns false otherwise. */
  async handle(req: IncomingMessage, res: ServerResponse, body: string): Promise<boolean> {
    const url = requestUrl(req);
    const matches = this.routes
      .map((route) => ({ route, m: route.pattern.exec(url.pathname) }))
      .filter((x): x is { route: Route; m: RegExpExecArray } => x.m !== null);
    if (matches.length === 0) return false;
    const hit = matches.find((x) => x.route.method === req.method);
    if (!hit) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(contractError('not-found', `no route ${req.method} ${url.pathname}`));
      return true;
    }
    if (Buffer.byteLength(body) > MAX_PAYLOAD_BYTES) {
      res
        .writeHead(413, { 'content-type': 'application/json' })
        .end(contractError('payload-too-large', `the request body is larger than API Gateway's ${MAX_PAYLOAD_BYTES} bytes`));
      return true;
    }
    let claims: Record<string, unknown> | undefined;
    if (hit.route.jwt) {
      const header = req.headers.authorization ?? '';
      const token = /^Bearer\s+(.+)$/i.exec(header)?.[1];
      try {
        if (!token) throw new Error('no bearer token');
        const verified = await jwtVerify(token, this.jwt.key as any, { issuer: this.jwt.issuer, audience: this.jwt.audience });
        claims = verified.payload as Record<string, unknown>;
      } catch (error) {
        res
          .writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' })
          .end(
            contractError(
              'unauthenticated',
              `a valid bearer token is required (${(error as Error).message})${staleHint(error, this.jwt.key)}`,
            ),
          );
        return true;
      }
      // route authorization scopes, as API Gateway checks them: the token's `scope` (or `scp`) must hold one of them
      const granted = String(claims.scope ?? claims.scp ?? '')
        .split(/\s+/)
        .filter(Boolean);
      if (hit.route.scopes.length > 0 && !hit.route.scopes.some((s) => granted.includes(s))) {
        res
          .writeHead(403, { 'content-type': 'application/json' })
          .end(contractError('forbidden', `the token lacks the scope this route requires (${hit.route.scopes.join(' or ')})`));
        return true;
      }
    }
    // A malformed escape in the path never reaches a function (API Gateway refuses it too): 400, nothing changes.
    let pathParameters: Record<string, string> | undefined;
    try {
      pathParameters = hit.route.params.length
        ? Object.fromEntries(hit.route.params.map((p, i) => [p, decodeURIComponent(hit.m[i + 1]!)]))
        : undefined;
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          error: { code: 'invalid-request', message: 'the path has a malformed escape sequence', path: hit.route.params[0] ?? '' },
        }),
      );
      return true;
    }
    // payload format 2.0: repeated parameters joined with commas
    const query = new Map<string, string>();
    for (const [k, v] of url.searchParams) query.set(k, query.has(k) ? `${query.get(k)},${v}` : v);
    const now = new Date();
    const event = {
      version: '2.0',
      routeKey: hit.route.routeKey,
      rawPath: url.pathname,
      rawQueryString: url.search.replace(/^\?/, ''),
      headers: Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(',') : String(v)]),
      ),
      requestContext: {
        accountId: '000000000000',
        apiId: 'local',
        domainName: req.headers.host ?? '127.0.0.1',
        http: {
          method: req.method,
          path: url.pathname,
          protocol: 'HTTP/1.1',
          sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
          userAgent: req.headers['user-agent'] ?? '',
        },
        requestId: randomUUID(),
        routeKey: hit.route.routeKey,
        stage: '$default',
        time: now.toUTCString(),
        timeEpoch: now.getTime(),
        ...(claims ? { authorizer: { jwt: { claims, scopes: null } } } : {}),
      },
      pathParameters,
      ...(query.size ? { queryStringParameters: Object.fromEntries(query) } : {}),
      body: body === '' ? undefined : body,
      isBase64Encoded: false,
    };
    try {
      const [method, routePath] = hit.route.routeKey.split(' ');
      const sourceArn = `arn:aws:execute-api:${REGION}:${ACCOUNT}:${this.apiId}/$default/${method}${routePath}`;
      const result: any = await this.lambda.invoke(hit.route.fn, event, { kind: 'apigateway', sourceArn });
      res.writeHead(result?.statusCode ?? 200, result?.headers ?? { 'content-type': 'application/json' }).end(result?.body ?? '');
    } catch (error) {
      // Lambda refuses an event past its 6 MB quota before the function runs (the body is under API Gateway's 10 MB)
      if ((error as Error).name === 'RequestEntityTooLargeException')
        res
          .writeHead(413, { 'content-type': 'application/json' })
          .end(contractError('payload-too-large', `the request is larger than Lambda's ${INVOKE_PAYLOAD_LIMIT_BYTES} bytes`));
      else
        res
          .writeHead(500, { 'content-type': 'application/json' })
          .end(contractError('internal', `the function failed: ${(error as Error).message}`));
    }
    return true;
  }
}

/**
 * The embedded stack signs its tokens with a key made when it starts: a token kept from an earlier run fails its
 * signature check, which is said in words (the stack was restarted), with how to get a new token.
 */
function staleHint(error: unknown, key: unknown): string {
  const code = (error as { code?: string }).code;
  if (typeof key === 'function' || (code !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' && code !== 'ERR_JWKS_NO_MATCHING_KEY')) return '';
  return ': the token was issued by an earlier run of the stack (each start makes a new signing key); get a new one with `npm run token -- USER_ID`, or sign in again';
}
