import { App } from 'aws-cdk-lib';
import { OffboardStack } from './offboard-stack.js';

const app = new App();
const ctx = (key: string): string | undefined => app.node.tryGetContext(`offboard:${key}`) ?? undefined;
const api = ctx('api') ?? 'http';
if (api !== 'http' && api !== 'none') throw new Error(`-c offboard:api=${api}: expected http (the default) or none`);
const threshold = ctx('confirmationThreshold');
if (threshold !== undefined && !/^\d+$/.test(String(threshold)))
  throw new Error(`-c offboard:confirmationThreshold=${threshold}: expected a whole number of members`);
const publishers = app.node.tryGetContext('offboard:billingPublishers') as string | string[] | undefined;
const reserved = String(ctx('reservedConcurrency') ?? 'true');
if (reserved !== 'true' && reserved !== 'false')
  throw new Error(`-c offboard:reservedConcurrency=${reserved}: expected true (the default) or false`);
new OffboardStack(app, ctx('stackName') ?? 'Offboard', {
  jwtIssuer: ctx('jwtIssuer'),
  jwtAudience: ctx('jwtAudience')?.split(','),
  userIdClaim: ctx('userIdClaim'),
  cognitoIssuerBase: ctx('cognitoIssuerBase'),
  retainData: ctx('retainData') !== 'false',
  api,
  oidcClientId: ctx('oidcClientId'),
  oidcScope: ctx('oidcScope'),
  signInDomainPrefix: ctx('signInDomainPrefix'),
  confirmationThreshold: threshold === undefined ? undefined : Number(threshold),
  billingPublishers: publishers === undefined ? undefined : Array.isArray(publishers) ? publishers : String(publishers).split(','),
  operatorScope: ctx('operatorScope'),
  reservedConcurrency: reserved === 'true',
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
