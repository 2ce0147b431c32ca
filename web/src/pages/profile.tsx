// Profile, for everyone: who I am, email, password, my tokens.
import { useEffect, useState } from 'preact/hooks';
import { api, errorText, get, getSession, setSession, type User } from '../api';
import { ActionButton, Field, PageHeader, Show, confirmAction, notify, notifyError, useLoad, useTitle } from '../ui';

/** sha256:<hex> of a token, as GET /api/v2/tokens names it (needs a secure context). */
async function handleOf(token: string): Promise<string | null> {
  if (!window.crypto?.subtle) return null;
  const h = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token));
  return `sha256:${[...new Uint8Array(h)].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

function Password({ user, onChanged }: { user: string; onChanged: () => void }) {
  const [old, setOld] = useState('');
  const [pw, setPw] = useState('');
  const [again, setAgain] = useState('');
  const [err, setErr] = useState('');
  const save = async (e: Event) => {
    e.preventDefault();
    setErr('');
    if (pw !== again) return setErr('The two new passwords differ.');
    try {
      await api('PUT', `/api/v2/users/${encodeURIComponent(user)}/password`, { body: { oldPassword: old, newPassword: pw } });
      // a new password ends every login session, this one too (application
      // tokens stay valid): log in again with it
      const r = await api<{ user: string; token: string; admin: boolean }>('POST', '/api/v2/authn/basic/login', {
        body: { username: user, password: pw },
      });
      setSession({ user: r.user, token: r.token, admin: !!r.admin });
      setOld('');
      setPw('');
      setAgain('');
      notify('ok', 'Password changed. Your other login sessions (browsers, gantry login) were logged out; application tokens still work: revoke them under Tokens if needed.');
      onChanged();
    } catch (e2) {
      setErr(errorText(e2));
    }
  };
  return (
    <form onSubmit={save} class="card narrow" aria-labelledby="h-pw">
      <h2 id="h-pw">Change password</h2>
      <Field id="pw-old" label="Current password">
        <input id="pw-old" type="password" autoComplete="current-password" required value={old} onInput={(e) => setOld(e.currentTarget.value)} />
      </Field>
      <Field id="pw-new" label="New password" hint="at least 6 characters">
        <input id="pw-new" type="password" autoComplete="new-password" required minLength={6} value={pw} onInput={(e) => setPw(e.currentTarget.value)} />
      </Field>
      <Field id="pw-again" label="New password again">
        <input id="pw-again" type="password" autoComplete="new-password" required minLength={6} value={again} onInput={(e) => setAgain(e.currentTarget.value)} />
      </Field>
      {err && (
        <p class="error-box" role="alert">
          {err}
        </p>
      )}
      <button type="submit" class="primary">
        Change password
      </button>
    </form>
  );
}

/** The user's tokens; `generation` changes when they may have (a new password ends the login sessions). */
function Tokens({ generation }: { generation: number }) {
  const tokens = useLoad((s) => get<{ tokens: string[] }>('/api/v2/tokens', s), [generation]);
  const [mine, setMine] = useState<string | null>(null);
  const [fresh, setFresh] = useState('');
  useEffect(() => {
    const t = getSession()?.token;
    if (t) handleOf(t).then(setMine, () => setMine(null));
  }, [generation]);
  return (
    <section class="card" aria-labelledby="h-tokens" id="tokens">
      <h2 id="h-tokens">Tokens</h2>
      <p class="muted small">
        Browser and CLI logins last 7 days. Application tokens never expire: give them to scripts and tools (the OpenPAI SDK, the VS Code extension),
        and revoke them here. The server keeps only a hash of each token, so a token is shown once, when it is created.
      </p>
      <div class="toolbar">
        <ActionButton
          class="primary"
          run={async () => {
            try {
              const r = await api<{ token: string }>('POST', '/api/v2/tokens/application');
              setFresh(r.token);
              notify('ok', 'Application token created.');
              tokens.reload();
            } catch (e) {
              notifyError('Cannot create a token', e);
            }
          }}
        >
          Create application token
        </ActionButton>
      </div>
      {fresh && (
        <div class="note" role="status">
          <label for="fresh-token">New application token (copy it now: it is not shown again)</label>
          <div class="row">
            <input id="fresh-token" readOnly value={fresh} onFocus={(e) => e.currentTarget.select()} class="mono" />
            <button
              type="button"
              class="small"
              onClick={() =>
                navigator.clipboard?.writeText(fresh).then(
                  () => notify('ok', 'Copied.'),
                  () => notify('error', 'Copy failed: select the token and copy it.'),
                )
              }
            >
              Copy
            </button>
          </div>
        </div>
      )}
      <Show load={tokens} empty={(d) => d.tokens.length === 0 && 'No tokens.'}>
        {(d) => (
          <ul class="tokens">
            {d.tokens.map((h) => (
              <li key={h}>
                <code title={h}>{h.slice(0, 22)}…</code>
                {h === mine && <span class="tag">this session</span>}
                <ActionButton
                  class="small danger"
                  label={`Revoke token ${h.slice(7, 19)}`}
                  run={async () => {
                    const self = h === mine;
                    if (!(await confirmAction('Revoke this token?', self ? 'It is the one this browser uses: you will be logged out.' : 'Whatever uses it stops working.', 'Revoke'))) return;
                    try {
                      await api('DELETE', `/api/v2/tokens/${encodeURIComponent(h)}`);
                      notify('ok', 'Token revoked.');
                      if (self) setSession(null);
                      else tokens.reload();
                    } catch (e) {
                      notifyError('Cannot revoke the token', e);
                    }
                  }}
                >
                  Revoke
                </ActionButton>
              </li>
            ))}
          </ul>
        )}
      </Show>
    </section>
  );
}

export function Profile() {
  useTitle('Profile');
  const me = getSession()?.user || '';
  const user = useLoad((s) => get<User>(`/api/v2/users/${encodeURIComponent(me)}`, s), [me]);
  const [email, setEmail] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);
  return (
    <>
      <PageHeader title="Profile" />
      <Show load={user}>
        {(u) => (
          <section class="card" aria-label="Account">
            <dl class="facts">
              <dt>User name</dt>
              <dd>{u.username}</dd>
              <dt>Role</dt>
              <dd>{u.admin ? 'administrator' : 'user'}</dd>
              <dt>Virtual clusters</dt>
              <dd>{u.virtualCluster.join(', ') || '–'}</dd>
              <dt>Groups</dt>
              <dd>{u.grouplist.join(', ') || '–'}</dd>
              <dt>
                <label for="p-email">Email</label>
              </dt>
              <dd>
                <form
                  class="row"
                  onSubmit={async (e) => {
                    e.preventDefault();
                    try {
                      await api('PUT', `/api/v2/users/${encodeURIComponent(me)}/email`, { body: { email: email ?? u.email } });
                      notify('ok', 'Email saved.');
                      user.reload();
                    } catch (e2) {
                      notifyError('Cannot save the email', e2);
                    }
                  }}
                >
                  <input id="p-email" type="text" inputMode="email" autoComplete="email" spellcheck={false} value={email ?? u.email} onInput={(e) => setEmail(e.currentTarget.value)} />
                  <button type="submit" class="small">
                    Save
                  </button>
                </form>
              </dd>
            </dl>
          </section>
        )}
      </Show>
      <div class="grid-2">
        <Password user={me} onChanged={() => setGeneration((g) => g + 1)} />
        <Tokens generation={generation} />
      </div>
    </>
  );
}
