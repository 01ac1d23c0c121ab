import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import schema from './world.schema.json' with { type: 'json' };

/** The World JSON of CONTRACT.md, as loaded (defaults applied by `normalizeWorld`). */
export interface WorldJson {
  organizations: any[];
  outsideAllowances?: string[][];
  users: any[];
  contacts?: string[][];
  chats?: any[];
  messages?: any[];
  files?: any[];
  tasks?: any[];
}

export class InvalidWorld extends Error {
  override name = 'InvalidWorld';
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`${path || '/'}: ${detail}`);
  }
}

const addFormats = (addFormatsModule as any).default ?? addFormatsModule;
const ajv = new Ajv2020({ allErrors: false, strict: false, useDefaults: false });
addFormats(ajv);
const validateSchema = ajv.compile(schema);

/**
 * Checks a world against world.schema.json, then that every reference resolves and ids are unique.
 * Throws InvalidWorld naming the first bad path (a JSON pointer).
 */
export function validateWorld(world: unknown): asserts world is WorldJson {
  if (!validateSchema(world)) {
    const e = validateSchema.errors![0]!;
    const where =
      e.keyword === 'required'
        ? `${e.instancePath}/${(e.params as any).missingProperty}`
        : e.keyword === 'additionalProperties'
          ? `${e.instancePath}/${(e.params as any).additionalProperty}`
          : e.instancePath;
    throw new InvalidWorld(where, e.message ?? 'does not match the schema');
  }
  const w = world as unknown as WorldJson;
  const ids = (list: any[] | undefined, name: string) => {
    const seen = new Set<string>();
    (list ?? []).forEach((x, i) => {
      if (seen.has(x.id)) throw new InvalidWorld(`/${name}/${i}/id`, `duplicate id ${x.id}`);
      seen.add(x.id);
    });
    return seen;
  };
  const orgs = ids(w.organizations, 'organizations');
  const users = ids(w.users, 'users');
  const chats = ids(w.chats, 'chats');
  ids(w.messages, 'messages');
  ids(w.files, 'files');
  ids(w.tasks, 'tasks');
  const ref = (set: Set<string>, value: string | null | undefined, path: string, what: string) => {
    if (value !== null && value !== undefined && !set.has(value)) throw new InvalidWorld(path, `no ${what} ${value}`);
  };
  w.users.forEach((u, i) => {
    ref(orgs, u.organizationId, `/users/${i}/organizationId`, 'organization');
    if (u.status === 'deleted' && !u.deletedAt) throw new InvalidWorld(`/users/${i}/deletedAt`, 'a deleted user needs deletedAt');
  });
  /** Unordered pairs: two different members, each pair once. */
  const pairs = (list: string[][] | undefined, name: string, set: Set<string>, what: string) => {
    const seen = new Set<string>();
    (list ?? []).forEach((pair, i) => {
      pair.forEach((x, j) => ref(set, x, `/${name}/${i}/${j}`, what));
      if (pair[0] === pair[1]) throw new InvalidWorld(`/${name}/${i}`, `a pair of two different ${what}s`);
      const key = [...pair].sort().join('\u0000');
      if (seen.has(key)) throw new InvalidWorld(`/${name}/${i}`, `the pair ${pair.join(', ')} is listed twice`);
      seen.add(key);
    });
  };
  pairs(w.outsideAllowances, 'outsideAllowances', orgs, 'organization');
  pairs(w.contacts, 'contacts', users, 'user');
  (w.chats ?? []).forEach((c, i) => {
    const seen = new Set<string>();
    c.members.forEach((m: any, j: number) => {
      ref(users, m.userId, `/chats/${i}/members/${j}/userId`, 'user');
      if (seen.has(m.userId)) throw new InvalidWorld(`/chats/${i}/members/${j}/userId`, `duplicate member ${m.userId}`);
      seen.add(m.userId);
    });
    if (c.type === 'my' && c.members.length > 1) throw new InvalidWorld(`/chats/${i}/members`, 'a My Chat has one member');
    if (c.type === 'direct' && c.members.length > 2) throw new InvalidWorld(`/chats/${i}/members`, 'a direct chat has at most two members');
  });
  (w.messages ?? []).forEach((m, i) => {
    ref(chats, m.chatId, `/messages/${i}/chatId`, 'chat');
    ref(users, m.senderId, `/messages/${i}/senderId`, 'user');
  });
  (w.files ?? []).forEach((f, i) => {
    ref(chats, f.chatId, `/files/${i}/chatId`, 'chat');
    ref(users, f.uploaderId, `/files/${i}/uploaderId`, 'user');
    ref(orgs, f.ownerOrganizationId, `/files/${i}/ownerOrganizationId`, 'organization');
  });
  (w.tasks ?? []).forEach((t, i) => {
    ref(chats, t.chatId, `/tasks/${i}/chatId`, 'chat');
    ref(users, t.assigneeId, `/tasks/${i}/assigneeId`, 'user');
    ref(users, t.requesterId, `/tasks/${i}/requesterId`, 'user');
  });
}
