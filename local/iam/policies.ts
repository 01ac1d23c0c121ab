import { ACCOUNT, REGION, resourcesOfType, type LocalNames } from '../template.js';

export interface PolicyDocument {
  Version?: string;
  Statement: any[];
}

/** A role as the template defines it, its policies resolved to the embedded stack's names. */
export interface RolePolicies {
  roleLogicalId: string;
  roleName: string;
  policies: { name: string; policy: PolicyDocument }[];
}

/** The AWS managed policies the template attaches, as AWS publishes them. */
const MANAGED: Record<string, PolicyDocument> = {
  'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole': {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], Resource: '*' }],
  },
};

/** Everything the embedded stack checks requests against, from the synthesized template. */
export interface StackPolicies {
  /** Roles by the role's logical id. */
  roles: Map<string, RolePolicies>;
  /** A function's role, by the function's logical id. */
  functionRoles: Map<string, string>;
  /** A state machine's role, by the state machine's ARN. */
  stateMachineRoles: Map<string, string>;
  /** Resource-based policies by the ARN of what they protect: bucket policies, queue policies, Lambda permissions. */
  resourcePolicies: Map<string, PolicyDocument>;
}

const roleRef = (value: any): string | undefined => value?.['Fn::GetAtt']?.[0] ?? value?.Ref;

export function stackPolicies(names: LocalNames): StackPolicies {
  const t = names.template;
  const roles = new Map<string, RolePolicies>();
  for (const [id, r] of resourcesOfType(t, 'AWS::IAM::Role')) {
    const managed = (r.Properties?.ManagedPolicyArns ?? []).map((a: any) => String(names.resolve(a)));
    roles.set(id, {
      roleLogicalId: id,
      roleName: names.physicalName(id),
      policies: [
        ...managed.map((arn: string) => {
          const policy = MANAGED[arn];
          if (!policy) throw new Error(`role ${id}: managed policy ${arn} is not in local/iam/policies.ts`);
          return { name: arn.split('/').pop()!, policy };
        }),
        ...(r.Properties?.Policies ?? []).map((p: any) => ({ name: p.PolicyName, policy: names.resolve(p.PolicyDocument) })),
      ],
    });
  }
  for (const [id, r] of resourcesOfType(t, 'AWS::IAM::Policy')) {
    for (const ref of r.Properties.Roles ?? []) {
      const role = roles.get(ref.Ref);
      if (!role) throw new Error(`policy ${id}: no role ${JSON.stringify(ref)} in the template`);
      role.policies.push({ name: id, policy: names.resolve(r.Properties.PolicyDocument) });
    }
  }
  const functionRoles = new Map<string, string>();
  for (const [id, r] of resourcesOfType(t, 'AWS::Lambda::Function')) {
    const role = roleRef(r.Properties?.Role);
    if (role) functionRoles.set(id, role);
  }
  const stateMachineRoles = new Map<string, string>();
  for (const [id, r] of resourcesOfType(t, 'AWS::StepFunctions::StateMachine')) {
    const role = roleRef(r.Properties?.RoleArn);
    if (role) stateMachineRoles.set(names.arn(id), role);
  }

  const resourcePolicies = new Map<string, PolicyDocument>();
  const add = (arn: string, statements: any[]) => {
    const doc = resourcePolicies.get(arn) ?? { Version: '2012-10-17', Statement: [] };
    doc.Statement.push(...statements);
    resourcePolicies.set(arn, doc);
  };
  for (const [, r] of resourcesOfType(t, 'AWS::S3::BucketPolicy'))
    add(`arn:aws:s3:::${names.resolve(r.Properties.Bucket)}`, names.resolve(r.Properties.PolicyDocument).Statement);
  for (const [, r] of resourcesOfType(t, 'AWS::SQS::QueuePolicy')) {
    for (const q of r.Properties.Queues ?? []) add(names.arn(q.Ref), names.resolve(r.Properties.PolicyDocument).Statement);
  }
  // lambda:AddPermission statements, as Lambda writes them into the function's policy
  for (const [id, r] of resourcesOfType(t, 'AWS::Lambda::Permission')) {
    const p = names.resolve(r.Properties);
    const fn = String(p.FunctionName).startsWith('arn:')
      ? String(p.FunctionName)
      : `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${p.FunctionName}`;
    const principal = String(p.Principal).endsWith('.amazonaws.com') ? { Service: p.Principal } : { AWS: p.Principal };
    const condition: Record<string, Record<string, string>> = {};
    if (p.SourceArn) condition.ArnLike = { 'AWS:SourceArn': p.SourceArn };
    if (p.SourceAccount) condition.StringEquals = { 'AWS:SourceAccount': p.SourceAccount };
    add(fn, [
      {
        Sid: id,
        Effect: 'Allow',
        Principal: principal,
        Action: p.Action,
        Resource: fn,
        ...(Object.keys(condition).length ? { Condition: condition } : {}),
      },
    ]);
  }
  return { roles, functionRoles, stateMachineRoles, resourcePolicies };
}

/** The actions a role's policies allow (as written: a wildcard action stays a wildcard). */
export function grantedActions(role: RolePolicies): string[] {
  const out = new Set<string>();
  for (const { policy } of role.policies) {
    for (const s of policy.Statement) if (s.Effect === 'Allow') for (const a of [s.Action ?? []].flat()) out.add(String(a));
  }
  return [...out].sort();
}
