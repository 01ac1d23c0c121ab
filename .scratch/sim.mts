import { runSimulation } from '@cloud-copilot/iam-simulate';
const identity = { name: 'p', policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['dynamodb:UpdateItem'], Resource: ['arn:aws:dynamodb:us-east-1:000000000000:table/t', 'arn:aws:dynamodb:us-east-1:000000000000:table/t/index/*'] },
  { Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::b', Condition: { StringLike: { 's3:prefix': ['chats/*'] } } }] } };
const bucketPolicy = { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: { AWS: '*' }, Action: 's3:*', Resource: ['arn:aws:s3:::b', 'arn:aws:s3:::b/*'], Condition: { Bool: { 'aws:SecureTransport': 'false' } } }] };
const go = async (action: string, resource: string, ctx: any = {}, resourcePolicy?: any, principal = 'arn:aws:sts::000000000000:assumed-role/r/f', ids = [identity]) => {
  const t = performance.now();
  const r: any = await runSimulation({ request: { principal, action, resource: { resource, accountId: '000000000000' }, contextVariables: ctx }, identityPolicies: ids, serviceControlPolicies: [], resourceControlPolicies: [], resourcePolicy } as any, {});
  console.log(action, resource, r.resultType, r.overallResult, r.errors?.message ?? '', (performance.now() - t).toFixed(1), 'ms');
  return r;
};
await go('dynamodb:UpdateItem', 'arn:aws:dynamodb:us-east-1:000000000000:table/t');
await go('dynamodb:PartiQLUpdate', 'arn:aws:dynamodb:us-east-1:000000000000:table/t');
await go('dynamodb:Query', 'arn:aws:dynamodb:us-east-1:000000000000:table/t/index/GSI1');
await go('s3:ListBucket', 'arn:aws:s3:::b', { 's3:prefix': 'chats/x/', 'aws:SecureTransport': 'true' }, bucketPolicy);
await go('s3:ListBucket', 'arn:aws:s3:::b', { 's3:prefix': 'files/', 'aws:SecureTransport': 'true' }, bucketPolicy);
await go('s3:ListBucket', 'arn:aws:s3:::b', { 's3:prefix': 'chats/x/', 'aws:SecureTransport': 'false' }, bucketPolicy);
const perm = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'lambda:InvokeFunction', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:fn', Condition: { ArnLike: { 'AWS:SourceArn': 'arn:aws:events:us-east-1:000000000000:rule/bus/r1' } } }] };
await go('lambda:InvokeFunction', 'arn:aws:lambda:us-east-1:000000000000:function:fn', { 'aws:SourceArn': 'arn:aws:events:us-east-1:000000000000:rule/bus/r1' }, perm, 'events.amazonaws.com', []);
const r = await go('lambda:InvokeFunction', 'arn:aws:lambda:us-east-1:000000000000:function:fn', { 'aws:SourceArn': 'arn:aws:events:us-east-1:000000000000:rule/bus/r2' }, perm, 'events.amazonaws.com', []);
for (let i = 0; i < 3; i++) await go('dynamodb:UpdateItem', 'arn:aws:dynamodb:us-east-1:000000000000:table/t');
const t=performance.now(); for (let i = 0; i < 200; i++) await runSimulation({ request: { principal:'arn:aws:sts::000000000000:assumed-role/r/f', action:'s3:DeleteObject', resource: { resource:'arn:aws:s3:::b/chats/'+i, accountId: '000000000000' }, contextVariables: {} }, identityPolicies: [identity], serviceControlPolicies: [], resourceControlPolicies: [], resourcePolicy: bucketPolicy } as any, {}); console.log('200 sims', (performance.now()-t).toFixed(0));
