// Administration: groups, which carry rights (admin, virtual clusters).
import { useState } from 'preact/hooks';
import { api, errorText, get, getSession, type Group, type VC } from '../api';
import { ActionButton, ErrorBox, Field, Modal, PageHeader, Show, confirmAction, notify, notifyError, useLoad, useTitle } from '../ui';

function Members({ group }: { group: string }) {
  const list = useLoad((s) => get<{ username: string }[]>(`/api/v2/groups/${encodeURIComponent(group)}/userlist`, s), [group]);
  return (
    <Show load={list} empty={(d) => d.length === 0 && 'No members.'}>
      {(d) => <span>{d.map((u) => u.username).join(', ')}</span>}
    </Show>
  );
}

function CreateGroup({ vcs, onClose, onDone }: { vcs: string[]; onClose: () => void; onDone: () => void }) {
  const [name, setName] = useState('');
  const [desc, setDesc] = useState('');
  const [admin, setAdmin] = useState(false);
  const [sel, setSel] = useState<string[]>([]);
  const [err, setErr] = useState('');
  const save = async (e: Event) => {
    e.preventDefault();
    setErr('');
    try {
      await api('POST', '/api/v2/groups', {
        body: { groupname: name, description: desc, externalName: '', extension: { acls: { admin, virtualClusters: sel, storageConfigs: [] } } },
      });
      notify('ok', `Group ${name} created.`);
      onDone();
    } catch (e2) {
      setErr(errorText(e2));
    }
  };
  return (
    <Modal title="Create group" onClose={onClose}>
      <form class="modal-body" onSubmit={save}>
        <Field id="g-name" label="Group name" hint="letters, digits, _">
          <input id="g-name" required pattern="[A-Za-z0-9_]+" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
        <Field id="g-desc" label="Description">
          <input id="g-desc" value={desc} onInput={(e) => setDesc(e.currentTarget.value)} />
        </Field>
        <label class="check" for="g-admin">
          <input id="g-admin" type="checkbox" checked={admin} onChange={(e) => setAdmin(e.currentTarget.checked)} /> Members are administrators
        </label>
        <fieldset class="group">
          <legend>Grants virtual clusters</legend>
          {vcs.map((v) => (
            <label class="check" key={v} for={`g-vc-${v}`}>
              <input id={`g-vc-${v}`} type="checkbox" checked={sel.includes(v)} onChange={(e) => setSel(e.currentTarget.checked ? [...sel, v] : sel.filter((x) => x !== v))} /> {v}
            </label>
          ))}
        </fieldset>
        {err && (
          <p class="error-box" role="alert">
            {err}
          </p>
        )}
        <footer>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="primary">
            Create
          </button>
        </footer>
      </form>
    </Modal>
  );
}

export function Groups() {
  useTitle('Groups');
  const me = getSession();
  const groups = useLoad((s) => get<Group[]>('/api/v2/groups', s), []);
  const vcs = useLoad((s) => get<Record<string, VC>>('/api/v2/virtual-clusters', s), []);
  const [creating, setCreating] = useState(false);
  const [open, setOpen] = useState<string | null>(null);
  if (!me?.admin)
    return (
      <>
        <PageHeader title="Groups" />
        <ErrorBox error="Only administrators manage groups." />
      </>
    );
  return (
    <>
      <PageHeader title="Groups">
        <button type="button" class="primary" onClick={() => setCreating(true)}>
          Create group
        </button>
      </PageHeader>
      <Show load={groups} empty={(d) => d.length === 0 && 'No groups.'}>
        {(list) => (
          <div class="table-wrap">
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">Group</th>
                  <th scope="col">Description</th>
                  <th scope="col">Admin</th>
                  <th scope="col">Virtual clusters</th>
                  <th scope="col">Members</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.map((g) => (
                  <tr key={g.groupname} data-group={g.groupname}>
                    <th scope="row">{g.groupname}</th>
                    <td class="wrap">{g.description || '–'}</td>
                    <td>{g.extension?.acls?.admin ? 'yes' : 'no'}</td>
                    <td class="may-wrap">{(g.extension?.acls?.virtualClusters || []).join(', ') || '–'}</td>
                    <td>
                      {open === g.groupname ? (
                        <Members group={g.groupname} />
                      ) : (
                        <button type="button" class="small" onClick={() => setOpen(g.groupname)}>
                          Show members
                        </button>
                      )}
                    </td>
                    <td>
                      <ActionButton
                        class="small danger"
                        label={`Delete group ${g.groupname}`}
                        run={async () => {
                          if (!(await confirmAction(`Delete group ${g.groupname}?`, 'Its members lose the rights it grants.', 'Delete'))) return;
                          try {
                            await api('DELETE', `/api/v2/groups/${encodeURIComponent(g.groupname)}`);
                            notify('ok', `Group ${g.groupname} deleted.`);
                            groups.reload();
                          } catch (e) {
                            notifyError(`Cannot delete ${g.groupname}`, e);
                          }
                        }}
                      >
                        Delete
                      </ActionButton>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Show>
      {creating && (
        <CreateGroup
          vcs={Object.keys(vcs.data || {})}
          onClose={() => setCreating(false)}
          onDone={() => {
            setCreating(false);
            groups.reload();
          }}
        />
      )}
    </>
  );
}
