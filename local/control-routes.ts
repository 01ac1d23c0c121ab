import type { IncomingMessage } from 'node:http';
import type { LocalEventBus } from './event-bus.js';
import type { LocalLambda, Fault } from './functions.js';
import { requestUrl } from './gateway.js';
import type { LocalStepFunctions } from './sfn-service.js';
import type { LocalNames } from './template.js';
import { advanceClock, now } from '../functions/shared/clock.js';
import { applyLifecycleExpiry } from './emulators/s3-lifecycle.js';
import { chaosCounts, parseChaos, setChaos } from './chaos.js';

/** The platform operator of the local sign-in (scope offboard/operator). */
export const LOCAL_OPERATOR_ID = 'platform-operator';

/** What a control route answers: a status and a JSON body. */
export interface Reply {
  status: number;
  body: unknown;
}
const reply = (status: number, body: unknown): Reply => ({ status, body });

/** What the control routes reach: the emulators and the modules loaded once the functions' environment is set. */
export interface ControlContext {
  names: LocalNames;
  s3Endpoint: string;
  lambda: LocalLambda;
  stepFunctions: LocalStepFunctions;
  eventBus: LocalEventBus;
  worldStore: typeof import('./world/world-store.js');
  worldCheck: typeof import('./world/check.js');
  clock: typeof import('../functions/shared/clock.js');
  getUser: typeof import('../functions/store/table.js').getUser;
  token: (userId: string, scopes?: string[]) => Promise<string>;
}

export type ControlRoute = (req: IncomingMessage, body: string) => Reply | Promise<Reply>;

/**
 * The embedded stack's `/_local` routes (LOCAL-AWS.md, the CLIs and the tests drive the world, the clock, faults and
 * chaos through them), by "METHOD path". A route not here answers 404.
 */
export function controlRoutes(c: ControlContext): Record<string, ControlRoute> {
  const { names, s3Endpoint, lambda, stepFunctions, eventBus, worldStore, worldCheck, clock, getUser, token } = c;
  return {
    'GET /_local/users': async () => {
      // the local sign-in page: who may be chosen; the platform operator is a user of the world (scope offboard/operator)
      const users = await worldStore.signInDirectory();
      return reply(200, { users: users.map((u) => (u.userId === LOCAL_OPERATOR_ID ? { ...u, role: 'operator', operator: true } : u)) });
    },
    'POST /_local/token': async (_req, body) => {
      const { userId, scopes } = JSON.parse(body);
      // a token for nobody would only fail later, as a 401 with no hint why: a typo is refused here, naming the id
      if (typeof userId !== 'string' || !(await getUser(userId))) {
        return reply(404, {
          error: {
            code: 'not-found',
            message: `no user ${JSON.stringify(userId)} in the loaded world (user ids are case-sensitive, e.g. adminA)`,
            path: 'userId',
          },
        });
      }
      return reply(200, { token: await token(userId, scopes) });
    },
    'PUT /_local/billing': async (_req, body) => {
      const { entry, id, times } = JSON.parse(body);
      const problem =
        !entry || typeof entry !== 'object'
          ? 'the file holds no event'
          : ['Source', 'DetailType', 'Detail'].find((k) => entry[k] === undefined);
      if (problem)
        return reply(400, {
          error: {
            code: 'invalid-request',
            message: problem.includes(' ') ? problem : `the event has no ${problem}`,
            path: problem.includes(' ') ? '' : problem,
          },
        });
      const delivered = await eventBus.put(entry, { id, times });
      return reply(200, { ...delivered, detailTypes: eventBus.detailTypes(entry.Source) });
    },
    'GET /_local/events': async (req) => {
      // docs/EVENTS.md: what the functions put on the buses, after `after` (a seq), waiting up to `waitMs` for one
      const q = requestUrl(req).searchParams;
      const number = (name: string, max: number) => {
        const v = q.get(name);
        if (v === null) return undefined;
        const n = Number(v);
        return Number.isSafeInteger(n) && n >= 0 && n <= max ? n : Number.NaN;
      };
      const after = number('after', Number.MAX_SAFE_INTEGER);
      const waitMs = number('waitMs', 30_000);
      if (Number.isNaN(after))
        return reply(400, { error: { code: 'invalid-request', message: 'after: must be a whole number, 0 or more', path: 'after' } });
      if (Number.isNaN(waitMs))
        return reply(400, {
          error: { code: 'invalid-request', message: 'waitMs: must be a whole number of milliseconds from 0 to 30000', path: 'waitMs' },
        });
      return reply(200, await eventBus.recorded({ after, waitMs, bus: q.get('bus') ?? undefined }));
    },
    'POST /_local/schedules': async (_req, body) => {
      // the scheduled rules run now, not on their timer (docs/EVENTS.md: the outbox sweeper, every minute on AWS);
      // `{"rule": "<logical id prefix>"}` runs those only. Answers each target's result (the sweep's counts).
      let rule: unknown;
      try {
        rule = JSON.parse(body || '{}').rule;
      } catch {
        rule = null;
      }
      if (rule !== undefined && typeof rule !== 'string')
        return reply(400, { error: { code: 'invalid-request', message: 'rule: a logical id prefix, a string', path: 'rule' } });
      const deliveries = await eventBus.runSchedules(rule);
      if (rule && deliveries.length === 0)
        return reply(404, {
          error: {
            code: 'not-found',
            message: `no scheduled rule starts with ${rule}: ${eventBus.schedules.map((s) => s.name).join(', ')}`,
            path: 'rule',
          },
        });
      return reply(200, { deliveries });
    },
    'GET /_local/dead-letters': async () => {
      return reply(200, await eventBus.deadLetters());
    },
    'GET /_local/world': async () => {
      await stepFunctions.idle();
      return reply(200, await worldStore.exportWorld());
    },
    'GET /_local/world/check': async () => {
      await stepFunctions.idle();
      return reply(200, { problems: await worldCheck.checkWorld() });
    },
    'PUT /_local/world': async (_req, body) => {
      let world: unknown;
      try {
        world = JSON.parse(body);
      } catch {
        return reply(400, { error: { code: 'invalid-request', message: 'the world file is not valid JSON', path: '' } });
      }
      await stepFunctions.idle();
      try {
        const loaded = await worldStore.loadWorld(world);
        stepFunctions.stopWaiting(); // D7: deletions waiting for a purge date belonged to the world replaced
        return reply(200, loaded);
      } catch (error) {
        if ((error as any).name === 'InvalidWorld')
          return reply(400, { error: { code: 'invalid-request', message: (error as Error).message, path: (error as any).path } });
        throw error;
      }
    },
    'GET /_local/clock': () => {
      return reply(200, { now: now() });
    },
    'PUT /_local/clock': async (_req, body) => {
      // D7: moves the functions' clock forward (never back); a Wait until a purge date that it passes ends
      let to: any;
      try {
        to = JSON.parse(body);
      } catch {
        to = undefined;
      }
      const bad = (field: string, message: string) =>
        reply(400, { error: { code: 'invalid-request', message: `${field}: ${message}`, path: field } });
      if (!to || typeof to !== 'object' || (to.advanceMs === undefined) === (to.now === undefined))
        return bad('', 'give exactly one of advanceMs or now');
      if (to.advanceMs !== undefined && !(Number.isSafeInteger(to.advanceMs) && to.advanceMs >= 0))
        return bad('advanceMs', 'must be a whole number of milliseconds, 0 or more');
      if (to.now !== undefined && !(typeof to.now === 'string' && Number.isFinite(Date.parse(to.now))))
        return bad('now', 'must be an ISO-8601 instant');
      if (to.now !== undefined && Date.parse(to.now) < Date.parse(now()))
        return bad('now', `the clock only moves forward (it is ${now()})`);
      const moved = advanceClock(to);
      await applyLifecycleExpiry(names, s3Endpoint, Date.parse(moved)); // X4: S3 lifecycle expiry at the new time
      return reply(200, { now: moved });
    },
    'PUT /_local/faults': (_req, body) => {
      const { function: fn, fault } = JSON.parse(body) as { function: string; fault?: Fault };
      lambda.setFault(fn, fault);
      return reply(200, { ok: true });
    },
    'GET /_local/faults': () => {
      const fired = Object.fromEntries(lambda.faultsFired);
      const mostWrites = Object.fromEntries(lambda.mostWrites);
      lambda.faultsFired.clear();
      lambda.mostWrites.clear();
      return reply(200, { fired, mostWrites });
    },
    // Pins the time applied effects write into the world (deletedAt), so a resumed run's export equals a fault-free one's.
    'PUT /_local/clock/pin': (_req, body) => {
      const { at } = JSON.parse(body || '{}') as { at?: string };
      clock.pinEffectTime(at);
      return reply(200, { at: at ?? null });
    },
    // Throttling and partial failures at the SDK clients (local/chaos.ts): `{"spec":"seed:rate"}` or `{}` for off.
    'PUT /_local/chaos': (_req, body) => {
      const before = chaosCounts(); // what the previous setting injected
      try {
        setChaos(parseChaos(JSON.parse(body || '{}').spec));
      } catch (error) {
        return reply(400, { error: { code: 'invalid-request', message: (error as Error).message, path: 'spec' } });
      }
      return reply(200, before);
    },
    'GET /_local/chaos': () => {
      return reply(200, chaosCounts());
    },
    'POST /_local/idle': async () => {
      await stepFunctions.idle();
      return reply(200, { executions: stepFunctions.list().length });
    },
    'GET /_local/objects': async () => {
      return reply(200, await worldStore.objectKeys());
    },
    'PUT /_local/objects': async (_req, body) => {
      // a file's bytes changed behind the product's back (X4: an archive that no longer verifies)
      const { key, content } = JSON.parse(body || '{}') as { key?: unknown; content?: unknown };
      if (typeof key !== 'string' || !key || typeof content !== 'string') {
        return reply(400, {
          error: {
            code: 'invalid-request',
            message: 'body must be {"key","content"} strings',
            path: typeof key === 'string' && key ? 'content' : 'key',
          },
        });
      }
      await worldStore.putObjectBytes(key, content);
      return reply(200, { key });
    },
    'GET /_local/invocations': () => {
      return reply(200, Object.fromEntries(lambda.invocations));
    },
  };
}
