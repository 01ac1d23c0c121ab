import aslValidator from 'asl-validator';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Template } from 'aws-cdk-lib/assertions';
import { synthesize } from './template.js';

/**
 * Every synthesized state machine definition is valid Amazon States Language (asl-validator, issue 17): states and
 * their fields, JSONPaths, Retry and Catch, and every Next naming a state that exists. Tokens are resolved as
 * CloudFormation would: each function's ARN, the partition, region and account.
 */
const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'eu-west-1',
  'AWS::AccountId': '123456789012',
  'AWS::URLSuffix': 'amazonaws.com',
};

function resolve(part: any): string {
  if (typeof part === 'string') return part;
  if (part.Ref && PSEUDO[part.Ref]) return PSEUDO[part.Ref]!;
  if (part['Fn::GetAtt']?.[1] === 'Arn') return `arn:aws:lambda:eu-west-1:123456789012:function:${part['Fn::GetAtt'][0]}`;
  throw new Error(`a token the test does not resolve: ${JSON.stringify(part)}`);
}

let definitions: [string, any][];
let template: Template;
beforeAll(() => {
  template = synthesize();
  definitions = Object.entries<any>(template.findResources('AWS::StepFunctions::StateMachine')).map(([id, r]) => {
    const [separator, parts] = r.Properties.DefinitionString['Fn::Join'];
    return [id, JSON.parse((parts as any[]).map(resolve).join(separator))];
  });
});

describe('state machine definitions (asl-validator)', () => {
  it('each of the four definitions passes asl-validator', () => {
    expect(definitions.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
      'BillingCancellationStateMachine',
      'DeletionWorkflowStateMachine',
      'PlanningWorkflowStateMachine',
      'TransferWorkflowStateMachine',
    ]);
    for (const [id, definition] of definitions) {
      const { isValid, errorsText } = aslValidator(definition);
      expect(isValid ? '' : errorsText('\n'), id).toBe('');
    }
  });

  it('the validator refuses a definition whose Catch leads to a state that does not exist', () => {
    const [, transfer] = definitions.find(([id]) => id.startsWith('TransferWorkflow'))!;
    const broken = structuredClone(transfer);
    broken.States.PlanImpact.Catch[0].Next = 'NoSuchState';
    expect(aslValidator(broken).isValid).toBe(false);
  });

  it('every Task state times out 10 s after its function would (aws-local-stepfunctions gives one that states none 60 s; AWS, none)', () => {
    const functions = template.findResources('AWS::Lambda::Function');
    let tasks = 0;
    for (const [id, definition] of definitions) {
      for (const [name, state] of Object.entries<any>(definition.States)) {
        if (state.Type !== 'Task') continue;
        tasks++;
        const fn = /function:([A-Za-z0-9]+)$/.exec(state.Resource ?? '')?.[1];
        expect(fn && functions[fn], `${id} ${name}: a Lambda function`).toBeTruthy();
        expect(state.TimeoutSeconds, `${id} ${name}`).toBe(functions[fn!]!.Properties.Timeout + 10);
      }
    }
    expect(tasks).toBeGreaterThan(10);
  });
});
