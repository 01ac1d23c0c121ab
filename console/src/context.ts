import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Api, Me } from './api.js';
import type { Dictionary, Lang } from './i18n/index.js';

export interface AppContext {
  t: Dictionary;
  lang: Lang;
  api: Api;
  me: Me;
  /** Organization id → name, from `GET /organizations`. */
  orgNames: Record<string, string>;
  organizations: { id: string; name: string; plan: string }[];
  navigate(hash: string): void;
}

export const Ctx = createContext<AppContext | null>(null);
export function useApp(): AppContext {
  const c = useContext(Ctx);
  if (!c) throw new Error('useApp outside the signed-in app');
  return c;
}
