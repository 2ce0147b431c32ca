// Home: my jobs by state, virtual-cluster usage, recent jobs, cluster health.
import { get, getSession, qs, type JobSummary, type NodeInfo, type VC } from '../api';
import { Meter, PageHeader, Show, StateBadge, useLoad, useTitle } from '../ui';
import { fmtTime, jobDuration, jobHref } from '../util';

const BUCKETS: { label: string; states: string }[] = [
  { label: 'Waiting', states: 'WAITING' },
  { label: 'Running', states: 'RUNNING,STOPPING' },
  { label: 'Succeeded', states: 'SUCCEEDED' },
  { label: 'Failed', states: 'FAILED' },
  { label: 'Stopped', states: 'STOPPED' },
];

type Counts = Record<string, number>;

async function myCounts(user: string, signal: AbortSignal): Promise<Counts> {
  const out: Counts = {};
  await Promise.all(
    BUCKETS.map(async (b) => {
      const r = await get<{ totalCount: number }>(
        `/api/v2/jobs${qs({ username: user, state: b.states, limit: 1, withTotalCount: true })}`,
        signal,
      );
      out[b.label] = r.totalCount;
    }),
  );
  return out;
}

export function Home() {
  useTitle('Home');
  const user = getSession()?.user || '';
  const counts = useLoad((s) => myCounts(user, s), [user], 10000);
  const recent = useLoad(
    (s) => get<JobSummary[]>(`/api/v2/jobs${qs({ username: user, limit: 8, order: 'submissionTime,DESC' })}`, s),
    [user],
    10000,
  );
  const vcs = useLoad((s) => get<Record<string, VC>>('/api/v2/virtual-clusters', s), [], 10000);
  const nodes = useLoad((s) => get<NodeInfo[]>('/api/v2/cluster/nodes', s), [], 10000);
  const info = useLoad((s) => get<any>('/api/v2/info', s), []);

  return (
    <>
      <PageHeader title={`Welcome, ${user}`}>
        <a class="button primary" href="/submit">
          Submit a job
        </a>
      </PageHeader>

      <section aria-labelledby="h-mine" class="card">
        <h2 id="h-mine">My jobs</h2>
        <Show load={counts}>
          {(c) => (
            <ul class="stat-row">
              {BUCKETS.map((b) => (
                <li key={b.label}>
                  <a class={`stat stat-${b.label.toLowerCase()}`} href={`/jobs?user=${encodeURIComponent(user)}&state=${b.states}`}>
                    <span class="stat-n">{c[b.label]}</span>
                    <span class="stat-label">{b.label}</span>
                  </a>
                </li>
              ))}
            </ul>
          )}
        </Show>
      </section>

      <div class="grid-2">
        <section aria-labelledby="h-vc" class="card">
          <h2 id="h-vc">Virtual clusters</h2>
          <Show load={vcs} empty={(d) => Object.keys(d).length === 0 && 'No virtual clusters.'}>
            {(d) => (
              <div class="table-wrap">
              <table class="table compact">
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">GPUs used / allocated / total</th>
                    <th scope="col">Waiting</th>
                  </tr>
                </thead>
                <tbody>
                  {Object.entries(d).map(([name, v]) => (
                    <tr key={name}>
                      <th scope="row">
                        <a href={`/jobs?vc=${encodeURIComponent(name)}`}>{name}</a>
                      </th>
                      <td>
                        <Meter used={v.resourcesUsed.gpu} total={v.resourcesTotal.gpu} label={`${name} GPUs used`} />{' '}
                        {v.resourcesUsed.gpu} / {(v.resourcesGuaranteed || v.resourcesTotal).gpu} / {v.resourcesTotal.gpu}
                      </td>
                      <td>{v.waitingJobs ?? '–'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              </div>
            )}
          </Show>
        </section>

        <section aria-labelledby="h-health" class="card">
          <h2 id="h-health">Cluster health</h2>
          <Show load={nodes}>
            {(ns) => {
              const healthy = ns.filter((n) => n.healthy).length;
              const cells = ns.reduce((a, n) => a + n.leafCells, 0);
              const used = ns.reduce((a, n) => a + n.usedLeafCells, 0);
              const exec = info.data?.gantry?.capabilities;
              return (
                <dl class="facts">
                  <dt>Nodes</dt>
                  <dd>
                    <span class={healthy === ns.length ? 'ok' : 'bad'}>
                      {healthy} of {ns.length} healthy
                    </span>{' '}
                    <a href="/cluster">details</a>
                  </dd>
                  <dt>Cells in use</dt>
                  <dd>
                    <Meter used={used} total={cells} label="cluster cells in use" /> {used} / {cells}
                  </dd>
                  {exec && (
                    <>
                      <dt>Executor</dt>
                      <dd>{exec.executor === false ? exec.note || 'none: jobs are placed, not run' : String(exec.executor)}</dd>
                    </>
                  )}
                  {info.data?.gantry?.version && (
                    <>
                      <dt>Version</dt>
                      <dd>
                        Gantry {info.data.gantry.version} ({info.data.gantry.commit})
                      </dd>
                    </>
                  )}
                </dl>
              );
            }}
          </Show>
        </section>
      </div>

      <section aria-labelledby="h-recent" class="card">
        <h2 id="h-recent">
          Recent jobs <a class="small" href={`/jobs?user=${encodeURIComponent(user)}`}>all my jobs</a>
        </h2>
        <Show
          load={recent}
          empty={(d) =>
            d.length === 0 && (
              <>
                You have no jobs yet. <a href="/submit">Submit one</a>.
              </>
            )
          }
        >
          {(jobs) => (
            <div class="table-wrap">
            <table class="table compact">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">State</th>
                  <th scope="col">Virtual cluster</th>
                  <th scope="col">Submitted</th>
                  <th scope="col">Duration</th>
                </tr>
              </thead>
              <tbody>
                {jobs.map((j) => (
                  <tr key={j.name}>
                    <th scope="row">
                      <a href={jobHref(j.username, j.name)}>{j.name}</a>
                    </th>
                    <td>
                      <StateBadge state={j.state} />
                    </td>
                    <td>{j.virtualCluster}</td>
                    <td>{fmtTime(j.submissionTime)}</td>
                    <td>{jobDuration(j.launchedTime, j.completedTime)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            </div>
          )}
        </Show>
      </section>
    </>
  );
}
