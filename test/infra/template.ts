import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { OffboardStack } from '../../infra/offboard-stack.js';

/** The stack synthesized without asset bundling (seconds, not tens of seconds). */
export function synthesize(props: ConstructorParameters<typeof OffboardStack>[2] = {}): Template {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return Template.fromStack(new OffboardStack(app, 'Offboard', props));
}

/** Each state machine's definition, parsed, with tokens left as placeholders. */
export function definitions(template: Template): Record<string, any> {
  const machines = template.findResources('AWS::StepFunctions::StateMachine');
  return Object.fromEntries(
    Object.entries(machines).map(([id, r]: [string, any]) => {
      const parts = r.Properties.DefinitionString['Fn::Join'][1] as any[];
      const text = parts.map((p) => (typeof p === 'string' ? p : 'TOKEN')).join('');
      return [id, JSON.parse(text)];
    }),
  );
}

export function allStates(definition: any): [string, any][] {
  const out: [string, any][] = [];
  const walk = (d: any) => {
    for (const [name, s] of Object.entries<any>(d.States ?? {})) {
      out.push([name, s]);
      if (s.Type === 'Map') walk(s.ItemProcessor ?? s.Iterator);
      if (s.Type === 'Parallel') s.Branches.forEach(walk);
    }
  };
  walk(definition);
  return out;
}
