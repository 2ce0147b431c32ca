// The job list: server-side paging, sorting and filters, all held in the URL
// (shareable, the back button works); multi-select stop; auto-refresh that
// keeps the rows on screen while it fetches.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, errorText, get, getSession, jobPath, qs, type JobSummary, type VC } from '../api';
import { ActionButton, ErrorBox, Loading, PageHeader, StateBadge, confirmAction, notify, useLoad, useTitle } from '../ui';
import { STATES, fmtTime, isActive, jobDuration, jobHref, jobId, plural } from '../util';

const SIZES = [20, 50, 100];
const DEFAULT_ORDER = 'submissionTime,DESC';

const COLUMNS: { key: string; label: string; sort?: string; cls?: string }[] = [
  { key: 'name', label: 'Name', sort: 'jobName' },
  { key: 'state', label: 'State', sort: 'state' },
  { key: 'submitted', label: 'Submitted', sort: 'submissionTime' },
  { key: 'user', label: 'User', sort: 'username' },
  { key: 'duration', label: 'Duration' },
  { key: 'vc', label: 'Virtual cluster', sort: 'vc' },
  { key: 'retries', label: 'Retries', sort: 'retries', cls: 'num' },
  { key: 'tasks', label: 'Tasks', sort: 'totalTaskNumber', cls: 'num' },
  { key: 'gpus', label: 'GPUs', sort: 'totalGpuNumber', cls: 'num' },
];

interface Filters {
  keyword: string;
  user: string;
  vc: string;
  state: string[];
  order: string;
  page: number;
  size: number;
}

function readFilters(q: Record<string, string>): Filters {
  const size = Number(q.size);
  const page = Number(q.page);
  return {
    keyword: q.keyword || '',
    user: q.user || '',
    vc: q.vc || '',
    state: (q.state || '').split(',').filter((s) => s),
    order: q.order || DEFAULT_ORDER,
    page: page >= 1 ? Math.floor(page) : 1,
    size: SIZES.includes(size) ? size : SIZES[0],
  };
}

function toQuery(f: Filters): string {
  return qs({
    keyword: f.keyword,
    user: f.user,
    vc: f.vc,
    state: f.state.join(','),
    order: f.order === DEFAULT_ORDER ? '' : f.order,
    page: f.page > 1 ? f.page : '',
    size: f.size === SIZES[0] ? '' : f.size,
  });
}

/** An input that updates the URL 300 ms after typing stops (not after the page is left). */
function useDebounced(value: string, commit: (v: string) => void): [string, (v: string) => void] {
  const [local, setLocal] = useState(value);
  const timer = useRef<number>();
  // the URL holds the trimmed text: keep what is typed ("foo ") while it reads the same
  useEffect(() => setLocal((l) => (l.trim() === value ? l : value)), [value]);
  // a commit after the page is left would bring the user back here
  useEffect(() => () => clearTimeout(timer.current), []);
  const set = (v: string) => {
    setLocal(v);
    clearTimeout(timer.current);
    timer.current = window.setTimeout(() => commit(v), 300);
  };
  return [local, set];
}

export async function stopJobs(ids: string[]): Promise<void> {
  const results = await Promise.allSettled(
    ids.map((id) => api('PUT', `${jobPath(id)}/executionType`, { body: { value: 'STOP' } })),
  );
  const failed = results
    .map((r, i) => (r.status === 'rejected' ? `${ids[i]}: ${errorText(r.reason)}` : ''))
    .filter((s) => s);
  const ok = ids.length - failed.length;
  if (ok) notify('ok', ids.length === 1 ? `Stop requested for ${ids[0]}.` : `Stop requested for ${plural(ok, 'job')}.`);
  for (const f of failed) notify('error', `Cannot stop ${f}`);
}

export function Jobs() {
  useTitle('Jobs');
  const { query, route, path } = useLocation();
  const f = useMemo(() => readFilters(query), [query]);
  const go = (patch: Partial<Filters>, replace = false) => {
    const next = { ...f, page: 1, ...patch };
    route(`${path}${toQuery(next)}`, replace);
  };

  const [auto, setAuto] = useState(true);
  const key = toQuery(f);
  const jobs = useLoad(
    (signal) =>
      get<{ totalCount: number; data: JobSummary[] }>(
        `/api/v2/jobs${qs({
          withTotalCount: true,
          offset: (f.page - 1) * f.size,
          limit: f.size,
          order: f.order,
          keyword: f.keyword,
          username: f.user,
          vc: f.vc,
          state: f.state.join(','),
        })}`,
        signal,
      ),
    [key],
    auto ? 5000 : 0,
  );
  const vcs = useLoad((s) => get<Record<string, VC>>('/api/v2/virtual-clusters', s), []);

  const [selected, setSelected] = useState<Set<string>>(new Set());
  const rows = jobs.data?.data || [];
  const total = jobs.data?.totalCount ?? 0;
  const pages = Math.max(1, Math.ceil(total / f.size));
  // forget selections that left the page
  useEffect(() => {
    const onPage = new Set(rows.map((j) => jobId(j.username, j.name)));
    setSelected((s) => {
      const kept = new Set([...s].filter((id) => onPage.has(id)));
      return kept.size === s.size ? s : kept;
    });
  }, [jobs.data]);

  const toggle = (id: string) =>
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });
  const allIds = rows.map((j) => jobId(j.username, j.name));
  const allOn = allIds.length > 0 && allIds.every((id) => selected.has(id));
  // as on the job's page: admins may stop any job, others their own
  const me = getSession();
  const mayStop = (j: JobSummary) => isActive(j.state) && j.state !== 'STOPPING' && !!(me?.admin || me?.user === j.username);
  const stoppable = rows.filter((j) => selected.has(jobId(j.username, j.name)) && mayStop(j));

  const [kw, setKw] = useDebounced(f.keyword, (v) => go({ keyword: v.trim() }, true));
  const [user, setUser] = useDebounced(f.user, (v) => go({ user: v.trim() }, true));
  const [field, dir] = f.order.split(',');

  const sortBy = (col: string) => {
    const nextDir = field === col && dir === 'DESC' ? 'ASC' : 'DESC';
    go({ order: `${col},${nextDir}`, page: f.page });
  };

  const stopSelected = async () => {
    const ids = stoppable.map((j) => jobId(j.username, j.name));
    if (!ids.length) return;
    const ok = await confirmAction(
      `Stop ${plural(ids.length, 'job')}?`,
      `${ids.join(', ')} will be stopped. Their tasks are killed; this cannot be undone.`,
      'Stop',
    );
    if (!ok) return;
    await stopJobs(ids);
    setSelected(new Set());
    jobs.reload();
  };

  // a page past the end (a stale link, jobs that finished and left the filter):
  // go to the last page there is
  const past = !!jobs.data && f.page > pages;
  useEffect(() => {
    if (past) go({ page: pages }, true);
  }, [past, pages]);

  const first = total ? (f.page - 1) * f.size + 1 : 0;
  const last = Math.min(total, f.page * f.size);

  return (
    <>
      <PageHeader title="Jobs">
        <a class="button primary" href="/submit">
          New job
        </a>
      </PageHeader>

      <form class="filters" role="search" aria-label="Filter jobs" onSubmit={(e) => e.preventDefault()}>
        <div class="field">
          <label for="f-keyword">Search</label>
          <input
            id="f-keyword"
            type="search"
            placeholder="name, user or VC"
            value={kw}
            onInput={(e) => setKw(e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="f-user">User</label>
          <input id="f-user" value={user} placeholder="any" onInput={(e) => setUser(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="f-vc">Virtual cluster</label>
          <select id="f-vc" value={f.vc} onChange={(e) => go({ vc: e.currentTarget.value })}>
            <option value="">any</option>
            {Object.keys(vcs.data || {}).map((v) => (
              <option key={v} value={v}>
                {v}
              </option>
            ))}
            {f.vc && vcs.data && !vcs.data[f.vc] && <option value={f.vc}>{f.vc}</option>}
          </select>
        </div>
        <fieldset class="states">
          <legend>State</legend>
          {STATES.map((s) => {
            const on = f.state.includes(s);
            return (
              <label key={s} class={on ? 'chip on' : 'chip'}>
                <input
                  type="checkbox"
                  checked={on}
                  onChange={() => go({ state: on ? f.state.filter((x) => x !== s) : [...f.state, s] })}
                />
                {s.toLowerCase()}
              </label>
            );
          })}
        </fieldset>
        {(f.keyword || f.user || f.vc || f.state.length > 0) && (
          <button type="button" class="link" onClick={() => route(path)}>
            Clear filters
          </button>
        )}
      </form>

      <div class="toolbar">
        <ActionButton class="danger" disabled={!stoppable.length} run={stopSelected}>
          Stop selected{stoppable.length ? ` (${stoppable.length})` : ''}
        </ActionButton>
        <label class="check">
          <input type="checkbox" checked={auto} onChange={(e) => setAuto(e.currentTarget.checked)} /> Auto-refresh
        </label>
        <button type="button" onClick={jobs.reload} aria-busy={jobs.refreshing}>
          Refresh
        </button>
        <span class="muted" aria-live="polite">
          {jobs.data && !past ? (total ? `${first}–${last} of ${total.toLocaleString()}` : '') : ''}
          {jobs.refreshing && <span class="spinner small" aria-label="refreshing" />}
        </span>
      </div>

      {jobs.error ? <ErrorBox error={jobs.error} retry={jobs.reload} /> : null}
      {jobs.data === undefined || past ? (
        jobs.error ? null : <Loading what="Loading jobs" />
      ) : rows.length === 0 ? (
        <p class="empty">
          {f.keyword || f.user || f.vc || f.state.length ? 'No job matches these filters.' : 'No jobs yet.'}{' '}
          <a href="/submit">Submit a job</a>.
        </p>
      ) : (
        <div class="table-wrap">
          <table class={jobs.loading ? 'table jobs stale' : 'table jobs'} aria-busy={jobs.loading}>
            <thead>
              <tr>
                <th scope="col" class="sel">
                  <input
                    type="checkbox"
                    aria-label="Select all jobs on this page"
                    checked={allOn}
                    onChange={() => setSelected(allOn ? new Set() : new Set(allIds))}
                  />
                </th>
                {COLUMNS.map((c) => (
                  <th
                    key={c.key}
                    scope="col"
                    class={c.cls}
                    aria-sort={c.sort && field === c.sort ? (dir === 'ASC' ? 'ascending' : 'descending') : undefined}
                  >
                    {c.sort ? (
                      <button type="button" class="sort" onClick={() => sortBy(c.sort!)}>
                        {c.label}
                        <span aria-hidden="true">{field === c.sort ? (dir === 'ASC' ? ' ▲' : ' ▼') : ''}</span>
                      </button>
                    ) : (
                      c.label
                    )}
                  </th>
                ))}
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((j) => {
                const id = jobId(j.username, j.name);
                return (
                  <tr key={id} data-job={id} class={selected.has(id) ? 'selected' : ''}>
                    <td class="sel">
                      <input
                        type="checkbox"
                        aria-label={`Select ${id}`}
                        checked={selected.has(id)}
                        onChange={() => toggle(id)}
                      />
                    </td>
                    <th scope="row">
                      <a href={jobHref(j.username, j.name)}>{j.name}</a>
                    </th>
                    <td>
                      <StateBadge state={j.state} />
                    </td>
                    <td>{fmtTime(j.submissionTime)}</td>
                    <td>{j.username}</td>
                    <td>{jobDuration(j.launchedTime, j.completedTime)}</td>
                    <td>{j.virtualCluster}</td>
                    <td class="num">{j.retries}</td>
                    <td class="num">{j.totalTaskNumber}</td>
                    <td class="num">{j.totalGpuNumber}</td>
                    <td>
                      {mayStop(j) && (
                        <ActionButton
                          class="small"
                          label={`Stop ${id}`}
                          run={async () => {
                            if (await confirmAction(`Stop ${id}?`, 'Its tasks are killed; this cannot be undone.', 'Stop')) {
                              await stopJobs([id]);
                              jobs.reload();
                            }
                          }}
                        >
                          Stop
                        </ActionButton>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}

      {jobs.data && total > 0 && !past && (
        <nav class="pager" aria-label="Pages">
          <button type="button" disabled={f.page <= 1} onClick={() => go({ page: 1 })}>
            First
          </button>
          <button type="button" disabled={f.page <= 1} onClick={() => go({ page: f.page - 1 })}>
            Previous
          </button>
          <span>
            Page {f.page} of {pages.toLocaleString()}
          </span>
          <button type="button" disabled={f.page >= pages} onClick={() => go({ page: f.page + 1 })}>
            Next
          </button>
          <button type="button" disabled={f.page >= pages} onClick={() => go({ page: pages })}>
            Last
          </button>
          <label>
            Rows per page{' '}
            <select value={f.size} onChange={(e) => go({ size: Number(e.currentTarget.value) })}>
              {SIZES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
        </nav>
      )}
    </>
  );
}
