import { beforeAll, describe, expect, it } from 'vitest';
import { accessDenied, IamEnforcer, iamEnforcedByDefault } from '../../local/iam/enforce.js';
import { LocalNames, localFunctions, synthesizeTemplate } from '../../local/template.js';

// The synthesized template's policies as the embedded stack enforces them (local/iam/policies.ts, enforce.ts).
let enforcer: IamEnforcer;
let names: LocalNames;
beforeAll(() => {
  names = new LocalNames(synthesizeTemplate(), 'offboard');
  enforcer = new IamEnforcer(names);
});

const table = 'arn:aws:dynamodb:us-east-1:000000000000:table/offboard-DataTableFDBAD0F2';
const fn = (prefix: string) => localFunctions(names).find((f) => f.logicalId.startsWith(prefix))!;

describe('IAM policies resolved from the template', () => {
  it('every function has a role whose policies are resolved to local names (no intrinsic function left)', () => {
    for (const f of localFunctions(names)) {
      const role = enforcer.policies.roles.get(enforcer.policies.functionRoles.get(f.logicalId)!);
      expect(role, f.logicalId).toBeDefined();
      expect(JSON.stringify(role!.policies)).not.toMatch(/"(Ref|Fn::\w+)"/);
    }
  });

  it('F1, D4, D5: the steps that hand files over, freeze chats and grant administrators may run PartiQL UPDATEs on the table, and only the table', async () => {
    for (const step of ['StepsApply', 'BillingRunStepsDeleteBatch']) {
      expect(await enforcer.checkRequest(fn(step), { action: 'dynamodb:PartiQLUpdate', resource: table })).toBeUndefined();
      expect(await enforcer.checkRequest(fn(step), { action: 'dynamodb:PartiQLUpdate', resource: `${table}/index/GSI1` })).toBeDefined();
    }
  });

  it('read-only functions may not write the table; steps that never delete files may not delete objects', async () => {
    expect(await enforcer.checkRequest(fn('ApiAudit'), { action: 'dynamodb:PutItem', resource: table })).toMatchObject({
      action: 'dynamodb:PutItem',
    });
    expect(await enforcer.checkRequest(fn('ApiOrganizations'), { action: 'dynamodb:UpdateItem', resource: table })).toBeDefined();
    const bucket = names.arn(
      Object.keys(names.template.Resources).find(
        (id) => id.startsWith('DataFiles') && names.template.Resources[id]!.Type === 'AWS::S3::Bucket',
      )!,
    );
    expect(
      await enforcer.checkRequest(fn('StepsPlanImpact'), { action: 's3:DeleteObject', resource: `${bucket}/chats/c/files/f` }),
    ).toBeDefined();
    expect(
      await enforcer.checkRequest(fn('StepsApply'), { action: 's3:DeleteObject', resource: `${bucket}/chats/c/files/f` }),
    ).toBeUndefined();
    expect(await enforcer.checkRequest(fn('StepsApply'), { action: 's3:DeleteObject', resource: `${bucket}/other/key` })).toBeDefined();
  });

  it('requests of one shape that arrive together share one simulation (a DeleteObjects of 1000 keys is one decision, not 1000)', async () => {
    const fresh = new IamEnforcer(names);
    const bucket = [...fresh.policies.resourcePolicies.keys()].find((k) => k.startsWith('arn:aws:s3:::offboard-datafiles'))!;
    const keys = Array.from({ length: 1000 }, (_, i) => `${bucket}/chats/c${i}/files/f${i}`);
    const denials = await Promise.all(
      keys.map((resource) => fresh.checkRequest(fn('StepsApply'), { action: 's3:DeleteObject', resource })),
    );
    expect(denials.filter(Boolean)).toEqual([]);
    expect(fresh.simulations).toBe(1);
  });

  it('the bucket policy refuses a request without TLS even where the role allows it (explicit deny)', async () => {
    const bucket = [...enforcer.policies.resourcePolicies.keys()].find((k) => k.startsWith('arn:aws:s3:::offboard-datafiles'))!;
    const f = fn('StepsApply');
    const role = enforcer.policies.roles.get(enforcer.policies.functionRoles.get(f.logicalId)!)!;
    const overHttp = await enforcer.decide(
      enforcer.sessionOf(f),
      role.policies,
      's3:DeleteObject',
      `${bucket}/chats/c/files/f`,
      { 'aws:SecureTransport': 'false' },
      enforcer.policies.resourcePolicies.get(bucket),
    );
    expect(overHttp).toEqual({ allowed: false, explicit: true });
  });

  it('EventBridge may invoke a billing target only from its own rule (the function’s permission)', async () => {
    const target = fn('BillingSeatsChanged');
    const ownRule = names.arn(
      Object.keys(names.template.Resources).find(
        (id) => id.startsWith('BillingSeatsChangedRule') && names.template.Resources[id]!.Type === 'AWS::Events::Rule',
      )!,
    );
    const otherRule = names.arn(
      Object.keys(names.template.Resources).find(
        (id) => id.startsWith('BillingPlanChangedRule') && names.template.Resources[id]!.Type === 'AWS::Events::Rule',
      )!,
    );
    expect(await enforcer.checkInvoke(target, { kind: 'events', ruleArn: ownRule })).toBeUndefined();
    expect(await enforcer.checkInvoke(target, { kind: 'events', ruleArn: otherRule })).toMatchObject({
      function: 'events.amazonaws.com',
      action: 'lambda:InvokeFunction',
      resource: target.arn,
    });
  });

  it('a refused request answers as AWS does: DynamoDB AccessDeniedException 400, S3 AccessDenied 403', () => {
    const d = { function: 'F', principal: 'p', action: 'dynamodb:PartiQLUpdate', resource: table, reason: 'User: p is not authorized' };
    expect(accessDenied('DynamoDB', d)).toMatchObject({
      name: 'AccessDeniedException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
      message: d.reason,
    });
    expect(accessDenied('S3', d)).toMatchObject({ name: 'AccessDenied', Code: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
  });

  it('OFFBOARD_IAM: on unless "off"; anything else is refused by name', () => {
    expect(iamEnforcedByDefault({})).toBe(true);
    expect(iamEnforcedByDefault({ OFFBOARD_IAM: 'off' })).toBe(false);
    expect(() => iamEnforcedByDefault({ OFFBOARD_IAM: 'no' })).toThrow(/OFFBOARD_IAM must be "enforce" or "off", not "no"/);
  });
});
