import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/constructs/offboard-function.js';
import { contextFor, IMAGES, LOCALSTACK_ENV, setupFor } from '../../local/localstack/deploy.js';
import { cdklocalEnvironment, isLocalEndpoint } from '../../local/localstack/guard.js';

describe('cdklocal runs only against LocalStack, with its test credentials', () => {
  it('by default: LocalStack’s endpoint and S3 endpoint, test credentials, the region, the AWS_* allow-list cdklocal v3 needs', () => {
    const out = cdklocalEnvironment({ PATH: '/usr/bin' });
    expect(out).toEqual({
      env: expect.objectContaining({
        AWS_ENDPOINT_URL: 'http://localhost.localstack.cloud:4566',
        AWS_ENDPOINT_URL_S3: 'http://s3.localhost.localstack.cloud:4566',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_REGION: 'us-east-1',
        AWS_ENVAR_ALLOWLIST: 'AWS_REGION,AWS_DEFAULT_REGION,AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY',
        PATH: '/usr/bin',
      }),
    });
  });
  it('the S3 endpoint follows the port of the endpoint given', () => {
    const out = cdklocalEnvironment({ AWS_ENDPOINT_URL: 'http://localhost.localstack.cloud:4599', AWS_REGION: 'eu-central-1' });
    expect(out).toMatchObject({
      env: {
        AWS_ENDPOINT_URL_S3: 'http://s3.localhost.localstack.cloud:4599',
        AWS_REGION: 'eu-central-1',
        AWS_DEFAULT_REGION: 'eu-central-1',
      },
    });
  });
  it.each([
    [
      { AWS_ENDPOINT_URL: 'https://cloudformation.us-east-1.amazonaws.com' },
      /AWS_ENDPOINT_URL=https:\/\/cloudformation.* is not a local endpoint/,
    ],
    [{ AWS_ENDPOINT_URL_S3: 'https://s3.amazonaws.com' }, /AWS_ENDPOINT_URL_S3=.* is not a local endpoint/],
    [{ AWS_PROFILE: 'prod' }, /AWS_PROFILE is set/],
    [{ AWS_SESSION_TOKEN: 'x', AWS_ROLE_ARN: 'arn:aws:iam::1:role/r' }, /AWS_SESSION_TOKEN, AWS_ROLE_ARN are set/],
    [{ AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE' }, /AWS_ACCESS_KEY_ID is set and is not LocalStack's "test"/],
    [{ AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI' }, /AWS_SECRET_ACCESS_KEY is set and is not/],
  ])('refuses %j, in one line naming why', (env, reason) => {
    const out = cdklocalEnvironment(env);
    expect(out).toEqual({ refused: expect.stringMatching(reason) });
    expect((out as { refused: string }).refused).not.toContain('\n');
  });
  it('local endpoints are this machine or a container it runs', () => {
    for (const local of [
      'http://localhost:4566',
      'http://127.0.0.1:4566',
      'http://localhost.localstack.cloud:4566',
      'http://s3.localhost.localstack.cloud:4566',
      'http://host.docker.internal:4566',
    ])
      expect(isLocalEndpoint(local), local).toBe(true);
    for (const remote of ['https://sts.amazonaws.com', 'http://localhost.evil.example', 'not a url', 'http://10.0.0.5:4566'])
      expect(isLocalEndpoint(remote), remote).toBe(false);
  });
});

describe('the two LocalStack setups', () => {
  it('full with an auth token, core without; asked explicitly, either; anything else refused', () => {
    expect(setupFor({ LOCALSTACK_AUTH_TOKEN: 'ls-x' })).toBe('full');
    expect(setupFor({})).toBe('core');
    expect(setupFor({ LOCALSTACK_AUTH_TOKEN: 'ls-x' }, 'core')).toBe('core');
    expect(setupFor({ OFFBOARD_LOCALSTACK_SETUP: 'full' })).toBe('full');
    expect(setupFor({}, 'pro')).toEqual({ refused: expect.stringContaining('unknown LocalStack setup "pro"') });
  });
  it('core deploys with -c offboard:api=none; full with the issuer given, or the Cognito pool as LocalStack issues its tokens', () => {
    expect(contextFor('core')).toEqual(['-c', 'offboard:retainData=false', '-c', 'offboard:api=none']);
    expect(contextFor('full', { issuer: 'http://host.testcontainers.internal:4000', audience: 'offboard-localstack' })).toEqual([
      '-c',
      'offboard:retainData=false',
      '-c',
      'offboard:jwtIssuer=http://host.testcontainers.internal:4000',
      '-c',
      'offboard:jwtAudience=offboard-localstack',
    ]);
    expect(contextFor('full')).toEqual(['-c', 'offboard:retainData=false', '-c', 'offboard:cognitoIssuerBase=http://localhost:4566']);
    expect(contextFor('full', undefined, 'http://localhost.localstack.cloud:4566')).toContain(
      'offboard:cognitoIssuerBase=http://localhost.localstack.cloud:4566',
    );
  });
  it('images are pinned (never latest), placeholders for unsupported resources are off, arm64 functions run on x86', () => {
    for (const image of Object.values(IMAGES)) expect(image).toMatch(/^localstack\/localstack:\d+\.\d+\.\d+$/);
    expect(IMAGES.core).toBe('localstack/localstack:4.14.0');
    expect(LOCALSTACK_ENV).toEqual({ CFN_IGNORE_UNSUPPORTED_RESOURCE_TYPES: '0', LAMBDA_IGNORE_ARCHITECTURE: '1' });
  });
});

describe('npm run test:localstack never passes without having run', () => {
  const run = async (args: string[], env: NodeJS.ProcessEnv) => {
    const started = Date.now();
    try {
      await promisify(execFile)(process.execPath, ['--import', './local/preload.mjs', 'local/cli/test-localstack.ts', ...args], {
        cwd: REPO_ROOT,
        env,
      });
      return { code: 0, stderr: '', ms: Date.now() - started };
    } catch (error: any) {
      return { code: error.code as number, stderr: error.stderr as string, ms: Date.now() - started };
    }
  };
  const { DOCKER_HOST, LOCALSTACK_AUTH_TOKEN, OFFBOARD_LOCALSTACK_SETUP, ...rest } = process.env;

  it('the full setup without LOCALSTACK_AUTH_TOKEN: one line saying so, exit 1, before anything starts', async () => {
    const out = await run(['--setup', 'full'], rest);
    expect(out.code).toBe(1);
    expect(out.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^test:localstack: the full setup needs LOCALSTACK_AUTH_TOKEN/)]);
  });

  // where a Docker engine is installed the command would start LocalStack: this case is for machines without one (ours, CI)
  it.skipIf(existsSync('/var/run/docker.sock'))('without Docker: one line saying so, exit 1, in seconds', async () => {
    const out = await run(['--setup', 'core'], { ...rest, HOME: mkdtempSync(path.join(tmpdir(), 'no-docker-')) });
    expect(out.code).toBe(1);
    expect(out.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^test:localstack: no Docker: /)]);
    expect(out.ms).toBeLessThan(15_000);
  });
});

describe('the free-tier bootstrap template (LocalStack without a token has no ECR)', () => {
  it('CDK’s own bootstrap template minus the ECR repository, its policy statement and its output; file assets intact', async () => {
    const { cdkBootstrapTemplate, withoutContainerAssets } = await import('../../local/localstack/bootstrap-template.js');
    const original = await cdkBootstrapTemplate();
    const ecr = Object.keys(original.Resources).filter((id) => original.Resources[id].Type === 'AWS::ECR::Repository');
    expect(ecr.length).toBeGreaterThan(0); // the CLI's template still has one: the transformation is needed
    const trimmed = withoutContainerAssets(original);
    const text = JSON.stringify(trimmed);
    expect(Object.values(trimmed.Resources).map((r: any) => r.Type)).not.toContain('AWS::ECR::Repository');
    for (const id of ecr) expect(text).not.toMatch(new RegExp(`\\$\\{${id}[.}]|"Ref":"${id}"|"Fn::GetAtt":\\["${id}"`));
    expect(text).not.toContain('ecr:PutImage'); // the image-publishing statement on the repository is gone
    expect(Object.keys(trimmed.Resources).length).toBe(Object.keys(original.Resources).length - ecr.length);
    for (const kept of [
      'StagingBucket',
      'FilePublishingRole',
      'DeploymentActionRole',
      'CloudFormationExecutionRole',
      'CdkBootstrapVersion',
    ])
      expect(trimmed.Resources, kept).toHaveProperty(kept);
    expect(Object.keys(trimmed.Outputs!)).toEqual(expect.arrayContaining(['BucketName', 'BootstrapVersion']));
    expect(Object.keys(trimmed.Outputs!)).not.toContain('ImageRepositoryName');
    // ecr:GetAuthorizationToken names no repository and stays
    expect(text).toContain('ecr:GetAuthorizationToken');
  }, 60_000);

  it('a template that still names the repository elsewhere is an error, not a silent leftover', async () => {
    const { withoutContainerAssets } = await import('../../local/localstack/bootstrap-template.js');
    const bad = {
      Resources: {
        Repo: { Type: 'AWS::ECR::Repository' },
        Fn: { Type: 'AWS::Lambda::Function', Properties: { Environment: { Variables: { REPO: { Ref: 'Repo' } } } } },
      },
    };
    expect(() => withoutContainerAssets(bad)).toThrow(/still names its ECR repository in Fn/);
  });
});
