// Virtual clusters: each team's guaranteed share, what it uses, what waits.
import { get, type VC } from '../api';
import { Meter, PageHeader, Show, useLoad, useTitle } from '../ui';
import { fmtMB } from '../util';

export function VirtualClusters() {
  useTitle('Virtual clusters');
  const vcs = useLoad((s) => get<Record<string, VC>>('/api/v2/virtual-clusters', s), [], 10000);
  return (
    <>
      <PageHeader title="Virtual clusters" />
      <Show load={vcs} empty={(d) => Object.keys(d).length === 0 && 'This cluster has no virtual clusters.'}>
        {(d) => (
          <div class="table-wrap">
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col" class="wrap-head">Share of the cluster</th>
                  <th scope="col" class="wrap-head">GPUs used / guaranteed</th>
                  <th scope="col" class="wrap-head">CPUs used / guaranteed</th>
                  <th scope="col" class="wrap-head">Memory used / guaranteed</th>
                  <th scope="col" class="num wrap-head">Cells used / quota</th>
                  <th scope="col" class="num">Running</th>
                  <th scope="col" class="num">Waiting</th>
                  <th scope="col">SKUs</th>
                  <th scope="col">
                    <span class="sr-only">Jobs</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {Object.entries(d).map(([name, v]) => {
                  const g = v.resourcesGuaranteed || v.resourcesTotal;
                  return (
                    <tr key={name} data-vc={name}>
                      <th scope="row">{name}</th>
                      <td>
                        {Math.round(v.capacity * 10) / 10}%
                        {v.status && v.status !== 'running' && <span class="tag bad">{v.status}</span>}
                      </td>
                      <td>
                        <Meter used={v.resourcesUsed.gpu} total={g.gpu} label={`${name} GPUs used`} /> {v.resourcesUsed.gpu} / {g.gpu}
                      </td>
                      <td>
                        {v.resourcesUsed.cpu} / {g.cpu}
                      </td>
                      <td>
                        {fmtMB(v.resourcesUsed.memory)} / {fmtMB(g.memory)}
                      </td>
                      <td class="num may-wrap">
                        {v.usedLeafCells ?? '–'} / {v.quotaLeafCells ?? '–'}
                        {v.opportunisticLeafCells ? <small class="muted"> +{v.opportunisticLeafCells} opportunistic</small> : null}
                        {v.doomedBadCells ? <small class="bad"> {v.doomedBadCells} bad</small> : null}
                      </td>
                      <td class="num">{v.placedJobs ?? '–'}</td>
                      <td class="num">{v.waitingJobs ?? '–'}</td>
                      <td>{(v.skuTypes || []).join(', ') || '–'}</td>
                      <td>
                        <a href={`/jobs?vc=${encodeURIComponent(name)}`}>View jobs</a>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </Show>
      <p class="muted small">Virtual clusters are defined in the cluster file; an administrator changes them there.</p>
    </>
  );
}
