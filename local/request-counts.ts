import type { ClientMiddleware } from '../functions/store/clients.js';

/**
 * Requests the functions' SDK clients make in this process, by service and operation, for the benchmark and the
 * console's scale test. Installed by the embedded stack through the store's client hook (functions/store/clients.ts).
 */
const requestCounts = new Map<string, number>();

export const countRequests: ClientMiddleware = (client, service) => {
  client.middlewareStack.add(
    (next: any, context: any) => async (args: any) => {
      const key = `${service}.${String(context.commandName ?? 'unknown').replace(/Command$/, '')}`;
      requestCounts.set(key, (requestCounts.get(key) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'offboardRequestCounter' },
  );
};

/** Requests made since the last call, by service and operation; starts counting again from zero. */
export function takeRequestCounts(): Record<string, number> {
  const out = Object.fromEntries([...requestCounts.entries()].sort());
  requestCounts.clear();
  return out;
}
