// Job detail: summary with the exit code's meaning, why it waits, task roles
// with per-task logs (live follow), attempts, events, the job's YAML, Stop
// and Clone.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { useLocation, useRoute } from 'preact-iso';
import {
  ApiError,
  get,
  getSession,
  jobPath,
  type Attempt,
  type ExitSpec,
  type JobDetail as Job,
  type JobEvent,
  type TaskRoles,
  type TaskStatus,
} from '../api';
import { ActionButton, ErrorBox, Loading, Modal, PageHeader, Show, StateBadge, confirmAction, notify, useLoad, useTitle } from '../ui';
import { download, fmtDuration, fmtTime, isActive, jobDuration } from '../util';
import { stopJobs } from './jobs';

const TABS = [
  { id: 'tasks', label: 'Tasks' },
  { id: 'events', label: 'Events' },
  { id: 'attempts', label: 'Attempts' },
  { id: 'config', label: 'Config' },
] as const;

function Fact({ term, children }: { term: string; children: ComponentChildren }) {
  return (
    <>
      <dt>{term}</dt>
      <dd>{children}</dd>
    </>
  );
}

function ExitInfo({ code, spec, diagnostics, trigger }: { code: number | null; spec: ExitSpec | null; diagnostics?: string | null; trigger?: string }) {
  if (code === null || code === undefined) return null;
  const good = code === 0;
  return (
    <section class={`card exit ${good ? 'exit-ok' : 'exit-bad'}`} aria-labelledby="h-exit">
      <h2 id="h-exit">
        Exit code <code>{code}</code>
        {spec?.phrase && <> · {spec.phrase}</>}
      </h2>
      <dl class="facts">
        {spec?.type && <Fact term="Classification">{spec.type.replace(/_/g, ' ').toLowerCase()}</Fact>}
        {spec?.reason && <Fact term="Meaning">{spec.reason}</Fact>}
        {spec?.solution && spec.solution.length > 0 && (
          <Fact term="What to do">
            <ul class="plain">
              {spec.solution.map((s, i) => (
                <li key={i}>{s}</li>
              ))}
            </ul>
          </Fact>
        )}
        {spec?.reaction && <Fact term="Retry">{spec.reaction.replace(/_/g, ' ').toLowerCase()}</Fact>}
        {trigger && <Fact term="Triggered by">{trigger}</Fact>}
      </dl>
      {diagnostics && (
        <details>
          <summary>Diagnostics</summary>
          <pre class="code">{diagnostics}</pre>
        </details>
      )}
    </section>
  );
}

function WhyWaiting({ events }: { events: JobEvent[] | undefined }) {
  const why = events?.find((e) => e.reason === 'Waiting' || e.type === 'Warning');
  return (
    <section class="card waiting" aria-labelledby="h-why" role="status">
      <h2 id="h-why">Why is it waiting?</h2>
      {events === undefined ? (
        <Loading what="Asking the scheduler" />
      ) : why ? (
        <p>
          {why.message}
          <br />
          <small class="muted">
            since {fmtTime(why.firstTimestamp)}
            {why.count > 1 && <> · seen {why.count} times</>}
          </small>
        </p>
      ) : (
        <p>The scheduler has not looked at it yet.</p>
      )}
    </section>
  );
}

// ---- logs ---------------------------------------------------------------------------

interface LogLocation {
  name: string;
  uri: string;
}

const withParam = (uri: string, p: string) => `${uri}${uri.includes('?') ? '&' : '?'}${p}`;
const MAX_SHOWN = 2 << 20; // keep the last 2 MiB of a followed log on screen

// ANSI escape sequences (colours, cursor moves, OSC titles): shown as text they
// read as ▯[31m; the log view drops them (it never renders the log as HTML)
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]/g;
export const stripAnsi = (s: string) => s.replace(ANSI, '');

export function LogViewer({ logUrl, title, active }: { logUrl: string; title: string; active: boolean }) {
  const locs = useLoad((s) => get<{ locations: LogLocation[] }>(logUrl, s), [logUrl]);
  const [which, setWhich] = useState('');
  const [mode, setMode] = useState<'tail' | 'full' | 'follow'>(active ? 'follow' : 'tail');
  const [text, setText] = useState('');
  const [status, setStatus] = useState<'loading' | 'ok' | 'streaming' | 'ended' | 'error' | 'none'>('loading');
  const [err, setErr] = useState('');
  const pre = useRef<HTMLPreElement>(null);
  const stick = useRef(true);

  const list = locs.data?.locations || [];
  const loc = list.find((l) => l.name === which) || list.find((l) => l.name === 'all') || list.find((l) => l.name === 'stdout') || list[0];

  useEffect(() => {
    if (!loc) return;
    const ctl = new AbortController();
    setStatus('loading');
    setErr('');
    setText('');
    stick.current = true;
    (async () => {
      // follow: the last 16 KiB, then whatever the task writes until it ends
      const url = mode === 'tail' ? withParam(loc.uri, 'tail-mode=true') : mode === 'follow' ? withParam(loc.uri, 'follow=true&tail-mode=true') : loc.uri;
      const res = await fetch(url, { signal: ctl.signal });
      if (res.status === 404) {
        setText('');
        setStatus('none');
        return;
      }
      if (!res.ok) {
        const t = await res.text();
        let msg = t;
        try {
          msg = JSON.parse(t).message || t;
        } catch {
          /* plain text */
        }
        throw new Error(`${res.status}: ${msg}`);
      }
      if (mode !== 'follow' || !res.body) {
        setText(await res.text());
        setStatus('ok');
        return;
      }
      setStatus('streaming');
      const reader = res.body.getReader();
      const dec = new TextDecoder();
      let acc = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        acc += dec.decode(value, { stream: true });
        if (acc.length > MAX_SHOWN) acc = acc.slice(acc.length - MAX_SHOWN);
        setText(acc);
      }
      acc += dec.decode();
      setText(acc);
      setStatus('ended');
    })().catch((e) => {
      if (e.name === 'AbortError') return;
      setErr(e.message);
      setStatus('error');
    });
    return () => ctl.abort();
  }, [loc?.uri, mode]);

  useEffect(() => {
    const p = pre.current;
    if (p && stick.current) p.scrollTop = p.scrollHeight;
  }, [text]);

  // the whole file from the server, not just what is on screen (the last 16 KiB, a followed tail)
  const downloadLog = async () => {
    if (!loc) return;
    try {
      const res = await fetch(loc.uri);
      if (!res.ok) throw new Error(`the server answered ${res.status}`);
      download(`${title.replace(/[^\w.-]+/g, '_')}-${loc.name}.log`, await res.blob(), 'text/plain');
    } catch (e) {
      notify('error', `Cannot download the log: ${(e as Error).message}`);
    }
  };

  if (locs.data === undefined) {
    if (locs.error) {
      const e = locs.error;
      return e instanceof ApiError && e.status === 404 ? (
        <p class="empty">No logs yet: the task has not started.</p>
      ) : (
        <ErrorBox error={e} retry={locs.reload} />
      );
    }
    return <Loading what="Finding the logs" />;
  }
  if (!list.length) return <p class="empty">This task has no logs.</p>;

  return (
    <div class="logs">
      <div class="toolbar">
        <div role="radiogroup" aria-label="Stream" class="segmented">
          {list.map((l) => (
            <button
              key={l.name}
              type="button"
              role="radio"
              aria-checked={loc === l}
              class={loc === l ? 'on' : ''}
              onClick={() => setWhich(l.name)}
            >
              {l.name}
            </button>
          ))}
        </div>
        <div role="radiogroup" aria-label="How much" class="segmented">
          {(['tail', 'full', 'follow'] as const).map((m) => (
            <button key={m} type="button" role="radio" aria-checked={mode === m} class={mode === m ? 'on' : ''} onClick={() => setMode(m)}>
              {m === 'tail' ? 'Last 16 KiB' : m === 'full' ? 'Full log' : 'Follow'}
            </button>
          ))}
        </div>
        <span class="muted" aria-live="polite">
          {status === 'loading' && 'Loading…'}
          {status === 'streaming' && (
            <>
              <span class="spinner small" aria-hidden="true" /> following
            </>
          )}
          {status === 'ended' && 'The task has ended: end of log.'}
        </span>
        <ActionButton class="small" label={`Download the whole ${loc?.name} log`} run={downloadLog}>
          Download
        </ActionButton>
      </div>
      {err && <ErrorBox error={err} />}
      <pre
        class="log"
        ref={pre}
        tabIndex={0}
        aria-label={`${title} ${loc?.name} log`}
        data-status={status}
        onScroll={(e) => {
          const p = e.currentTarget;
          stick.current = p.scrollHeight - p.scrollTop - p.clientHeight < 40;
        }}
      >
        {stripAnsi(text) ||
          (status === 'loading'
            ? ''
            : status === 'streaming'
              ? 'Waiting for output…'
              : status === 'none'
                ? 'No log yet: the task has not started.'
                : '(empty)')}
      </pre>
    </div>
  );
}

// ---- tasks --------------------------------------------------------------------------

function TaskTable({ role, tasks, onLogs }: { role: string; tasks: TaskStatus[]; onLogs: (t: TaskStatus) => void }) {
  const [filter, setFilter] = useState('');
  const states = [...new Set(tasks.map((t) => t.taskState))];
  const shown = filter ? tasks.filter((t) => t.taskState === filter) : tasks;
  return (
    <section class="card" aria-labelledby={`h-role-${role}`}>
      <h3 id={`h-role-${role}`}>
        Task role <code>{role}</code> <span class="muted">({tasks.length} task{tasks.length === 1 ? '' : 's'})</span>
        {states.length > 1 && (
          <label class="inline small">
            {' '}
            state{' '}
            <select value={filter} onChange={(e) => setFilter(e.currentTarget.value)}>
              <option value="">all</option>
              {states.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          </label>
        )}
      </h3>
      <div class="table-wrap">
        <table class="table compact tasks" data-role={role}>
          <thead>
            <tr>
              <th scope="col" class="num">Index</th>
              <th scope="col">State</th>
              <th scope="col">Node</th>
              <th scope="col">IP</th>
              <th scope="col">GPUs</th>
              <th scope="col">Ports</th>
              <th scope="col" class="num">Exit code</th>
              <th scope="col" class="num">Retries</th>
              <th scope="col">Started</th>
              <th scope="col">Running</th>
              <th scope="col">Logs</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((t) => {
              const started = t.currentAttemptLaunchedTime ?? t.launchedTime ?? null;
              const ended = t.currentAttemptCompletedTime ?? t.completedTime ?? null;
              const ports = Object.entries(t.containerPorts || {}).filter(([, v]) => v !== '' && v !== null);
              return (
                <tr key={t.taskIndex} data-task={`${role}-${t.taskIndex}`}>
                  <th scope="row" class="num">
                    {t.taskIndex}
                  </th>
                  <td>
                    <StateBadge state={t.taskState} />
                  </td>
                  <td>{t.containerNodeName || '–'}</td>
                  <td>{t.containerIp || '–'}</td>
                  <td title={t.leafCells?.length ? `leaf cells ${t.leafCells.join(', ')}` : undefined}>
                    {t.containerGpus !== null && t.containerGpus !== undefined && t.containerGpus !== ''
                      ? String(t.containerGpus)
                      : t.leafCells?.length
                        ? `cells ${t.leafCells.join(',')}`
                        : '–'}
                  </td>
                  <td>{ports.length ? ports.map(([k, v]) => `${k}:${v}`).join(', ') : '–'}</td>
                  <td class="num" title={t.containerExitSpec?.reason || t.containerExitDiagnostics || undefined}>
                    {t.containerExitCode ?? '–'}
                    {t.containerExitSpec?.phrase && t.containerExitCode !== 0 && <small class="muted"> {t.containerExitSpec.phrase}</small>}
                  </td>
                  <td class="num">{t.retries ?? 0}</td>
                  <td>{fmtTime(started)}</td>
                  <td>{started ? fmtDuration((ended || Date.now()) - started) : '–'}</td>
                  <td>
                    {t.containerLog ? (
                      <button type="button" class="small" onClick={() => onLogs(t)} aria-label={`Logs of ${role} ${t.taskIndex}`}>
                        Logs
                      </button>
                    ) : (
                      '–'
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function Tasks({ roles, jobName }: { roles: TaskRoles; jobName: string }) {
  const [open, setOpen] = useState<{ role: string; task: TaskStatus } | null>(null);
  const names = Object.keys(roles);
  if (!names.length) return <p class="empty">This attempt has no tasks.</p>;
  return (
    <>
      {names.map((r) => (
        <TaskTable key={r} role={r} tasks={roles[r].taskStatuses || []} onLogs={(task) => setOpen({ role: r, task })} />
      ))}
      {open && (
        <Modal title={`Logs: ${jobName} · ${open.role} #${open.task.taskIndex}`} wide onClose={() => setOpen(null)}>
          <LogViewer
            logUrl={open.task.containerLog!}
            title={`${jobName}-${open.role}-${open.task.taskIndex}`}
            active={open.task.taskState === 'RUNNING'}
          />
        </Modal>
      )}
    </>
  );
}

// ---- the page -----------------------------------------------------------------------

/** The attempts, the newest (highest index) first. */
const newestFirst = (d: Attempt[]) => [...d].sort((a, b) => b.attemptIndex - a.attemptIndex);

function attemptRange(d: Attempt[]): string {
  const ix = d.map((a) => a.attemptIndex).sort((a, b) => a - b);
  return ix.length === 1 ? `only attempt ${ix[0]}` : `attempts ${ix[0]}–${ix[ix.length - 1]}`;
}

export function JobDetail() {
  const { params } = useRoute();
  const { query, route, path } = useLocation();
  const id = decodeURIComponent(params.id || '');
  const name = id.includes('~') ? id.slice(id.indexOf('~') + 1) : id;
  useTitle(name || 'Job');
  const tab = TABS.some((t) => t.id === query.tab) ? query.tab : 'tasks';
  // ?attempt=N: a whole number, checked against the job's attempts once they are read
  const attemptRaw = query.attempt ?? '';
  const attemptSel = /^\d{1,9}$/.test(attemptRaw) ? Number(attemptRaw) : null;

  const [live, setLive] = useState(true);
  const job = useLoad((s) => get<Job>(jobPath(id), s), [id], live ? 3000 : 0);
  const active = job.data ? isActive(job.data.jobStatus.state) : true;
  useEffect(() => {
    if (job.data && !active) setLive(false);
  }, [active, job.data]);
  const events = useLoad((s) => get<{ data: JobEvent[] }>(`${jobPath(id)}/events`, s), [id], live ? 5000 : 0);
  const attempts = useLoad((s) => get<Attempt[]>(`${jobPath(id)}/job-attempts`, s), [id, tab === 'attempts' || attemptSel !== null], live && (tab === 'attempts' || attemptSel !== null) ? 5000 : 0);
  const config = useLoad((s) => (tab === 'config' ? get<string>(`${jobPath(id)}/config`, s) : Promise.resolve('')), [id, tab]);

  const setQuery = (patch: Record<string, string | null>) => {
    const q = new URLSearchParams(query as Record<string, string>);
    for (const [k, v] of Object.entries(patch)) v === null ? q.delete(k) : q.set(k, v);
    const s = q.toString();
    route(`${path}${s ? `?${s}` : ''}`, true);
  };

  if (job.data === undefined) {
    if (job.error)
      return (
        <>
          <PageHeader title={name} />
          <ErrorBox error={job.error} retry={job.reload} />
          <p>
            <a href="/jobs">Back to the jobs</a>
          </p>
        </>
      );
    return <Loading what="Loading the job" />;
  }
  const j = job.data;
  const st = j.jobStatus;
  const me = getSession();
  const canStop = active && st.state !== 'STOPPING' && (me?.admin || me?.user === st.username);
  const trigger =
    st.appExitTriggerTaskRoleName != null ? `task ${st.appExitTriggerTaskRoleName} #${st.appExitTriggerTaskIndex}${st.appExitTriggerMessage ? `: ${st.appExitTriggerMessage}` : ''}` : st.appExitTriggerMessage || undefined;

  const selAttempt = attemptSel !== null ? attempts.data?.find((a) => a.attemptIndex === attemptSel) : undefined;
  const roles = selAttempt?.taskRoles || j.taskRoles;

  const onTabKey = (e: KeyboardEvent) => {
    const i = TABS.findIndex((t) => t.id === tab);
    const next = e.key === 'ArrowRight' ? i + 1 : e.key === 'ArrowLeft' ? i - 1 : -2;
    if (next === -2) return;
    const t = TABS[(next + TABS.length) % TABS.length];
    setQuery({ tab: t.id === 'tasks' ? null : t.id });
    setTimeout(() => document.getElementById(`tab-${t.id}`)?.focus());
  };

  return (
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href="/jobs">Jobs</a> / <a href={`/jobs?user=${encodeURIComponent(st.username)}`}>{st.username}</a> / <span>{j.name}</span>
      </nav>
      <PageHeader
        title={
          <>
            {j.name} <StateBadge state={st.state} />
          </>
        }
      >
        <label class="check">
          <input type="checkbox" checked={live} onChange={(e) => setLive(e.currentTarget.checked)} /> Live
        </label>
        <a class="button" href={`/submit?clone=${encodeURIComponent(id)}`}>
          Clone
        </a>
        {canStop && (
          <ActionButton
            class="danger"
            run={async () => {
              if (await confirmAction(`Stop ${j.name}?`, 'Its tasks are killed; this cannot be undone.', 'Stop')) {
                await stopJobs([id]);
                setLive(true);
                job.reload();
                events.reload();
              }
            }}
          >
            Stop
          </ActionButton>
        )}
      </PageHeader>

      {st.state === 'WAITING' && <WhyWaiting events={events.data?.data} />}
      {job.error ? <ErrorBox error={job.error} retry={job.reload} /> : null}

      <section class="card" aria-label="Summary">
        <dl class="facts summary">
          <Fact term="User">{st.username}</Fact>
          <Fact term="Virtual cluster">
            <a href={`/jobs?vc=${encodeURIComponent(st.virtualCluster)}`}>{st.virtualCluster}</a>
          </Fact>
          <Fact term="Submitted">{fmtTime(st.submissionTime)}</Fact>
          <Fact term="Started">{fmtTime(st.launchedTime)}</Fact>
          <Fact term="Completed">{fmtTime(st.completedTime)}</Fact>
          <Fact term="Duration">{jobDuration(st.launchedTime, st.completedTime)}</Fact>
          <Fact term="Retries">
            {st.retries}
            {st.retryDetails && st.retries > 0 && (
              <small class="muted">
                {' '}
                (user {st.retryDetails.user}, platform {st.retryDetails.platform})
              </small>
            )}
          </Fact>
          <Fact term="Attempt">{st.attemptId}</Fact>
          {j.jobPriority !== null && j.jobPriority !== undefined && <Fact term="Priority">{String(j.jobPriority)}</Fact>}
          {j.tags && j.tags.length > 0 && (
            <Fact term="Tags">
              {j.tags.map((t) => (
                <span class="tag" key={t}>
                  {t}
                </span>
              ))}
            </Fact>
          )}
        </dl>
      </section>

      <ExitInfo code={st.appExitCode} spec={st.appExitSpec} diagnostics={st.appExitDiagnostics} trigger={trigger} />

      <div role="tablist" aria-label="Job details" class="tabs" onKeyDown={onTabKey}>
        {TABS.map((t) => (
          <button
            key={t.id}
            id={`tab-${t.id}`}
            type="button"
            role="tab"
            aria-selected={tab === t.id}
            aria-controls={`panel-${t.id}`}
            tabIndex={tab === t.id ? 0 : -1}
            onClick={() => setQuery({ tab: t.id === 'tasks' ? null : t.id })}
          >
            {t.label}
            {t.id === 'events' && events.data ? ` (${events.data.data.length})` : ''}
          </button>
        ))}
      </div>

      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} class="tabpanel">
        {tab === 'tasks' && (
          <>
            {attemptRaw !== '' && (attemptSel === null || attempts.data !== undefined) && (
              <p class="note" role={selAttempt ? undefined : 'alert'}>
                {selAttempt ? (
                  <>
                    Showing attempt {attemptSel}
                    {selAttempt.isLatest ? ' (the latest)' : ''}.
                  </>
                ) : (
                  <>
                    This job has no attempt {attemptSel === null ? `“${attemptRaw}”` : attemptSel}
                    {attempts.data?.length ? ` (it has ${attemptRange(attempts.data)})` : ''}: showing the current one.
                  </>
                )}{' '}
                <button type="button" class="link" onClick={() => setQuery({ attempt: null })}>
                  Show the current attempt
                </button>
              </p>
            )}
            {attemptSel !== null && !selAttempt && attempts.data === undefined ? <Loading /> : <Tasks roles={roles} jobName={j.name} />}
          </>
        )}
        {tab === 'events' && (
          <Show load={events} empty={(d) => d.data.length === 0 && 'No events.'}>
            {(d) => (
              <div class="table-wrap">
                <table class="table compact">
                  <thead>
                    <tr>
                      <th scope="col">Last seen</th>
                      <th scope="col">Type</th>
                      <th scope="col">Reason</th>
                      <th scope="col">Message</th>
                      <th scope="col" class="num">Count</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.data.map((e) => (
                      <tr key={e.uid} class={e.type === 'Warning' ? 'warn' : ''}>
                        <td>{fmtTime(e.lastTimestamp)}</td>
                        <td>{e.type}</td>
                        <td>{e.reason}</td>
                        <td class="wrap">
                          {e.taskroleName && (
                            <code>
                              {e.taskroleName}
                              {e.taskIndex !== null && e.taskIndex !== undefined ? `#${e.taskIndex}` : ''}
                            </code>
                          )}{' '}
                          {e.message}
                        </td>
                        <td class="num">{e.count}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </Show>
        )}
        {tab === 'attempts' && (
          <Show load={attempts} empty={(d) => d.length === 0 && 'No attempts yet.'}>
            {(d) => (
              <div class="table-wrap">
                <table class="table compact">
                  <thead>
                    <tr>
                      <th scope="col" class="num">Attempt</th>
                      <th scope="col">State</th>
                      <th scope="col">Started</th>
                      <th scope="col">Completed</th>
                      <th scope="col" class="num">Exit code</th>
                      <th scope="col">Exit type</th>
                      <th scope="col">
                        <span class="sr-only">Tasks</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {newestFirst(d).map((a) => (
                      <tr key={a.attemptIndex}>
                        <th scope="row" class="num">
                          {a.attemptIndex}
                          {a.isLatest && <span class="tag">latest</span>}
                        </th>
                        <td>
                          <StateBadge state={a.state} />
                        </td>
                        <td>{fmtTime(a.attemptStartedTime)}</td>
                        <td>{fmtTime(a.attemptCompletedTime)}</td>
                        <td class="num">{a.exitCode ?? '–'}</td>
                        <td>{a.exitType || a.appExitSpec?.type || '–'}</td>
                        <td>
                          <button type="button" class="small" onClick={() => setQuery({ tab: null, attempt: String(a.attemptIndex) })}>
                            Tasks
                          </button>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </Show>
        )}
        {tab === 'config' && (
          <Show load={config}>
            {(yaml) => (
              <>
                <div class="toolbar">
                  <button type="button" onClick={() => download(`${j.name}.yaml`, yaml)}>
                    Download YAML
                  </button>
                  <a class="button" href={`/submit?clone=${encodeURIComponent(id)}`}>
                    Clone
                  </a>
                  <span class="muted">Secrets are masked by the server.</span>
                </div>
                <pre class="code" aria-label="Job config YAML" tabIndex={0}>
                  {yaml}
                </pre>
              </>
            )}
          </Show>
        )}
      </div>
    </>
  );
}
