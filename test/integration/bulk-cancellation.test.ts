import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { largeOrganizationWorld } from '../../fixtures/large-organization.js';
import { billingEvent, eventually, openTarget, type Target } from './harness.js';

const MEMBERS = 1000;
let target: Target;
beforeAll(async () => {
  target = await openTarget();
  await target.load(largeOrganizationWorld(MEMBERS));
}, 300_000);
afterAll(async () => target?.close());

describe(`B1, F3 at scale: a cancelled contract of ${MEMBERS} members`, () => {
  it(`B4: waits for an operator's confirmation, then deletes all ${MEMBERS} members and every file they uploaded, and leaves the partner's data as the rules say`, async () => {
    const token = await target.operator.token();
    const { eventId } = await target.billing(billingEvent('Contract Cancelled', { organizationId: 'X' }));
    // B4: more members than the threshold (500): the run waits for an operator, then runs once confirmed
    const waiting = await eventually(async () => {
      const a = await target.call('GET', `/billing-runs/b1-${eventId}`, { token });
      return a.status === 200 ? a.body : undefined;
    });
    expect(waiting).toMatchObject({ status: 'awaiting-confirmation', done: 0 });
    expect((await target.call('POST', `/billing-runs/b1-${eventId}/confirmation`, { token })).status).toBe(202);
    const progress: number[] = [];
    const run = await eventually(async () => {
      const a = await target.call('GET', `/billing-runs/b1-${eventId}`, { token });
      if (a.status === 200) progress.push(a.body.done);
      return a.status === 200 && a.body.status !== 'running' ? a.body : undefined;
    }, 1_200_000);
    expect(run).toMatchObject({ status: 'succeeded', total: MEMBERS, done: MEMBERS, failed: 0, remaining: 0 });

    const w = await target.export();
    const xs = w.users.filter((u: any) => u.organizationId === 'X');
    expect(xs.length).toBe(MEMBERS);
    expect(xs.every((u: any) => u.status === 'deleted' && u.apiToken === null)).toBe(true); // D2
    expect(w.files.filter((f: any) => f.uploaderId.startsWith('x'))).toEqual([]); // F3
    const keys = await target.objectKeys();
    expect(keys.filter((k) => /\/files\/f-(my-x|g-\d+-x|dm-x\d+-y\d-x)/.test(k))).toEqual([]); // F4: bytes gone
    expect(keys.length).toBe(w.files.length);
    expect(w.chats.filter((c: any) => c.type === 'my')).toEqual([]); // D3
    const groups = w.chats.filter((c: any) => c.type === 'group');
    expect(groups.length).toBe(MEMBERS / 20);
    for (const g of groups) expect(g.members).toEqual([{ userId: expect.stringMatching(/^y\d$/), role: 'admin' }]); // D5, G2
    const directs = w.chats.filter((c: any) => c.type === 'direct');
    expect(directs.length).toBe(MEMBERS / 10);
    for (const d of directs) expect(d).toMatchObject({ frozen: true, members: [{ userId: expect.stringMatching(/^y\d$/) }] }); // D4
    expect(w.files.filter((f: any) => f.uploaderId.startsWith('y')).length).toBe(MEMBERS / 20 + MEMBERS / 10); // partners' files stay
    expect(w.contacts).toEqual([]);
    expect(w.tasks.every((t: any) => t.assigneeId.startsWith('y'))).toBe(true); // D6
    expect(w.tasks.filter((t: any) => t.requesterId.startsWith('x')).every((t: any) => t.requesterName.endsWith('(cancelled)'))).toBe(true);
  }, 1_500_000);
});
