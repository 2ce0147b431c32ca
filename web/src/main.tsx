// Gantry's web portal: the layout, the navigation and the routes.
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ErrorBoundary, LocationProvider, Route, Router, lazy, useLocation } from 'preact-iso';
import { api, getSession, onSessionChange, setSession, type Session } from './api';
import { ConfirmHost, Loading, Toasts } from './ui';
import { Login } from './pages/login';
import { Home } from './pages/home';
import { Jobs } from './pages/jobs';
import { JobDetail } from './pages/job';
import { VirtualClusters } from './pages/vcs';
import { Nodes } from './pages/nodes';
import { Users } from './pages/users';
import { Groups } from './pages/groups';
import { Profile } from './pages/profile';
import './style.css';

// The submit page brings the YAML editor (CodeMirror) and parser: loaded on demand.
const Submit = lazy(() => import('./pages/submit').then((m) => m.Submit));

export function useSession(): Session | null {
  const [s, set] = useState(getSession());
  useEffect(() => onSessionChange(() => set(getSession())), []);
  return s;
}

const NAV: { href: string; label: string; admin?: boolean }[] = [
  { href: '/', label: 'Home' },
  { href: '/jobs', label: 'Jobs' },
  { href: '/submit', label: 'Submit job' },
  { href: '/virtual-clusters', label: 'Virtual clusters' },
  { href: '/cluster', label: 'Cluster' },
  { href: '/admin/users', label: 'Users', admin: true },
  { href: '/admin/groups', label: 'Groups', admin: true },
  { href: '/profile', label: 'Profile' },
];

function isCurrent(href: string, path: string) {
  return href === '/' ? path === '/' : path === href || path.startsWith(`${href}/`);
}

function Nav({ session, path }: { session: Session; path: string }) {
  const [open, setOpen] = useState(false);
  useEffect(() => setOpen(false), [path]);
  const logout = async () => {
    try {
      await api('DELETE', '/api/v2/authn/basic/logout');
    } catch {
      /* the token may be gone already: forget it anyway */
    }
    setSession(null);
  };
  return (
    <header class="topbar">
      <a class="brand" href="/">
        <img src="/favicon.svg" alt="" width={22} height={22} /> Gantry
      </a>
      <button
        type="button"
        class="menu-toggle"
        aria-expanded={open}
        aria-controls="nav"
        onClick={() => setOpen(!open)}
      >
        Menu
      </button>
      <nav id="nav" class={open ? 'open' : ''} aria-label="Main">
        <ul>
          {NAV.filter((n) => !n.admin || session.admin).map((n) => (
            <li key={n.href}>
              <a href={n.href} aria-current={isCurrent(n.href, path) ? 'page' : undefined}>
                {n.label}
              </a>
            </li>
          ))}
        </ul>
        <div class="who">
          <span title={session.admin ? 'administrator' : 'user'}>
            {session.user}
            {session.admin && <span class="tag">admin</span>}
          </span>
          <button type="button" class="link" onClick={logout}>
            Log out
          </button>
        </div>
      </nav>
    </header>
  );
}

// OpenPAI's page addresses still work (bookmarks, links in old mails).
function openpaiAlias(path: string, query: Record<string, string>): string | null {
  switch (path) {
    case '/index.html':
    case '/home.html':
      return '/';
    case '/job-list.html':
      return '/jobs';
    case '/submit.html':
      return '/submit';
    case '/job-detail.html':
      return query.username && query.jobName ? `/jobs/${query.username}~${query.jobName}` : '/jobs';
    case '/virtual-clusters.html':
      return '/virtual-clusters';
    case '/cluster-view/hardware.html':
      return '/cluster';
    case '/user-view.html':
      return '/admin/users';
    case '/user-profile.html':
      return '/profile';
  }
  return null;
}

function NotFound() {
  const { path, query, route } = useLocation();
  const alias = openpaiAlias(path, query);
  useEffect(() => {
    if (alias) route(alias, true);
  }, [alias]);
  if (alias) return <Loading />;
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        There is no page at <code>{path}</code>. <a href="/">Go home</a> or see <a href="/jobs">the jobs</a>.
      </p>
    </section>
  );
}

function Shell() {
  const session = useSession();
  const { path, url, route } = useLocation();
  const onLogin = path === '/login';

  useEffect(() => {
    if (!session && !onLogin) route(`/login?next=${encodeURIComponent(url)}`, true);
  }, [session, onLogin]);
  // after a navigation (not the first load), focus moves to the new page
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    document.getElementById('main')?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }, [path]);

  if (!session && !onLogin) return null;
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      {session && !onLogin && <Nav session={session} path={path} />}
      <main id="main" tabIndex={-1} class={onLogin ? 'main login-main' : 'main'}>
        <ErrorBoundary>
          <Router>
            <Route path="/login" component={Login} />
            <Route path="/" component={Home} />
            <Route path="/jobs" component={Jobs} />
            <Route path="/jobs/:id" component={JobDetail} />
            <Route path="/submit" component={Submit} />
            <Route path="/virtual-clusters" component={VirtualClusters} />
            <Route path="/cluster" component={Nodes} />
            <Route path="/admin/users" component={Users} />
            <Route path="/admin/groups" component={Groups} />
            <Route path="/profile" component={Profile} />
            <Route default component={NotFound} />
          </Router>
        </ErrorBoundary>
      </main>
      <Toasts />
      <ConfirmHost />
    </>
  );
}

render(
  <LocationProvider>
    <Shell />
  </LocationProvider>,
  document.getElementById('app')!,
);
