// Log in with a user name and password (OpenPAI's basic login).
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, errorText, setSession } from '../api';
import { useTitle } from '../ui';

export function Login() {
  useTitle('Log in');
  const { query, route } = useLocation();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const r = await api<{ user: string; token: string; admin: boolean }>('POST', '/api/v2/authn/basic/login', {
        body: { username, password },
      });
      setSession({ user: r.user, token: r.token, admin: !!r.admin });
      const next = query.next && query.next.startsWith('/') && !query.next.startsWith('//') ? query.next : '/';
      route(next.startsWith('/login') ? '/' : next, true);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="login">
      <div class="login-card">
        <h1>
          <img src="/favicon.svg" alt="" width={28} height={28} /> Gantry
        </h1>
        <p class="muted">Sign in to submit and watch jobs on this cluster.</p>
        <form onSubmit={submit}>
          <div class="field">
            <label for="login-user">User name</label>
            <input
              id="login-user"
              name="username"
              autoComplete="username"
              required
              autoFocus
              value={username}
              onInput={(e) => setUsername(e.currentTarget.value)}
            />
          </div>
          <div class="field">
            <label for="login-password">Password</label>
            <input
              id="login-password"
              name="password"
              type="password"
              autoComplete="current-password"
              required
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
            />
          </div>
          {error && (
            <p class="error-box" role="alert">
              {error}
            </p>
          )}
          <button type="submit" class="primary wide" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
      </div>
    </section>
  );
}
