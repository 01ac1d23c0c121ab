import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Api, ApiError, type Me, type Organization } from './api.js';
import {
  forgetToken,
  loadConfig,
  localSignIn,
  localUsers,
  oidcCompleteSignIn,
  oidcSignIn,
  savedToken,
  saveToken,
  type ConsoleConfig,
  type LocalUser,
} from './auth.js';
import { Ctx, type AppContext } from './context.js';
import { DICTIONARIES, initialLang, LANGS, rememberLang, type Dictionary, type Lang } from './i18n/index.js';
import { ErrorPanel } from './components.js';
import { OrganizationScreen } from './screens/organization.js';
import { PreviewScreen } from './screens/preview.js';
import { RequestsScreen } from './screens/requests.js';
import { OperationScreen } from './screens/operation.js';
import { BillingRunsScreen } from './screens/billing-runs.js';

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

/** What shows before a screen can: the header and, as the main landmark, the error that stopped it or the loading note. */
const beforeScreens = (header: preact.JSX.Element, t: Dictionary, lang: Lang, error: unknown) => (
  <>
    {header}
    <main id="main" tabIndex={-1}>
      {error ? <ErrorPanel t={t} lang={lang} error={error} /> : <p role="status">{t.loading}</p>}
    </main>
  </>
);

export function App() {
  const [lang, setLang] = useState<Lang>(() => initialLang(localStorage, navigator.languages ?? [navigator.language]));
  const t = DICTIONARIES[lang];
  const [config, setConfig] = useState<ConsoleConfig>();
  const [token, setToken] = useState<string | undefined>(() => savedToken());
  const [fatal, setFatal] = useState<unknown>();

  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = `${t.appName} · ${t.appTagline}`;
  }, [lang]);
  useEffect(() => {
    loadConfig()
      .then(async (c) => {
        if (c.auth.mode === 'oidc') {
          const fresh = await oidcCompleteSignIn(c.auth);
          if (fresh) setToken(fresh);
        }
        setConfig(c);
      })
      .catch(setFatal);
  }, []);

  const chooseLang = (l: Lang) => {
    rememberLang(localStorage, l);
    setLang(l);
  };
  const signOut = () => {
    forgetToken();
    setToken(undefined);
    location.hash = '';
  };

  const header = (signedIn?: { me: Me; orgName: string }) => (
    <header class="top">
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        {t.skipToContent}
      </a>
      <div class="brand">
        <span class="logo" aria-hidden="true">
          ◐
        </span>{' '}
        {t.appName}
        <span class="tagline">{t.appTagline}</span>
      </div>
      <div class="tools">
        <label class="lang">
          {t.language}{' '}
          <select value={lang} onChange={(e) => chooseLang((e.target as HTMLSelectElement).value as Lang)}>
            {LANGS.map((l) => (
              <option value={l.id} lang={l.id}>
                {l.label}
              </option>
            ))}
          </select>
        </label>
        {signedIn && (
          <>
            <span class="who">{t.signedInAs(signedIn.me.displayName, signedIn.orgName)}</span>
            <button class="secondary" onClick={signOut}>
              {t.signOut}
            </button>
          </>
        )}
      </div>
    </header>
  );

  if (fatal || !config) return beforeScreens(header(), t, lang, fatal);
  if (!token)
    return (
      <>
        {header()}
        <SignIn t={t} config={config} onToken={(tk) => (saveToken(tk), setToken(tk))} />
      </>
    );
  return <SignedIn key={token} t={t} lang={lang} config={config} token={token} header={header} onSignedOut={signOut} />;
}

const SESSION_ENDED = 'offboard.sessionEnded';

function SignIn({ t, config, onToken }: { t: Dictionary; config: ConsoleConfig; onToken: (token: string) => void }) {
  const [ended] = useState(() => sessionStorage.getItem(SESSION_ENDED) === '1');
  useEffect(() => sessionStorage.removeItem(SESSION_ENDED), []);
  const [users, setUsers] = useState<LocalUser[]>();
  const [error, setError] = useState<unknown>();
  const h1 = useRef<HTMLHeadingElement>(null);
  useEffect(() => h1.current?.focus(), []);
  useEffect(() => {
    if (config.auth.mode === 'local') localUsers().then(setUsers).catch(setError);
  }, []);
  const auth = config.auth;
  const groups = useMemo(() => {
    const m = new Map<string, LocalUser[]>();
    for (const u of users ?? []) {
      const k = u.operator ? t.roleOperator : (u.organizationName ?? t.noOrganization);
      m.set(k, [...(m.get(k) ?? []), u]);
    }
    return [...m];
  }, [users, t]);
  return (
    <main id="main" tabIndex={-1} class="signin">
      <h1 ref={h1} tabIndex={-1}>
        {t.signInTitle}
      </h1>
      {ended && (
        <p class="panel warning session-ended" role="status">
          {t.staleSession}
        </p>
      )}
      {error !== undefined && <ErrorPanel t={t} error={error} />}
      {auth.mode === 'oidc' ? (
        <>
          <p>{t.signInOidcIntro}</p>
          <button onClick={() => oidcSignIn(auth).catch(setError)}>{t.signInOidcButton}</button>
        </>
      ) : (
        <>
          <p>{t.signInLocalIntro}</p>
          {!users && !error && <p role="status">{t.loading}</p>}
          <div class="user-groups">
            {groups.map(([group, list]) => (
              <section class="card" aria-label={group}>
                <h2>{group}</h2>
                <ul class="plain">
                  {list.map((u) => (
                    <li>
                      <button class="user-choice" data-user={u.userId} onClick={() => localSignIn(u).then(onToken, setError)}>
                        <span class="name">{u.displayName}</span>
                        <span class="meta">
                          {u.userId} · {u.operator ? t.roleOperator : u.role === 'admin' ? t.roleAdmin : t.roleMember}
                        </span>
                      </button>
                    </li>
                  ))}
                </ul>
              </section>
            ))}
          </div>
        </>
      )}
    </main>
  );
}

function SignedIn(props: {
  t: Dictionary;
  lang: Lang;
  config: ConsoleConfig;
  token: string;
  header: (s?: { me: Me; orgName: string }) => preact.JSX.Element;
  onSignedOut: () => void;
}) {
  const { t, lang, config, token, header, onSignedOut } = props;
  // a 401 (the token expired, or the local stack was restarted with a new key) signs out, and the sign-in page says why
  const api = useMemo(
    () =>
      new Api(
        config.apiUrl.replace(/\/$/, ''),
        () => token,
        () => (sessionStorage.setItem(SESSION_ENDED, '1'), onSignedOut()),
      ),
    [token],
  );
  const [me, setMe] = useState<Me>();
  const [organizations, setOrganizations] = useState<Organization[]>([]);
  const [error, setError] = useState<unknown>();
  const hash = useHash();

  useEffect(() => {
    Promise.all([
      api.me(),
      api.organizations().catch((e) => (e instanceof ApiError && e.status === 403 ? { organizations: [] } : Promise.reject(e))),
    ])
      .then(([m, o]) => {
        setOrganizations(o.organizations);
        setMe(m);
      })
      .catch(setError);
  }, [api]);

  if (error || !me) return beforeScreens(header(), t, lang, error);

  const orgNames = Object.fromEntries(organizations.map((o) => [o.id, o.name]));
  const ctx: AppContext = { t, lang, api, me, orgNames, organizations, navigate: (h) => void (location.hash = h) };
  const [, screen = '', id = ''] = hash.split('/').map(decodeURIComponent);
  const home = me.administers.length ? 'organization' : me.operator ? 'billing-runs' : 'organization';
  const current = screen || home;
  const nav = [
    { id: 'organization', label: t.navOrganization, show: me.administers.length > 0 || !me.operator },
    { id: 'requests', label: t.navRequests, show: me.administers.length > 0 },
    { id: 'billing-runs', label: t.navOperators, show: me.operator },
  ].filter((n) => n.show);

  return (
    <Ctx.Provider value={ctx}>
      {header({
        me,
        orgName: me.organizationId ? (orgNames[me.organizationId] ?? me.organizationId) : me.operator ? t.roleOperator : t.noOrganization,
      })}
      <nav class="tabs" aria-label={t.mainNavigation}>
        {nav.map((n) => (
          <a href={`#/${n.id}`} aria-current={current === n.id ? 'page' : undefined}>
            {n.label}
          </a>
        ))}
      </nav>
      <main id="main" tabIndex={-1}>
        {current === 'organization' && <OrganizationScreen />}
        {current === 'preview' && <PreviewScreen key={id} id={id} />}
        {current === 'requests' && <RequestsScreen />}
        {current === 'operations' && <OperationScreen key={id} id={id} />}
        {current === 'billing-runs' && <BillingRunsScreen />}
      </main>
    </Ctx.Provider>
  );
}
