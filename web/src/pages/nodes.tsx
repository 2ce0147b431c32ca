// Cluster: the nodes, their health and what is allocated on each.
import { get, type NodeInfo } from '../api';
import { Meter, PageHeader, Show, useLoad, useTitle } from '../ui';
import { fmtMB } from '../util';

interface Sku {
  cpu: number;
  memory: number;
  gpu: number;
}

export function Nodes() {
  useTitle('Cluster');
  const nodes = useLoad((s) => get<NodeInfo[]>('/api/v2/cluster/nodes', s), [], 10000);
  const skus = useLoad((s) => get<Record<string, Sku>>('/api/v2/cluster/sku-types', s), []);
  // with one SKU type every cell has the same size: show CPUs, memory and GPUs
  const list = Object.entries(skus.data || {});
  const one = list.length === 1 ? list[0][1] : null;
  const of = (n: number, f: keyof Sku) => (one ? n * one[f] : null);
  return (
    <>
      <PageHeader title="Cluster" />
      <Show load={nodes} empty={(d) => d.length === 0 && 'No nodes.'}>
        {(d) => {
          const healthy = d.filter((n) => n.healthy).length;
          return (
            <>
              <p>
                {healthy} of {d.length} node{d.length === 1 ? '' : 's'} healthy.
                {list.length > 0 && (
                  <>
                    {' '}
                    Cell types: {list.map(([k, v]) => `${k} (${v.gpu} GPU, ${v.cpu} CPU, ${fmtMB(v.memory)})`).join('; ')}.
                  </>
                )}
              </p>
              <div class="table-wrap">
                <table class="table">
                  <thead>
                    <tr>
                      <th scope="col">Node</th>
                      <th scope="col">Address</th>
                      <th scope="col">Health</th>
                      <th scope="col">Cells used / total</th>
                      {one && (
                        <>
                          <th scope="col">GPUs used / total</th>
                          <th scope="col">CPUs used / total</th>
                          <th scope="col">Memory used / total</th>
                        </>
                      )}
                      <th scope="col" class="num">Free cells</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.map((n) => (
                      <tr key={n.name} data-node={n.name}>
                        <th scope="row">{n.name}</th>
                        <td>{n.address}</td>
                        <td>
                          <span class={n.healthy ? 'ok' : 'bad'}>{n.healthy ? 'healthy' : 'unhealthy'}</span>
                          {n.simulatedGpus && <span class="tag" title="GPUs declared in the cluster file, not detected">simulated</span>}
                        </td>
                        <td>
                          <Meter used={n.usedLeafCells} total={n.leafCells} label={`${n.name} cells used`} /> {n.usedLeafCells} / {n.leafCells}
                          {n.opportunisticLeafCells ? <small class="muted"> ({n.opportunisticLeafCells} of them opportunistic)</small> : null}
                        </td>
                        {one && (
                          <>
                            <td>
                              {of(n.usedLeafCells, 'gpu')} / {of(n.leafCells, 'gpu')}
                            </td>
                            <td>
                              {of(n.usedLeafCells, 'cpu')} / {of(n.leafCells, 'cpu')}
                            </td>
                            <td>
                              {fmtMB(of(n.usedLeafCells, 'memory'))} / {fmtMB(of(n.leafCells, 'memory'))}
                            </td>
                          </>
                        )}
                        <td class="num">{n.freeLeafCells}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          );
        }}
      </Show>
    </>
  );
}
