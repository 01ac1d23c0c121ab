import { useEffect, useState } from 'preact/hooks';
import { ApiError, type Member, type PreviewAnswer } from '../api.js';
import { ErrorPanel, Title } from '../components.js';
import { useApp } from '../context.js';
import { personName, planLabel } from '../describe.js';
import { rememberPreview, type PreviewAsked } from './preview.js';

/** My organization: its members, paged and searchable; pick one to preview a transfer or a deletion. */
export function OrganizationScreen() {
  const { t, lang, api, me, orgNames, organizations } = useApp();
  const [org, setOrg] = useState(me.administers[0] ?? me.organizationId ?? '');
  const [q, setQ] = useState('');
  const [members, setMembers] = useState<Member[]>();
  const [cursor, setCursor] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [chosen, setChosen] = useState<Member>();

  const load = async (query: string, after?: string) => {
    setError(undefined);
    try {
      const page = await api.members(org, query, after);
      setMembers((m) => (after ? [...(m ?? []), ...page.members] : page.members));
      setCursor(page.nextCursor);
    } catch (e) {
      setError(e);
    }
  };
  useEffect(() => {
    if (org && me.administers.includes(org)) void load('');
  }, [org]);

  const plan = organizations.find((o) => o.id === org)?.plan;
  return (
    <>
      <Title>
        {t.orgTitle}
        {org ? `: ${orgNames[org] ?? org}` : ''}
      </Title>
      {me.administers.length === 0 && <p>{t.orgNotAdmin}</p>}
      {me.administers.length > 1 && (
        <label class="field">
          {t.orgChoose}
          <select value={org} onChange={(e) => (setOrg((e.target as HTMLSelectElement).value), setChosen(undefined))}>
            {me.administers.map((o) => (
              <option value={o}>{orgNames[o] ?? o}</option>
            ))}
          </select>
        </label>
      )}
      {plan && (
        <p class="muted">
          {t.plan}: {planLabel(t, plan)}
        </p>
      )}
      {org && me.administers.includes(org) && <GraceSettings org={org} />}
      {me.administers.length > 0 && (
        <div class="org-layout">
          <section class="card" aria-labelledby="members-title">
            <h2 id="members-title">{t.membersTitle}</h2>
            <form role="search" class="search" onSubmit={(e) => (e.preventDefault(), void load(q))}>
              <label for="member-search">{t.membersSearch}</label>
              <div class="row">
                <input id="member-search" type="search" value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
                <button type="submit">{t.membersSearchButton}</button>
              </div>
            </form>
            {error !== undefined && <ErrorPanel t={t} lang={lang} error={error} />}
            {members === undefined && error === undefined && <p role="status">{t.loading}</p>}
            {members?.length === 0 && <p>{t.membersNone}</p>}
            {members && members.length > 0 && (
              <table class="members">
                <thead>
                  <tr>
                    <th scope="col">{t.memberName}</th>
                    <th scope="col">{t.memberId}</th>
                    <th scope="col">{t.memberRole}</th>
                    <th scope="col">{t.memberStatus}</th>
                    <th scope="col">
                      <span class="sr-only">{t.memberActions}</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {members.map((m) => (
                    <tr class={chosen?.userId === m.userId ? 'chosen' : undefined}>
                      <td>{personName(t, m, m.displayName)}</td>
                      <td class="mono">{m.userId}</td>
                      <td>{m.role === 'admin' ? t.roleAdmin : t.roleMember}</td>
                      <td>{m.status === 'deleted' ? t.statusDeleted : t.statusActive}</td>
                      <td>
                        {m.status === 'deleted' ? (
                          <span class="muted">{t.memberAlreadyDeleted}</span> // nothing can be done with a deleted user (D1, T5)
                        ) : (
                          <button class="secondary small" onClick={() => setChosen(m)} aria-pressed={chosen?.userId === m.userId}>
                            {t.memberChoose(m.displayName)}
                          </button>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            {cursor && (
              <button class="more" onClick={() => void load(q, cursor)}>
                {t.membersMore}
              </button>
            )}
          </section>
          {chosen && <ChosenMember key={chosen.userId} member={chosen} org={org} />}
        </div>
      )}
    </>
  );
}

function ChosenMember({ member, org }: { member: Member; org: string }) {
  const { t, lang, api, organizations, navigate } = useApp();
  const destinations = organizations.filter((o) => o.id !== org);
  // T1: a free plan never receives a transfer, so it is shown but cannot be chosen
  const refuses = (o: { plan: string }) => o.plan === 'free';
  const [dest, setDest] = useState(destinations.find((o) => !refuses(o))?.id ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const heading = (el: HTMLHeadingElement | null) => el?.focus();

  const run = async (p: () => Promise<PreviewAnswer>, what: Omit<PreviewAsked, 'userName'>) => {
    setBusy(true);
    setError(undefined);
    try {
      // 200 Impact, or 202 `planning` (CONTRACT.md): the preview screen reads it until its impact is there
      const answer = await p();
      rememberPreview(answer, { userName: member.displayName, ...what });
      navigate(`#/preview/${encodeURIComponent(answer.id ?? '')}`);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card chosen-panel" aria-labelledby="chosen-title">
      <h2 id="chosen-title" ref={heading} tabIndex={-1}>
        {t.chosenTitle(member.displayName)}
      </h2>
      <div class="field">
        <label for="destination">{t.destination}</label>
        <select id="destination" value={dest} onChange={(e) => setDest((e.target as HTMLSelectElement).value)}>
          {destinations.map((o) => (
            <option value={o.id} disabled={refuses(o)}>
              {refuses(o) ? t.destinationFreeOption(o.name, planLabel(t, o.plan)) : t.destinationOption(o.name, planLabel(t, o.plan))}
            </option>
          ))}
        </select>
      </div>
      <div class="actions">
        <button
          disabled={busy || !dest}
          onClick={() => run(() => api.previewTransfer(member.userId, dest), { operation: 'transfer', destinationOrganizationId: dest })}
        >
          {t.previewTransfer}
        </button>
        <button
          class="danger-outline"
          disabled={busy}
          onClick={() => run(() => api.previewDeletion(member.userId), { operation: 'deletion' })}
        >
          {t.previewDeletion}
        </button>
      </div>
      {busy && <p role="status">{t.loading}</p>}
      {error !== undefined && <ErrorPanel t={t} lang={lang} error={error} />}
    </section>
  );
}

/** D7: the organization's deletion grace period (0–30 days), shown and changed by its administrators. */
function GraceSettings({ org }: { org: string }) {
  const { t, lang, api } = useApp();
  const [days, setDays] = useState<string>();
  const [saved, setSaved] = useState<number>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    setError(undefined);
    api.settings(org).then((s) => (setDays(String(s.deletionGraceDays)), setSaved(s.deletionGraceDays)), setError);
  }, [org]);
  const atField = error instanceof ApiError && error.body.code === 'invalid-request' && error.body.path === 'deletionGraceDays';
  const save = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    try {
      // the API checks the value (an integer 0–30) and names the field when it refuses
      const s = await api.saveSettings(org, days === undefined || days.trim() === '' ? Number.NaN : Number(days));
      setSaved(s.deletionGraceDays);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section class="card" aria-labelledby="grace-title">
      <h2 id="grace-title">{t.graceTitle}</h2>
      <p class="muted">{t.graceExplain}</p>
      <form class="row" onSubmit={save} noValidate>
        <label for="grace-days">{t.graceDays}</label>
        <input
          id="grace-days"
          type="number"
          min={0}
          max={30}
          step={1}
          value={days ?? ''}
          onInput={(ev) => setDays((ev.target as HTMLInputElement).value)}
          aria-invalid={atField ? 'true' : undefined}
          aria-describedby={atField ? 'grace-days-error' : undefined}
        />
        <button type="submit">{t.graceSave}</button>
      </form>
      {/* the API names the refused field (`path`): the problem is said there, in words */}
      {atField && (
        <p id="grace-days-error" class="field-error" role="alert">
          {t.graceInvalid}
        </p>
      )}
      {saved !== undefined && <p role="status">{t.graceCurrent(saved)}</p>}
      {error !== undefined && !atField && <ErrorPanel t={t} lang={lang} error={error} />}
    </section>
  );
}
