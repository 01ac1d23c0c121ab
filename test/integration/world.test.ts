import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { byId, demoWorld, openTarget, type Target } from './harness.js';

let target: Target;
beforeAll(async () => {
  target = await openTarget();
});
afterAll(async () => target?.close());
beforeEach(async () => target.load(demoWorld()));

describe('World JSON load and export (CONTRACT.md)', () => {
  it('an export loads back to the same export, byte for byte', async () => {
    const first = await target.export();
    await target.load(first);
    const second = await target.export();
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
  });

  it('arrays are sorted by id, pairs sorted within and between, names written as shown, files marked stored', async () => {
    const w = await target.export();
    for (const key of ['organizations', 'users', 'chats', 'messages', 'files', 'tasks']) {
      const list = w[key].map((x: any) => x.id);
      expect(list, key).toEqual([...list].sort());
    }
    for (const key of ['contacts', 'outsideAllowances']) {
      for (const pair of w[key]) expect(pair).toEqual([...pair].sort());
      const joined = w[key].map((p: string[]) => p.join('\u0000'));
      expect(joined).toEqual([...joined].sort());
    }
    expect(w.outsideAllowances).toEqual([
      ['A', 'B'],
      ['A', 'D'],
    ]);
    expect(byId(w.users, 'a1')).toMatchObject({ displayName: 'Akira Abe', status: 'active', apiToken: 'tok-a1' });
    expect(byId(w.users, 'old1')).toMatchObject({ status: 'deleted', apiToken: null, deletedAt: '2015-06-01T09:00:00Z' });
    expect(w.files.every((f: any) => f.stored === true)).toBe(true);
    expect(byId(w.files, 'f-a1-bteam').size).toBe(Buffer.byteLength("# Specs\nThe B team's specification.\n"));
  });

  const refusals: [string, (w: any) => void, string][] = [
    ['a property the schema does not know', (w) => (w.users[0].nickname = 'x'), '/users/0/nickname'],
    ['a missing required property', (w) => delete w.organizations[1].plan, '/organizations/1/plan'],
    ['a plan outside the enum', (w) => (w.organizations[0].plan = 'gold'), '/organizations/0/plan'],
    ['a user in an organization that does not exist', (w) => (w.users[2].organizationId = 'ZZ'), '/users/2/organizationId'],
    ['a chat member who does not exist', (w) => (w.chats[3].members[1].userId = 'ghost'), '/chats/3/members/1/userId'],
    ['a duplicate id', (w) => (w.files[1].id = w.files[0].id), '/files/1/id'],
    ['a message in a chat that does not exist', (w) => (w.messages[0].chatId = 'nowhere'), '/messages/0/chatId'],
    ['a contact listed twice, in either order', (w) => w.contacts.push([w.contacts[0][1], w.contacts[0][0]]), '/contacts/8'],
    ['an outside allowance of an organization with itself', (w) => w.outsideAllowances.push(['A', 'A']), '/outsideAllowances/2'],
  ];
  for (const [what, spoil, path] of refusals) {
    it(`refuses ${what}, naming ${path}, and changes nothing`, async () => {
      const before = await target.export();
      const bad = demoWorld();
      spoil(bad);
      const result = await target.tryLoad(bad);
      expect(result).toMatchObject({ ok: false, path });
      expect(await target.export()).toEqual(before);
    });
  }
});
