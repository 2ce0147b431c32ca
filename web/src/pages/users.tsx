// Administration: users (create, edit, admin flag, virtual clusters, delete).
import { useState } from 'preact/hooks';
import { api, errorText, get, getSession, type User, type VC } from '../api';
import { ActionButton, ErrorBox, Field, Modal, PageHeader, Show, confirmAction, notify, notifyError, useLoad, useTitle } from '../ui';

function VcChecks({ all, value, onChange, idp }: { all: string[]; value: string[]; onChange: (v: string[]) => void; idp: string }) {
  return (
    <fieldset class="group">
      <legend>Virtual clusters</legend>
      {all.length === 0 && <p class="muted small">None defined.</p>}
      {all.map((vc) => (
        <label key={vc} class="check" for={`${idp}-${vc}`}>
          <input
            id={`${idp}-${vc}`}
            type="checkbox"
            checked={value.includes(vc)}
            disabled={vc === 'default'}
            onChange={(e) => onChange(e.currentTarget.checked ? [...value, vc] : value.filter((v) => v !== vc))}
          />{' '}
          {vc}
          {vc === 'default' && <small class="muted"> (everyone)</small>}
        </label>
      ))}
    </fieldset>
  );
}

interface Draft {
  username: string;
  password: string;
  email: string;
  admin: boolean;
  vcs: string[];
}

function UserDialog({ user, vcs, onClose, onDone }: { user: User | null; vcs: string[]; onClose: () => void; onDone: () => void }) {
  const creating = !user;
  const [d, setD] = useState<Draft>(
    user
      ? { username: user.username, password: '', email: user.email, admin: user.admin, vcs: user.virtualCluster }
      : { username: '', password: '', email: '', admin: false, vcs: ['default'] },
  );
  const [err, setErr] = useState('');
  const [busy, setBusy] = useState(false);
  const set = (p: Partial<Draft>) => setD({ ...d, ...p });
  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr('');
    try {
      if (creating) {
        await api('POST', '/api/v2/users', {
          body: { username: d.username, password: d.password, email: d.email, admin: d.admin, virtualCluster: d.vcs },
        });
        notify('ok', `User ${d.username} created.`);
      } else {
        const u = `/api/v2/users/${encodeURIComponent(user.username)}`;
        const done: string[] = [];
        if (d.email !== user.email) {
          await api('PUT', `${u}/email`, { body: { email: d.email } });
          done.push('email');
        }
        if (d.password) {
          await api('PUT', `${u}/password`, { body: { newPassword: d.password } });
          done.push('password');
        }
        // an admin uses every VC and the server refuses to set an admin's:
        // change them while the user is not one
        const vcsChanged = [...d.vcs].sort().join() !== [...user.virtualCluster].sort().join();
        const setVcs = async () => {
          await api('PUT', `${u}/virtualcluster`, { body: { virtualCluster: d.vcs } });
          done.push('virtual clusters');
        };
        if (vcsChanged && !user.admin) await setVcs();
        if (d.admin !== user.admin) {
          await api('PUT', `${u}/admin`, { body: { admin: d.admin } });
          done.push('admin flag');
        }
        if (vcsChanged && user.admin && !d.admin) await setVcs();
        notify('ok', done.length ? `User ${user.username}: updated ${done.join(', ')}.` : 'Nothing changed.');
      }
      onDone();
    } catch (e2) {
      setErr(errorText(e2));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal title={creating ? 'Create user' : `Edit ${user.username}`} onClose={onClose}>
      <form onSubmit={save} class="modal-body">
        {creating && (
          <Field id="u-name" label="User name" hint="letters, digits, _ . -">
            <input id="u-name" required pattern="[\w.\-]+" autoComplete="off" value={d.username} onInput={(e) => set({ username: e.currentTarget.value })} />
          </Field>
        )}
        <Field id="u-password" label={creating ? 'Password' : 'New password'} hint={creating ? 'at least 6 characters' : 'leave empty to keep it; setting it logs the user out everywhere'}>
          <input id="u-password" type="password" autoComplete="new-password" required={creating} minLength={6} value={d.password} onInput={(e) => set({ password: e.currentTarget.value })} />
        </Field>
        <Field id="u-email" label="Email">
          <input id="u-email" type="text" inputMode="email" autoComplete="email" spellcheck={false} value={d.email} onInput={(e) => set({ email: e.currentTarget.value })} />
        </Field>
        <label class="check" for="u-admin">
          <input id="u-admin" type="checkbox" checked={d.admin} onChange={(e) => set({ admin: e.currentTarget.checked })} /> Administrator
        </label>
        {d.admin && user?.admin ? (
          <p class="muted small">Administrators use every virtual cluster.</p>
        ) : (
          <VcChecks all={vcs} value={d.vcs} onChange={(v) => set({ vcs: v })} idp="u-vc" />
        )}
        {err && (
          <p class="error-box" role="alert">
            {err}
          </p>
        )}
        <footer>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={busy}>
            {creating ? 'Create' : 'Save'}
          </button>
        </footer>
      </form>
    </Modal>
  );
}

export function Users() {
  useTitle('Users');
  const me = getSession();
  const users = useLoad((s) => get<User[]>('/api/v2/users', s), []);
  const vcs = useLoad((s) => get<Record<string, VC>>('/api/v2/virtual-clusters', s), []);
  const [editing, setEditing] = useState<User | null | 'new'>(null);
  const [filter, setFilter] = useState('');
  if (!me?.admin)
    return (
      <>
        <PageHeader title="Users" />
        <ErrorBox error="Only administrators manage users." />
      </>
    );
  const allVcs = Object.keys(vcs.data || {});
  return (
    <>
      <PageHeader title="Users">
        <button type="button" class="primary" onClick={() => setEditing('new')}>
          Create user
        </button>
      </PageHeader>
      <div class="filters">
        <div class="field">
          <label for="u-filter">Filter</label>
          <input id="u-filter" type="search" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} placeholder="name, email, VC" />
        </div>
      </div>
      <Show load={users} empty={(d) => d.length === 0 && 'No users.'}>
        {(list) => {
          const f = filter.toLowerCase();
          const shown = list.filter((u) => !f || [u.username, u.email, ...u.virtualCluster].some((x) => x.toLowerCase().includes(f)));
          return (
            <div class="table-wrap">
              <table class="table">
                <thead>
                  <tr>
                    <th scope="col">User name</th>
                    <th scope="col">Email</th>
                    <th scope="col">Admin</th>
                    <th scope="col">Virtual clusters</th>
                    <th scope="col">Groups</th>
                    <th scope="col">
                      <span class="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {shown.map((u) => (
                    <tr key={u.username} data-user={u.username}>
                      <th scope="row">{u.username}</th>
                      <td>{u.email || '–'}</td>
                      <td>{u.admin ? 'yes' : 'no'}</td>
                      <td class="may-wrap">{u.virtualCluster.join(', ') || '–'}</td>
                      <td class="may-wrap">{u.grouplist.join(', ')}</td>
                      <td class="actions-cell">
                        <button type="button" class="small" aria-label={`Edit ${u.username}`} onClick={() => setEditing(u)}>
                          Edit
                        </button>
                        {u.username !== me.user && (
                          <ActionButton
                            class="small danger"
                            label={`Delete ${u.username}`}
                            run={async () => {
                              if (!(await confirmAction(`Delete user ${u.username}?`, 'Their tokens stop working; their jobs stay.', 'Delete'))) return;
                              try {
                                await api('DELETE', `/api/v2/users/${encodeURIComponent(u.username)}`);
                                notify('ok', `User ${u.username} deleted.`);
                                users.reload();
                              } catch (e) {
                                notifyError(`Cannot delete ${u.username}`, e);
                              }
                            }}
                          >
                            Delete
                          </ActionButton>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          );
        }}
      </Show>
      {editing && (
        <UserDialog
          user={editing === 'new' ? null : editing}
          vcs={allVcs}
          onClose={() => setEditing(null)}
          onDone={() => {
            setEditing(null);
            users.reload();
          }}
        />
      )}
    </>
  );
}
