// Submit a job: a form and a YAML editor, switchable both ways; the server's
// validation errors shown at their line; import/export; clone from a job.
import { useEffect, useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { parse as parseYaml, parseDocument, stringify } from 'yaml';
import type { EditorView } from '@codemirror/view';
import { ApiError, api, errorText, get, getSession, jobPath, onSessionExpired, type User, type VC } from '../api';
import { createEditor, goTo, setText as setEditorText, showErrors, type LineError } from '../editor';
import { type Doc, type FormJob, type KV, type Role, type Sku, NAME_RE, docToForm, duplicateRoles, formToDoc, newJob, newRole } from '../jobspec';
import { ErrorBox, Field, Loading, PageHeader, notify, useTitle } from '../ui';
import { download } from '../util';

type Mode = 'form' | 'yaml';

const DRAFT = 'gantry.submit.draft';
interface Draft {
  user: string;
  mode: Mode;
  text: string;
  form: FormJob;
  base: Doc;
  formEdited: boolean;
  textEdited: boolean;
}

/** The draft a session that expired on this page kept, if it is this user's (read once). */
function takeDraft(user: string): Draft | null {
  try {
    const raw = sessionStorage.getItem(DRAFT);
    if (!raw) return null;
    sessionStorage.removeItem(DRAFT);
    const d = JSON.parse(raw) as Draft;
    return d && d.user === user && d.form && Array.isArray(d.form.roles) ? d : null;
  } catch {
    return null;
  }
}

const toYaml = (doc: Doc) => stringify(doc, { lineWidth: 0 });

/**
 * The CodeMirror editor. It owns its text: typing goes up through onChange
 * and never comes back down as a prop (a render carrying an older text would
 * undo the newer keystrokes); the page replaces the text only by passing a new
 * `external` (an import, the file a refused submit sent).
 */
function YamlEditor({
  external,
  onChange,
  errors,
  viewRef,
}: {
  external: { text: string };
  onChange: (t: string) => void;
  errors: LineError[];
  viewRef: { current: EditorView | null };
}) {
  const host = useRef<HTMLDivElement>(null);
  const change = useRef(onChange);
  change.current = onChange;
  useEffect(() => {
    const v = createEditor(host.current!, external.text, (t) => change.current(t), 'Job YAML');
    viewRef.current = v;
    return () => {
      v.destroy();
      viewRef.current = null;
    };
  }, []);
  useEffect(() => {
    if (viewRef.current) setEditorText(viewRef.current, external.text);
  }, [external]);
  useEffect(() => {
    if (viewRef.current) showErrors(viewRef.current, errors);
  }, [errors]);
  return <div class="editor" ref={host} />;
}

function KVList({ title, items, onChange, secret, idp }: { title: string; items: KV[]; onChange: (l: KV[]) => void; secret?: boolean; idp: string }) {
  const set = (i: number, patch: Partial<KV>) => onChange(items.map((x, j) => (j === i ? { ...x, ...patch } : x)));
  return (
    <fieldset class="group">
      <legend>{title}</legend>
      {items.length === 0 && <p class="muted small">None.</p>}
      {items.map((kv, i) => (
        <div class="row" key={i}>
          <label class="sr-only" for={`${idp}-k-${i}`}>
            {title} name {i + 1}
          </label>
          <input id={`${idp}-k-${i}`} placeholder="name" value={kv.key} onInput={(e) => set(i, { key: e.currentTarget.value })} />
          <label class="sr-only" for={`${idp}-v-${i}`}>
            {title} value {i + 1}
          </label>
          <input
            id={`${idp}-v-${i}`}
            placeholder="value"
            type={secret ? 'password' : 'text'}
            autoComplete="off"
            value={kv.value}
            onInput={(e) => set(i, { value: e.currentTarget.value })}
          />
          <button type="button" class="small" aria-label={`Remove ${title.toLowerCase()} ${kv.key || i + 1}`} onClick={() => onChange(items.filter((_, j) => j !== i))}>
            Remove
          </button>
        </div>
      ))}
      <button type="button" class="small" onClick={() => onChange([...items, { key: '', value: '' }])}>
        Add {title.toLowerCase().replace(/s$/, '')}
      </button>
    </fieldset>
  );
}

function RoleEditor({ r, i, onChange, onRemove, canRemove }: { r: Role; i: number; onChange: (r: Role) => void; onRemove: () => void; canRemove: boolean }) {
  const id = (f: string) => `role${i}-${f}`;
  const set = (patch: Partial<Role>) => onChange({ ...r, ...patch });
  const numIn = (f: keyof Role, label: string, min: number, hint?: string) => (
    <Field id={id(f)} label={label} hint={hint}>
      <input id={id(f)} type="number" min={min} value={r[f] as number} onInput={(e) => set({ [f]: Number(e.currentTarget.value) } as Partial<Role>)} />
    </Field>
  );
  return (
    <fieldset class="group role">
      <legend>Task role {r.name || i + 1}</legend>
      <div class="form-grid">
        <Field id={id('name')} label="Name" hint="letters, digits, _">
          <input id={id('name')} required pattern="[a-zA-Z0-9_]+" value={r.name} onInput={(e) => set({ name: e.currentTarget.value })} />
        </Field>
        {numIn('instances', 'Instances', 1)}
        <Field id={id('image')} label="Docker image">
          <input id={id('image')} required value={r.image} onInput={(e) => set({ image: e.currentTarget.value })} />
        </Field>
      </div>
      <Field id={id('commands')} label="Commands" hint="one per line; <% $parameters.x %> and $secrets work here">
        <textarea id={id('commands')} rows={4} required value={r.commands} onInput={(e) => set({ commands: e.currentTarget.value })} spellcheck={false} />
      </Field>
      <div class="form-grid">
        {numIn('cpu', 'CPUs', 0)}
        {numIn('memoryMB', 'Memory (MB)', 0)}
        {numIn('gpu', 'GPUs', 0)}
        {numIn('taskRetryCount', 'Task retries', 0)}
        <Field id={id('minFailed')} label="Fail after" hint="failed instances (blank: 1)">
          <input id={id('minFailed')} type="number" min={-1} value={r.minFailed} onInput={(e) => set({ minFailed: e.currentTarget.value })} />
        </Field>
        <Field id={id('minSucceeded')} label="Succeed after" hint="succeeded instances (blank: all)">
          <input id={id('minSucceeded')} type="number" min={-1} value={r.minSucceeded} onInput={(e) => set({ minSucceeded: e.currentTarget.value })} />
        </Field>
      </div>
      <fieldset class="group">
        <legend>Ports</legend>
        {r.ports.map((p, k) => (
          <div class="row" key={k}>
            <label class="sr-only" for={id(`port${k}`)}>
              Port name {k + 1}
            </label>
            <input id={id(`port${k}`)} placeholder="name" value={p.name} onInput={(e) => set({ ports: r.ports.map((x, j) => (j === k ? { ...x, name: e.currentTarget.value } : x)) })} />
            <label class="sr-only" for={id(`portn${k}`)}>
              Port count {k + 1}
            </label>
            <input id={id(`portn${k}`)} type="number" min={1} value={p.count} onInput={(e) => set({ ports: r.ports.map((x, j) => (j === k ? { ...x, count: Number(e.currentTarget.value) } : x)) })} />
            <button type="button" class="small" onClick={() => set({ ports: r.ports.filter((_, j) => j !== k) })}>
              Remove
            </button>
          </div>
        ))}
        <button type="button" class="small" onClick={() => set({ ports: [...r.ports, { name: `port${r.ports.length}`, count: 1 }] })}>
          Add port
        </button>
      </fieldset>
      {canRemove && (
        <button type="button" class="danger small" onClick={onRemove}>
          Remove task role {r.name}
        </button>
      )}
    </fieldset>
  );
}

export function Submit() {
  useTitle('Submit job');
  const { query, route } = useLocation();
  const me = getSession()?.user || '';
  const cloneOf = query.clone || '';

  const [mode, setMode] = useState<Mode>('form');
  const [form, setForm] = useState<FormJob | null>(null);
  // the YAML text: typing updates the ref only (no render per keystroke);
  // setText also hands the editor a replacement
  const text = useRef('');
  const [external, setExternal] = useState({ text: '' });
  const setText = (t: string) => {
    text.current = t;
    setExternal({ text: t });
  };
  const base = useRef<Doc>({});
  const formEdited = useRef(false);
  const textEdited = useRef(false);
  const [errors, setErrors] = useState<LineError[]>([]);
  const [problem, setProblem] = useState('');
  const [loadError, setLoadError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [vcs, setVcs] = useState<string[]>([]);
  const [skus, setSkus] = useState<Record<string, Sku>>({});
  const view = useRef<EditorView | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);

  // a session that expires here keeps what was typed: saved for this tab, and
  // given back when the same user comes back from the login page
  const saveDraft = useRef<() => void>(() => {});
  saveDraft.current = () => {
    if (!form) return;
    const d: Draft = { user: me, mode, text: text.current, form, base: base.current, formEdited: formEdited.current, textEdited: textEdited.current };
    try {
      sessionStorage.setItem(DRAFT, JSON.stringify(d));
    } catch {
      /* storage full or off: nothing to keep it in */
    }
  };
  useEffect(() => onSessionExpired(() => saveDraft.current()), []);

  // what the user may use, and the SKU that sizes a new task role
  useEffect(() => {
    const ctl = new AbortController();
    (async () => {
      const [u, all] = await Promise.all([
        get<User>(`/api/v2/users/${encodeURIComponent(me)}`, ctl.signal).catch(() => null),
        get<Record<string, VC>>('/api/v2/virtual-clusters', ctl.signal).catch(() => ({}) as Record<string, VC>),
      ]);
      const mine = (u?.virtualCluster?.length ? u.virtualCluster : Object.keys(all)).filter((v) => v in all || !Object.keys(all).length);
      setVcs(mine.length ? mine : Object.keys(all));
      const vc = mine.includes('default') ? 'default' : mine[0] || '';
      let sku: Sku | undefined;
      if (vc) {
        const s = await get<Record<string, Sku>>(`/api/v2/virtual-clusters/${encodeURIComponent(vc)}/sku-types`, ctl.signal).catch(() => ({}));
        setSkus(s);
        sku = Object.values(s)[0];
      }
      const draft = takeDraft(me);
      if (draft) {
        base.current = draft.base || {};
        setText(draft.text || '');
        setForm(draft.form);
        formEdited.current = !!draft.formEdited;
        textEdited.current = !!draft.textEdited;
        setMode(draft.mode === 'yaml' ? 'yaml' : 'form');
        notify('ok', 'Your session had ended: the job you were writing is back.');
      } else if (cloneOf) {
        try {
          const yaml = await get<string>(`${jobPath(cloneOf)}/config`, ctl.signal);
          const d = parseDocument(yaml);
          const oldName = String(d.get('name') ?? 'job');
          d.set('name', `${oldName.replace(/_clone_[a-z0-9]{4}$/, '')}_clone_${Math.random().toString(36).slice(2, 6)}`);
          const t = d.toString({ lineWidth: 0 });
          const obj = d.toJS() as Doc;
          base.current = obj;
          setText(t);
          setForm(docToForm(obj));
          if (/\*{4,}/.test(yaml)) notify('error', 'The secrets of the cloned job are masked: enter them again before submitting.');
        } catch (e) {
          setLoadError(e);
        }
      } else {
        setForm(newJob(me, vc, sku));
      }
    })();
    return () => ctl.abort();
  }, [cloneOf]);

  const editForm = (f: FormJob) => {
    formEdited.current = true;
    setErrors([]);
    setForm(f);
  };

  const currentYaml = (): string => {
    if (mode === 'yaml') return text.current;
    if (formEdited.current || !text.current) return toYaml(formToDoc(form!, base.current));
    return text.current;
  };

  const toYamlMode = () => {
    if (mode === 'yaml') return;
    // two task roles of one name would become one: say so instead
    const dup = form && formEdited.current ? duplicateRoles(form) : [];
    if (dup.length) {
      setProblem(dupText(dup));
      return;
    }
    const t = currentYaml();
    setText(t);
    formEdited.current = false;
    textEdited.current = false;
    setProblem('');
    setMode('yaml');
  };

  const toFormMode = () => {
    if (mode === 'form') return;
    if (textEdited.current || !form) {
      let doc: unknown;
      try {
        doc = parseYaml(text.current);
      } catch (e) {
        setProblem(`The YAML cannot be read, so the form cannot show it: ${errorText(e).split('\n')[0]}`);
        return;
      }
      if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
        setProblem('The YAML is not a job (a mapping with protocolVersion, name, taskRoles...), so the form cannot show it.');
        return;
      }
      base.current = doc as Doc;
      setForm(docToForm(doc as Doc));
      textEdited.current = false;
      formEdited.current = false;
    }
    setProblem('');
    setMode('form');
  };

  const submit = async (e?: Event) => {
    e?.preventDefault();
    if (mode === 'form' && form) {
      const bad = formProblem(form);
      if (bad) {
        setProblem(bad);
        return;
      }
    }
    const yaml = currentYaml();
    let name = '';
    try {
      name = String((parseYaml(yaml) as Doc)?.name ?? '');
    } catch {
      /* the server says what is wrong */
    }
    setBusy(true);
    setProblem('');
    setErrors([]);
    try {
      await api('POST', '/api/v2/jobs', { yaml });
      notify('ok', `Job ${name} submitted.`);
      route(`/jobs/${encodeURIComponent(me)}~${encodeURIComponent(name)}`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 400 && err.code === 'InvalidProtocolError') {
        // show the file the server read, with its errors at their lines
        const list: LineError[] = err.errors.length ? err.errors : [{ message: err.message }];
        setText(yaml);
        formEdited.current = false;
        // the form is read again from this file when the user switches to it
        // (the form it came from, or an older one, would replace the file)
        textEdited.current = true;
        setMode('yaml');
        setErrors(list);
        setProblem(`The server refused the job: ${plural(list.length)}.`);
      } else {
        setProblem(errorText(err));
        notify('error', `Submit failed: ${errorText(err)}`);
      }
    } finally {
      setBusy(false);
    }
  };

  const importFile = async (f: File | undefined) => {
    if (!f) return;
    const t = await f.text();
    setText(t);
    textEdited.current = true;
    setErrors([]);
    setMode('yaml');
    notify('ok', `Imported ${f.name}.`);
  };

  const exportYaml = () => {
    const dup = mode === 'form' && form && formEdited.current ? duplicateRoles(form) : [];
    if (dup.length) {
      setProblem(dupText(dup));
      return;
    }
    const yaml = currentYaml();
    let name = form?.name || 'job';
    try {
      name = String((parseYaml(yaml) as Doc)?.name || name);
    } catch {
      /* export what is there, under the form's name */
    }
    download(`${name.replace(/[^\w.-]+/g, '_')}.yaml`, yaml);
  };

  if (loadError) {
    return (
      <>
        <PageHeader title="Submit job" />
        <ErrorBox error={loadError} />
        <p>
          Cannot clone <code>{cloneOf}</code>. <a href="/submit">Start a new job</a>.
        </p>
      </>
    );
  }
  if (!form) return <Loading what={cloneOf ? `Loading ${cloneOf}` : 'Preparing the form'} />;
  const sku = Object.entries(skus)[0];

  return (
    <>
      <PageHeader title={cloneOf ? `Submit job (clone of ${cloneOf})` : 'Submit job'}>
        <div role="radiogroup" aria-label="Editor" class="segmented">
          <button type="button" role="radio" aria-checked={mode === 'form'} class={mode === 'form' ? 'on' : ''} onClick={toFormMode}>
            Form
          </button>
          <button type="button" role="radio" aria-checked={mode === 'yaml'} class={mode === 'yaml' ? 'on' : ''} onClick={toYamlMode}>
            YAML
          </button>
        </div>
        <button type="button" onClick={() => fileInput.current?.click()}>
          Import YAML
        </button>
        <input
          ref={fileInput}
          type="file"
          accept=".yaml,.yml,text/yaml,application/x-yaml"
          class="sr-only"
          aria-label="Import a YAML job file"
          tabIndex={-1}
          onChange={(e) => {
            importFile(e.currentTarget.files?.[0]);
            e.currentTarget.value = '';
          }}
        />
        <button type="button" onClick={exportYaml}>
          Export YAML
        </button>
      </PageHeader>

      <form onSubmit={submit} class="submit-form" aria-label="Job" noValidate={mode === 'yaml'}>
        {problem && (
          <div class="error-box" role="alert">
            {problem}
          </div>
        )}
        {mode === 'yaml' ? (
          <section aria-label="YAML editor">
            <YamlEditor
              external={external}
              errors={errors}
              viewRef={view}
              onChange={(t) => {
                textEdited.current = true;
                text.current = t;
              }}
            />
            {errors.length > 0 && (
              <ul class="yaml-errors" aria-label="Errors in the job file">
                {errors.map((e, i) => (
                  <li key={i}>
                    {e.line ? (
                      <button type="button" class="link" onClick={() => view.current && goTo(view.current, e.line!, e.column)}>
                        Line {e.line}
                        {e.column ? `, column ${e.column}` : ''}
                      </button>
                    ) : null}
                    {e.line ? ': ' : ''}
                    {e.message}
                  </li>
                ))}
              </ul>
            )}
            <p class="muted small">
              The job protocol v2 (OpenPAI's): see docs/user/job-protocol.md. Esc then Tab leaves the editor.
            </p>
          </section>
        ) : (
          <section aria-label="Job form">
            <div class="form-grid">
              <Field id="job-name" label="Job name" hint="letters, digits, _ and -; unique among your jobs">
                <input id="job-name" required pattern="[a-zA-Z0-9_\-]+" value={form.name} onInput={(e) => editForm({ ...form, name: e.currentTarget.value })} />
              </Field>
              <Field id="job-vc" label="Virtual cluster" hint={sku ? `SKU ${sku[0]}: ${sku[1].gpu} GPU, ${sku[1].cpu} CPU, ${sku[1].memory} MB per cell` : undefined}>
                <select id="job-vc" value={form.vc} onChange={(e) => editForm({ ...form, vc: e.currentTarget.value })}>
                  {!vcs.includes(form.vc) && <option value={form.vc}>{form.vc || '(the default)'}</option>}
                  {vcs.map((v) => (
                    <option key={v} value={v}>
                      {v}
                    </option>
                  ))}
                </select>
              </Field>
              <Field id="job-retries" label="Job retries" hint="how often the whole job is retried">
                <input id="job-retries" type="number" min={0} value={form.jobRetryCount} onInput={(e) => editForm({ ...form, jobRetryCount: Number(e.currentTarget.value) })} />
              </Field>
            </div>
            {form.roles.map((r, i) => (
              <RoleEditor
                key={i}
                r={r}
                i={i}
                canRemove={form.roles.length > 1}
                onChange={(nr) => editForm({ ...form, roles: form.roles.map((x, j) => (j === i ? nr : x)) })}
                onRemove={() => editForm({ ...form, roles: form.roles.filter((_, j) => j !== i) })}
              />
            ))}
            <button
              type="button"
              onClick={() => {
                let n = form.roles.length;
                while (form.roles.some((r) => r.name === `taskrole${n}`)) n++;
                editForm({ ...form, roles: [...form.roles, newRole(`taskrole${n}`, sku?.[1])] });
              }}
            >
              Add task role
            </button>
            <div class="grid-2">
              <KVList title="Parameters" idp="param" items={form.parameters} onChange={(l) => editForm({ ...form, parameters: l })} />
              <KVList title="Secrets" idp="secret" secret items={form.secrets} onChange={(l) => editForm({ ...form, secrets: l })} />
            </div>
          </section>
        )}
        <div class="form-actions">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Submitting…' : 'Submit'}
          </button>
          <a class="button" href="/jobs">
            Cancel
          </a>
        </div>
      </form>
    </>
  );
}

function dupText(dup: string[]) {
  return `Two task roles are named ${dup.map((d) => `"${d}"`).join(', ')}: task role names must differ.`;
}

/** What keeps the form from being submitted, or ''. */
function formProblem(f: FormJob): string {
  if (!NAME_RE.test(f.name)) return 'The job name may hold only letters, digits, "_" and "-".';
  if (f.roles.length === 0) return 'A job needs at least one task role.';
  const dup = duplicateRoles(f);
  if (dup.length) return dupText(dup);
  return '';
}

function plural(n: number) {
  return n === 1 ? '1 error' : `${n} errors`;
}
