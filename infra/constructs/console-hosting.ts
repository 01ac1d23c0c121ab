import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Annotations, CfnOutput, Duration, Fn, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { accessLogBucket, privateBucketProps } from './buckets.js';
import { REPO_ROOT } from './offboard-function.js';

/** How the console signs people in (OpenID Connect, authorization code with PKCE): what `config.json` tells the app. */
export interface ConsoleSignIn {
  /** The issuer: its `/.well-known/openid-configuration` names the authorization and token endpoints. */
  authority: string;
  clientId: string;
  scope: string;
  /** Which token the app sends to the API (Cognito's access token carries `client_id`, which the authorizer checks). */
  tokenType?: 'access' | 'id';
  /** Origins the app talks to besides the API while signing in (token endpoint, keys), for the CSP's connect-src. */
  connectOrigins: string[];
}

export interface ConsoleHostingProps {
  /** The HTTP API's base URL, an origin (`https://…execute-api…amazonaws.com`). */
  apiUrl: string;
  /** Sign-in settings; `redirectUri` is the console's own URL. */
  signIn: ConsoleSignIn;
  /** The built app (default `console/dist`, written by `npm run build:console`). */
  appDirectory?: string;
  retain?: boolean;
}

export const DEFAULT_APP_DIRECTORY = path.join(REPO_ROOT, 'console', 'dist');

/**
 * The admin console: its static files in a private bucket, served only through CloudFront (origin access control),
 * with security headers, `index.html` for every app path, and a generated `config.json` (the API's URL and the sign-in
 * settings). Synthesis without the built app is an error that names the command to run.
 */
export class ConsoleHosting extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  /** `https://…cloudfront.net`, no trailing slash: the sign-in redirect and the API's allowed origin. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: ConsoleHostingProps) {
    super(scope, id);
    const removalPolicy = props.retain === false ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    // the app bucket's access logs and CloudFront's standard logs
    const logs = accessLogBucket(this, 'AccessLogs', removalPolicy);
    // the app is rebuilt from the repository: nothing here is anyone's data
    this.bucket = new s3.Bucket(this, 'App', privateBucketProps(logs, 'app/', RemovalPolicy.DESTROY));

    // the API's endpoint is an origin (`https://id.execute-api.region.amazonaws.com`, the default stage has no path)
    const connectSrc = ["'self'", props.apiUrl, ...props.signIn.connectOrigins].join(' ');
    const headers = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'offboard console: security headers',
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: Fn.join('; ', [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            Fn.join(' ', ['connect-src', connectSrc]),
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
          ]),
          override: true,
        },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, preload: false, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override: true },
      },
    });

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'offboard admin console',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: headers,
      },
      // the app routes in the browser: any path it owns answers index.html (S3 says 403 for a key it does not have)
      errorResponses: [403, 404].map((httpStatus) => ({
        httpStatus,
        responseHttpStatus: 200,
        responsePagePath: '/index.html',
        ttl: Duration.seconds(0),
      })),
      minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      enableLogging: true,
      logBucket: logs,
      logFilePrefix: 'cloudfront/',
    });
    this.url = `https://${this.distribution.distributionDomainName}`;

    const appDirectory = props.appDirectory ?? DEFAULT_APP_DIRECTORY;
    const built = existsSync(path.join(appDirectory, 'index.html'));
    if (!built) {
      // `cdk synth` and `cdk deploy` stop here with this message; the template alone (tests) still synthesizes
      Annotations.of(this).addError(
        `the admin console is not built (${path.relative(REPO_ROOT, appDirectory) || appDirectory}/index.html is missing): run \`npm run build:console\` first`,
      );
    }
    const config = {
      apiUrl: props.apiUrl,
      auth: {
        mode: 'oidc',
        authority: props.signIn.authority,
        clientId: props.signIn.clientId,
        redirectUri: `${this.url}/`,
        scope: props.signIn.scope,
        ...(props.signIn.tokenType ? { tokenType: props.signIn.tokenType } : {}),
      },
    };
    new s3deploy.BucketDeployment(this, 'Deploy', {
      destinationBucket: this.bucket,
      sources: [...(built ? [s3deploy.Source.asset(appDirectory)] : []), s3deploy.Source.jsonData('config.json', config)],
      distribution: this.distribution,
      distributionPaths: ['/*'],
      memoryLimit: 512,
    });

    new CfnOutput(scope, 'ConsoleUrl', { value: `${this.url}/`, description: 'The admin console' });
  }
}
