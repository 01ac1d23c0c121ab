import type { UserManager } from 'oidc-client-ts';

/** `/config.json`, written by the embedded stack (local) or by the CDK deployment (oidc). */
export interface ConsoleConfig {
  apiUrl: string;
  auth:
    | { mode: 'local' }
    | { mode: 'oidc'; authority: string; clientId: string; scope?: string; redirectUri?: string; tokenType?: 'access' | 'id' };
}

export interface LocalUser {
  userId: string;
  displayName: string;
  organizationId?: string;
  organizationName?: string;
  role: string;
  operator?: boolean;
}

const TOKEN_KEY = 'offboard.token';

export async function loadConfig(): Promise<ConsoleConfig> {
  const res = await fetch('/config.json', { cache: 'no-store' });
  if (!res.ok) throw new Error(`/config.json: ${res.status}`);
  return (await res.json()) as ConsoleConfig;
}

export const savedToken = (): string | undefined => sessionStorage.getItem(TOKEN_KEY) ?? undefined;
export const saveToken = (token: string): void => sessionStorage.setItem(TOKEN_KEY, token);
export const forgetToken = (): void => sessionStorage.removeItem(TOKEN_KEY);

/** Local mode: the embedded stack lists the loaded world's users and signs a token for the one chosen. */
export async function localUsers(): Promise<LocalUser[]> {
  const res = await fetch('/_local/users');
  if (!res.ok) throw new Error(`/_local/users: ${res.status}`);
  return ((await res.json()) as { users: LocalUser[] }).users;
}

export async function localSignIn(user: LocalUser): Promise<string> {
  const res = await fetch('/_local/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId: user.userId, scopes: user.operator ? ['offboard/operator'] : [] }),
  });
  if (!res.ok) throw new Error(`/_local/token: ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}

/** Deployed: OpenID Connect authorization code with PKCE (oidc-client-ts), loaded only in that mode. */
async function userManager(auth: Extract<ConsoleConfig['auth'], { mode: 'oidc' }>): Promise<UserManager> {
  const { UserManager, WebStorageStateStore } = await import('oidc-client-ts');
  return new UserManager({
    authority: auth.authority,
    client_id: auth.clientId,
    redirect_uri: auth.redirectUri ?? `${location.origin}/`,
    post_logout_redirect_uri: `${location.origin}/`,
    response_type: 'code',
    scope: auth.scope ?? 'openid',
    userStore: new WebStorageStateStore({ store: sessionStorage }),
  });
}

export async function oidcSignIn(auth: Extract<ConsoleConfig['auth'], { mode: 'oidc' }>): Promise<void> {
  await (await userManager(auth)).signinRedirect();
}

/** After the identity provider redirects back with `?code=…&state=…`: exchanges the code, keeps the token. */
export async function oidcCompleteSignIn(auth: Extract<ConsoleConfig['auth'], { mode: 'oidc' }>): Promise<string | undefined> {
  const params = new URLSearchParams(location.search);
  if (!params.has('code') || !params.has('state')) return undefined;
  const user = await (await userManager(auth)).signinRedirectCallback();
  history.replaceState(null, '', `${location.pathname}${location.hash}`);
  const token = auth.tokenType === 'id' ? user.id_token : user.access_token;
  if (token) saveToken(token);
  return token;
}
