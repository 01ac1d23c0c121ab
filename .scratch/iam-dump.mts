import { synthesizeTemplate } from '../local/template.js';
const t = synthesizeTemplate();
const types: Record<string, number> = {};
for (const [id, r] of Object.entries(t.Resources)) types[r.Type] = (types[r.Type] ?? 0) + 1;
console.log(types);
for (const [id, r] of Object.entries(t.Resources)) {
  if (r.Type === 'AWS::IAM::Policy') console.log(id, 'roles', JSON.stringify(r.Properties.Roles), JSON.stringify(r.Properties.PolicyDocument.Statement.map((s: any) => [s.Effect, s.Action, s.Resource])));
  if (r.Type === 'AWS::Lambda::Function') console.log('FN', id, r.Metadata?.['offboard:entry'] ?? JSON.stringify(r.Metadata), JSON.stringify(r.Properties.Role));
  if (['AWS::Lambda::Permission','AWS::Events::EventBusPolicy','AWS::S3::BucketPolicy','AWS::SQS::QueuePolicy','AWS::IAM::Role'].includes(r.Type)) console.log(r.Type, id, JSON.stringify(r.Properties).slice(0, 700));
}
