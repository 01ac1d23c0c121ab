import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../infra/constructs/offboard-function.js';
import { startEmbeddedStack } from '../local/embedded-stack.js';
import { largeOrganizationWorld } from '../fixtures/large-organization.js';

/**
 * The benchmark: every figure is measured in this one run on the embedded stack, and compared as ratios (these
 * machines are noisy; absolute times are for orientation only). Request counts are exact.
 */
const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 1000);
const demo = JSON.parse((await import('node:fs')).readFileSync(path.join(REPO_ROOT, 'fixtures', 'demo-world.json'), 'utf8'));
const stack = await startEmbeddedStack({ port: 0 });
const { takeRequestCounts } = await import('../functions/store/clients.js');
const { batchWrite, deleteObjects, del, put } = await import('../functions/store/batch.js');
const { DeleteCommand } = await import('@aws-sdk/lib-dynamodb');
const { DeleteObjectCommand, PutObjectCommand } = await import('@aws-sdk/client-s3');
const { ddb, s3 } = await import('../functions/store/clients.js');
const { loadWorld } = await import('../functions/world/world-store.js');

const results: Record<string, unknown> = {};
const seconds = (ms: number) => Number((ms / 1000).toFixed(2));
async function timed<T>(run: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const value = await run();
  return [value, performance.now() - t0];
}
async function call(method: string, route: string, as: string, body?: unknown, scopes?: string[]) {
  const res = await fetch(`${stack.url}${route}`, {
    method,
    headers: { authorization: `Bearer ${await stack.token(as, scopes)}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res.json() as Promise<any>;
}
const totals = (counts: Record<string, number>) => ({
  dynamodb: Object.entries(counts).filter(([k]) => k.startsWith('DynamoDB')).reduce((n, [, v]) => n + v, 0),
  s3: Object.entries(counts).filter(([k]) => k.startsWith('S3')).reduce((n, [, v]) => n + v, 0),
  byOperation: counts,
});

// 1. T10: a1 moves from A to C, request to succeeded.
await loadWorld(demo);
takeRequestCounts();
const [, transferMs] = await timed(async () => {
  const t = await call('POST', '/transfers', 'adminA', { userId: 'a1', destinationOrganizationId: 'C' });
  await call('POST', `/transfers/${t.id}/approval`, 'adminC');
  await stack.stepFunctions.idle();
});
results.transferT10 = { seconds: seconds(transferMs), requests: totals(takeRequestCounts()) };

// 2. The deletion of the demo world's busiest user (most chats, contacts and files).
await loadWorld(demo);
const busiest = demo.users
  .filter((u: any) => u.status !== 'deleted' && !u.orgAdmin)
  .map((u: any) => ({
    id: u.id,
    organizationId: u.organizationId,
    weight:
      demo.chats.filter((c: any) => c.members.some((m: any) => m.userId === u.id)).length +
      demo.contacts.filter((p: string[]) => p.includes(u.id)).length +
      demo.files.filter((f: any) => f.uploaderId === u.id).length,
  }))
  .sort((a: any, b: any) => b.weight - a.weight)[0];
const admin = demo.users.find((u: any) => u.orgAdmin && u.organizationId === busiest.organizationId).id;
takeRequestCounts();
const [deletion, deletionMs] = await timed(async () => {
  const d = await call('POST', '/deletions', admin, { userId: busiest.id });
  await stack.stepFunctions.idle();
  return d;
});
results.deletionOfBusiestUser = { userId: busiest.id, effects: deletion.impact.effects.length, seconds: seconds(deletionMs), requests: totals(takeRequestCounts()) };

// 3. Batching: the same 2,000 items deleted one by one, then in batches of 25 (BatchWriteItem).
const table = process.env.TABLE_NAME!;
const items = Array.from({ length: 2000 }, (_, i) => ({ PK: `BENCH#${i % 50}`, SK: `ITEM#${i}`, type: 'bench' }));
await batchWrite(table, items.map(put));
const [, singleMs] = await timed(async () => {
  for (let i = 0; i < items.length; i += 8) {
    await Promise.all(items.slice(i, i + 8).map((it) => ddb.send(new DeleteCommand({ TableName: table, Key: { PK: it.PK, SK: it.SK } }))));
  }
});
await batchWrite(table, items.map(put));
const [, batchMs] = await timed(() => batchWrite(table, items.map((it) => del({ PK: it.PK, SK: it.SK }))));
results.dynamodbBatching = { items: items.length, singleSeconds: seconds(singleMs), batchedSeconds: seconds(batchMs), speedup: Number((singleMs / batchMs).toFixed(1)), requests: { single: items.length, batched: Math.ceil(items.length / 25) } };

// 4. S3: 1,000 objects deleted one by one, then with DeleteObjects (1,000 keys per request).
const bucket = process.env.BUCKET_NAME!;
const keys = Array.from({ length: 1000 }, (_, i) => `bench/obj-${i}`);
const putAll = async () => {
  for (let i = 0; i < keys.length; i += 32) await Promise.all(keys.slice(i, i + 32).map((Key) => s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'x' }))));
};
await putAll();
const [, s3SingleMs] = await timed(async () => {
  for (let i = 0; i < keys.length; i += 8) await Promise.all(keys.slice(i, i + 8).map((Key) => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key }))));
});
await putAll();
const [, s3BatchMs] = await timed(() => deleteObjects(bucket, keys));
results.s3Batching = { objects: keys.length, singleSeconds: seconds(s3SingleMs), batchedSeconds: seconds(s3BatchMs), speedup: Number((s3SingleMs / s3BatchMs).toFixed(1)), requests: { single: keys.length, batched: 1 } };

// 5. B1: a cancelled contract of MEMBERS members, event to outcome.
await loadWorld(largeOrganizationWorld(MEMBERS));
takeRequestCounts();
stack.stepFunctions.largestPayload = { bytes: 0, where: '' };
const [run, cancelMs] = await timed(async () => {
  const { eventId } = await stack.eventBus.put({ Source: 'billing', DetailType: 'Contract Cancelled', Detail: { organizationId: 'X' } });
  await stack.stepFunctions.idle();
  return call('GET', `/billing-runs/b1-${eventId}`, 'bench', undefined, ['offboard/operator']);
});
results.contractCancellation = {
  members: MEMBERS,
  status: run.status,
  done: run.done,
  failed: run.failed,
  seconds: seconds(cancelMs),
  membersPerSecond: Number((MEMBERS / (cancelMs / 1000)).toFixed(1)),
  requests: totals(takeRequestCounts()),
  largestPayload: stack.stepFunctions.largestPayload,
};

await stack.stop();
mkdirSync(path.join(REPO_ROOT, '.offboard'), { recursive: true });
writeFileSync(path.join(REPO_ROOT, '.offboard', 'bench.json'), `${JSON.stringify(results, null, 2)}\n`);

const r = results as any;
const lines = [
  'offboard benchmark (one run; ratios are the figures to compare, seconds only orient)',
  '',
  `T10 transfer, request → succeeded        ${r.transferT10.seconds} s   DynamoDB ${r.transferT10.requests.dynamodb} requests, S3 ${r.transferT10.requests.s3}`,
  `deletion of the busiest demo user (${r.deletionOfBusiestUser.userId}, ${r.deletionOfBusiestUser.effects} effects)  ${r.deletionOfBusiestUser.seconds} s   DynamoDB ${r.deletionOfBusiestUser.requests.dynamodb} requests, S3 ${r.deletionOfBusiestUser.requests.s3}`,
  `DynamoDB: ${r.dynamodbBatching.items} deletes batched vs one by one    ${r.dynamodbBatching.speedup}× faster, ${r.dynamodbBatching.requests.batched} vs ${r.dynamodbBatching.requests.single} requests`,
  `S3: ${r.s3Batching.objects} object deletes batched vs one by one   ${r.s3Batching.speedup}× faster, ${r.s3Batching.requests.batched} vs ${r.s3Batching.requests.single} requests`,
  `B1: cancelled contract of ${MEMBERS} members          ${r.contractCancellation.status} in ${r.contractCancellation.seconds} s (${r.contractCancellation.membersPerSecond} members/s), ${r.contractCancellation.done} done, ${r.contractCancellation.failed} failed`,
  `    requests: DynamoDB ${r.contractCancellation.requests.dynamodb} (${(r.contractCancellation.requests.dynamodb / MEMBERS).toFixed(1)} per member), S3 ${r.contractCancellation.requests.s3} (${(r.contractCancellation.requests.s3 / MEMBERS).toFixed(1)} per member)`,
  `    largest state payload: ${r.contractCancellation.largestPayload.bytes} bytes (${r.contractCancellation.largestPayload.where}); Step Functions allows 262,144`,
  '',
  'Full figures, with requests by operation: .offboard/bench.json',
];
process.stdout.write(`${lines.join('\n')}\n`);
process.exit(0);
