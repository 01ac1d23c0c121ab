import { describe, expect, it } from 'vitest';
import { apiBaseUrl } from '../../local/deployed-stack.js';
import { serviceOf } from '../../local/edge.js';

describe('the API URL of a deployed stack (LocalStack serves it elsewhere than ApiUrl reads)', () => {
  const apiUrl = 'https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/';
  it('on AWS (no AWS_ENDPOINT_URL): ApiUrl as it is, without the trailing slash', () => {
    expect(apiBaseUrl(apiUrl, undefined)).toBe('https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com');
  });
  it('behind LocalStack: /_aws/execute-api/{apiId} on the endpoint, whatever its host and port', () => {
    expect(apiBaseUrl(apiUrl, 'http://localhost.localstack.cloud:4566')).toBe(
      'http://localhost.localstack.cloud:4566/_aws/execute-api/a1b2c3d4e5',
    );
    expect(apiBaseUrl(apiUrl, 'http://127.0.0.1:32771/')).toBe('http://127.0.0.1:32771/_aws/execute-api/a1b2c3d4e5');
  });
  it('behind LocalStack, host style: {apiId}.execute-api.localhost.localstack.cloud on the endpoint port', () => {
    expect(apiBaseUrl(apiUrl, 'http://localhost:4566', 'host')).toBe('http://a1b2c3d4e5.execute-api.localhost.localstack.cloud:4566');
  });
  it('an ApiUrl that is already local is kept', () => {
    expect(apiBaseUrl('http://127.0.0.1:3000/', 'http://localhost:4566')).toBe('http://127.0.0.1:3000');
  });
});

describe('the edge routes a request by the service in its SigV4 scope, as LocalStack does', () => {
  const signed = (service: string) => ({
    authorization: `AWS4-HMAC-SHA256 Credential=test/20261122/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=00`,
  });
  it.each(['dynamodb', 's3', 'sqs', 'states', 'lambda', 'events', 'cloudformation'])('%s', (service) => {
    expect(serviceOf(signed(service), '/')).toBe(service);
  });
  it('a presigned S3 URL names its service in the query', () => {
    expect(serviceOf({}, '/bucket/key?X-Amz-Credential=test%2F20261122%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=00')).toBe('s3');
  });
  it('an unsigned JSON request is routed by its X-Amz-Target', () => {
    expect(serviceOf({ 'x-amz-target': 'DynamoDB_20120810.Query' }, '/')).toBe('dynamodb');
    expect(serviceOf({ 'x-amz-target': 'AWSEvents.PutEvents' }, '/')).toBe('events');
    expect(serviceOf({}, '/')).toBeUndefined();
  });
});
