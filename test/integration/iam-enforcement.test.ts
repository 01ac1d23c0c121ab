import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { EmbeddedStack } from '../../local/embedded-stack.js';
import type { Template } from '../../local/template.js';
import { demoWorld } from './harness.js';

/**
 * The embedded stack enforces the synthesized policies (local/iam/enforce.ts): take one grant away from the template
 * and the request AWS would then refuse fails as AWS answers it, and the stack names the function, action and resource.
 */
let stack: EmbeddedStack;
beforeAll(async () => {
  const { startEmbeddedStack } = await import('../../local/embedded-stack.js');
  stack = await startEmbeddedStack({
    dynamodbEndpoint: inject('dynamodbEndpoint'),
    s3Endpoint: inject('s3Endpoint'),
    prefix: `i${Math.random().toString(36).slice(2, 8)}`,
    iam: true,
  });
});
afterAll(async () => stack?.stop());

/** Runs `body` on a fresh demo world with the template changed by `edit`, then puts the template back. */
async function withTemplate(edit: (t: Template) => void, body: (s: EmbeddedStack) => Promise<void>): Promise<void> {
  const original = structuredClone(stack.template.Resources);
  await stack.stepFunctions.idle();
  const res = await fetch(`${stack.url}/_local/world`, { method: 'PUT', body: JSON.stringify(demoWorld()) });
  expect(res.status).toBe(200);
  edit(stack.template);
  stack.iam!.reload();
  stack.iam!.denials.length = 0;
  try {
    await body(stack);
  } finally {
    await stack.stepFunctions.idle();
    stack.template.Resources = original;
    stack.iam!.reload();
  }
}

/** Removes `action` from every statement of the policies attached to the role of the function whose id starts with `fn`. */
function withoutGrant(fn: string, action: string) {
  return (t: Template) => {
    const [, f] = Object.entries(t.Resources).find(([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith(fn))!;
    const role = f.Properties.Role['Fn::GetAtt'][0];
    let removed = 0;
    for (const r of Object.values(t.Resources)) {
      if (r.Type !== 'AWS::IAM::Policy' || !r.Properties.Roles.some((x: any) => x.Ref === role)) continue;
      for (const s of r.Properties.PolicyDocument.Statement) {
        const actions = [s.Action].flat();
        if (actions.includes(action)) removed++;
        s.Action = actions.filter((a: string) => a !== action);
      }
      r.Properties.PolicyDocument.Statement = r.Properties.PolicyDocument.Statement.filter((s: any) => s.Action.length > 0);
    }
    if (removed === 0) throw new Error(`${fn} has no grant of ${action} to remove`);
  };
}

async function call(s: EmbeddedStack, method: string, route: string, as: string, body?: unknown) {
  const res = await fetch(`${s.url}${route}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await s.token(as)}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json().catch(() => undefined)) as any };
}

async function deleteAndSettle(s: EmbeddedStack, userId: string) {
  const created = await call(s, 'POST', '/deletions', 'adminA', { userId });
  expect(created.status).toBe(202);
  await s.stepFunctions.idle();
  return (await call(s, 'GET', `/deletions/${created.body.id}`, 'adminA')).body;
}

describe.skipIf(process.env.OFFBOARD_TARGET === 'stack')('IAM and resource policies enforced on the embedded stack', () => {
  it('without dynamodb:PartiQLUpdate on Apply a deletion fails with AccessDenied, naming function, action and resource', async () => {
    await withTemplate(withoutGrant('StepsApply', 'dynamodb:PartiQLUpdate'), async (s) => {
      const final = await deleteAndSettle(s, 'a2');
      expect(final.status).toBe('failed');
      const table = `arn:aws:dynamodb:us-east-1:000000000000:table/${s.names.prefix}-DataTableFDBAD0F2`;
      const denial = s.iam!.denials.find((d) => d.function.startsWith('StepsApply'));
      expect(denial).toMatchObject({ action: 'dynamodb:PartiQLUpdate', resource: table });
      const role = Object.keys(s.names.template.Resources).find((id) => /^StepsApplyServiceRole[0-9A-F]{8}$/.test(id));
      expect(denial!.reason).toBe(
        `User: arn:aws:sts::000000000000:assumed-role/${s.names.prefix}-${role}/${s.names.prefix}-${denial!.function} is not authorized to perform: dynamodb:PartiQLUpdate on resource: ${table} because no identity-based policy allows the dynamodb:PartiQLUpdate action`,
      );
      // the statement answered AccessDenied, and the store's own error path reported it (functions/store/batch.ts)
      expect(JSON.stringify(final.error ?? final)).toContain('AccessDenied');
    });
  });

  it('without s3:DeleteObject on Apply the files stay and the deletion fails naming the key AWS refused', async () => {
    await withTemplate(withoutGrant('StepsApply', 's3:DeleteObject'), async (s) => {
      const final = await deleteAndSettle(s, 'a2');
      expect(final.status).toBe('failed');
      const denial = s.iam!.denials.find((d) => d.action === 's3:DeleteObject');
      expect(denial?.function).toMatch(/^StepsApply/);
      expect(denial?.resource).toMatch(new RegExp(`^arn:aws:s3:::${s.names.prefix}-datafiles[a-z0-9-]*/chats/`));
      expect(JSON.stringify(final.error ?? final)).toContain('AccessDenied');
    });
  });

  it('without its lambda permission API Gateway may not invoke the function: 500, and the route named', async () => {
    await withTemplate(
      (t) => {
        for (const [id, r] of Object.entries(t.Resources))
          if (r.Type === 'AWS::Lambda::Permission' && id.startsWith('ApiHttpGETme')) delete t.Resources[id];
      },
      async (s) => {
        const me = await call(s, 'GET', '/me', 'adminA');
        expect(me.status).toBe(500);
        expect(s.iam!.denials).toEqual([
          expect.objectContaining({
            function: 'apigateway.amazonaws.com',
            action: 'lambda:InvokeFunction',
            resource: expect.stringMatching(/:function:.*ApiOrganizations/),
          }),
        ]);
      },
    );
  });

  it('docs/EVENTS.md: without its lambda permission the scheduled rule may not invoke the outbox sweeper; with it, the sweep runs with no denial', async () => {
    const sweep = async (s: EmbeddedStack) => {
      const res = await fetch(`${s.url}/_local/schedules`, {
        method: 'POST',
        body: JSON.stringify({ rule: 'OperationEventsOutboxSweep' }),
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { deliveries: any[] }).deliveries;
    };
    await withTemplate(
      (t) => {
        let removed = 0;
        for (const [id, r] of Object.entries(t.Resources))
          if (r.Type === 'AWS::Lambda::Permission' && id.startsWith('OperationEventsOutboxSweep'))
            removed += Number(delete t.Resources[id]);
        expect(removed).toBe(1);
      },
      async (s) => {
        expect(await sweep(s)).toEqual([
          expect.objectContaining({ outcome: 'dead-lettered', error: expect.objectContaining({ errorType: 'AccessDeniedException' }) }),
        ]);
        expect(s.iam!.denials).toEqual([
          expect.objectContaining({
            function: 'events.amazonaws.com',
            action: 'lambda:InvokeFunction',
            resource: expect.stringMatching(/:function:.*OperationEventsOutboxSweeper/),
          }),
        ]);
      },
    );
    await withTemplate(
      () => undefined,
      async (s) => {
        expect(await sweep(s)).toEqual([
          expect.objectContaining({ outcome: 'delivered', result: { due: 0, claimed: 0, delivered: 0, left: 0 } }),
        ]);
        expect(s.iam!.denials).toEqual([]);
      },
    );
  });

  it('without lambda:InvokeFunction in the deletion state machine’s role its first step cannot run', async () => {
    await withTemplate(
      (t) => {
        const role = t.Resources.DeletionWorkflowStateMachine7B8E2EDC!.Properties.RoleArn['Fn::GetAtt'][0];
        for (const r of Object.values(t.Resources)) {
          if (r.Type !== 'AWS::IAM::Policy' || !r.Properties.Roles.some((x: any) => x.Ref === role)) continue;
          r.Properties.PolicyDocument.Statement = r.Properties.PolicyDocument.Statement.filter(
            (st: any) => st.Action !== 'lambda:InvokeFunction',
          );
        }
      },
      async (s) => {
        const final = await deleteAndSettle(s, 'a2');
        expect(final.status).not.toBe('succeeded');
        expect(s.iam!.denials[0]).toMatchObject({ function: 'DeletionWorkflowStateMachineRoleB50ED5D9', action: 'lambda:InvokeFunction' });
      },
    );
  });

  it('the synthesized template as it is: the same deletion runs with no denial', async () => {
    await withTemplate(
      () => undefined,
      async (s) => {
        const final = await deleteAndSettle(s, 'a2');
        expect(final.status).toBe('succeeded');
        expect(s.iam!.denials).toEqual([]);
      },
    );
  });
});
