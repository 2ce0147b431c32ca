// SPDX-License-Identifier: MIT
// The cluster as the API and `gantry node list` show it, on a cluster of two
// SKUs (V100 and K80) with a pinned cell: per-node use with opportunistic
// jobs, VC resources per SKU, the SKUs of pinned cells, the text of
// preemption events, and nodes marked unhealthy in the cluster file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Server, GANTRY, CLUSTER, gpuJob } from '../lib.mjs';

const NODES = ['a1', 'a2', 'a3', 'a4', 'c1', 'k1', 'k2'];

// health: node name → the value of its `healthy` key
function cluster(health = {}) {
  return `skuTypes:
  V100: {gpu: 1, cpu: 4, memory: 8192}
  K80: {gpu: 1, cpu: 2, memory: 4096}
physicalCluster:
  cellTypes:
    V100-PAIR: {childCellType: V100, childCellNumber: 2}
    V100-NODE: {childCellType: V100-PAIR, childCellNumber: 4, isNodeLevel: true}
    V100-RACK: {childCellType: V100-NODE, childCellNumber: 4}
    K80-NODE: {childCellType: K80, childCellNumber: 4, isNodeLevel: true}
  physicalCells:
  - cellType: V100-RACK
    cellChildren: [{cellAddress: a1}, {cellAddress: a2}, {cellAddress: a3}, {cellAddress: a4}]
  - {cellType: V100-NODE, cellAddress: c1}
  - {cellType: K80-NODE, cellAddress: k1}
  - {cellType: K80-NODE, cellAddress: k2, pinnedCellId: k80-pin}
virtualClusters:
  research: {virtualCells: [{cellType: V100-RACK.V100-NODE, cellNumber: 2}]}
  product: {virtualCells: [{cellType: V100-RACK.V100-NODE, cellNumber: 2}, {cellType: K80-NODE, cellNumber: 1}]}
  students: {virtualCells: [{cellType: V100-NODE.V100-PAIR, cellNumber: 2}], pinnedCells: [{pinnedCellId: k80-pin}]}
nodes:
${NODES.map((n) => `- {name: ${n}, address: 127.0.0.1${n in health ? `, healthy: ${health[n]}` : ''}}`).join('\n')}
`;
}

// role w: `instances` pods of `gpu` GPUs; hived: more of extras.hivedScheduler.taskRoles.w
function job(name, { vc, prio, gpu, instances = 1, hived = '' }) {
  return `protocolVersion: 2
name: ${name}
type: job
prerequisites:
  - {name: img, type: dockerimage, uri: 'ubuntu:22.04'}
taskRoles:
  w:
    instances: ${instances}
    dockerImage: img
    resourcePerInstance: {cpu: 1, memoryMB: 512, gpu: ${gpu}}
    commands: ['sleep 600']
defaults:
  virtualCluster: ${vc}
extras:
  hivedScheduler:
    jobPriorityClass: ${prio}
${hived ? `    taskRoles: {w: {${hived}}}\n` : ''}`;
}

let s, admin;
before(async () => {
  s = await new Server({ config: cluster({ a4: true }), env: { GANTRY_STOP_GRACE: '1' } }).start();
  admin = await s.login();
});
after(async () => { await s.stop(); s.cleanup(); });

async function submit(srv, token, yaml) {
  const r = await srv.submit(token, yaml);
  assert.equal(r.status, 201, r.text);
}

async function stop(srv, token, ...names) {
  for (const n of names)
    assert.equal((await srv.req('PUT', `/api/v2/jobs/${n}/executionType`, { token, body: { value: 'STOP' } })).status, 202);
  for (const n of names) await srv.waitState(token, n, 'STOPPED');
}

const events = async (srv, token, name) => (await srv.req('GET', `/api/v2/jobs/${name}/events`, { token })).body.data;

// `gantry node list` against srv: its table as rows of columns
function nodeList(srv, token) {
  const env = { ...process.env, GANTRY_SERVER: srv.url, GANTRY_TOKEN: token, HOME: srv.dir, XDG_CONFIG_HOME: srv.dir };
  for (const k of ['http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'all_proxy']) delete env[k];
  const r = spawnSync(GANTRY, ['node', 'list'], { env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
}

test('opportunistic GPUs count once: a node full of them has used 8, free 0', async () => {
  await submit(s, admin, job('oppo2', { vc: 'students', prio: 'oppo', gpu: 8, instances: 2, hived: 'skuType: V100' }));
  await submit(s, admin, job('oppo1', { vc: 'students', prio: 'oppo', gpu: 8 }));
  await s.waitState(admin, 'admin~oppo2', 'RUNNING');
  await s.waitState(admin, 'admin~oppo1', 'RUNNING');

  const nodes = (await s.req('GET', '/api/v2/cluster/nodes', { token: admin })).body;
  const full = nodes.filter((n) => n.opportunisticLeafCells > 0);
  assert.equal(full.length, 3, JSON.stringify(nodes));
  for (const n of nodes) {
    assert.ok(n.freeLeafCells >= 0, JSON.stringify(n));
    assert.equal(n.freeLeafCells, n.leafCells - n.usedLeafCells, JSON.stringify(n));
  }
  for (const n of full) {
    assert.equal(n.usedLeafCells, 8, JSON.stringify(n));
    assert.equal(n.opportunisticLeafCells, 8, JSON.stringify(n));
    assert.equal(n.freeLeafCells, 0, JSON.stringify(n));
  }

  const per = (await s.req('GET', '/api/v2/virtual-clusters?nodes=true', { token: admin })).body;
  for (const n of full) assert.deepEqual(per[n.name], { gpuUsed: 8, gpuAvailable: 0, gpuTotal: 8 });
  assert.deepEqual(per.k1, { gpuUsed: 0, gpuAvailable: 4, gpuTotal: 4 });

  const rows = nodeList(s, admin);
  assert.deepEqual(rows[0], ['NODE', 'ADDRESS', 'HEALTHY', 'LEAF', 'CELLS', 'USED', 'OPPORTUNISTIC', 'FREE']);
  for (const n of full) {
    const row = rows.find((r) => r[0] === n.name);
    assert.deepEqual(row, [n.name, '127.0.0.1', 'yes', '8', '8', '8', '0'], rows.join('\n'));
  }

  const st = (await s.req('GET', '/api/v2/virtual-clusters/students', { token: admin })).body;
  assert.equal(st.opportunisticLeafCells, 24);
  assert.equal(st.resourcesUsed.gpu, 24);
  await stop(s, admin, 'admin~oppo2', 'admin~oppo1');
});

test('VC resources count each leaf at its own SKU: product has V100 and K80 cells', async () => {
  let p = (await s.req('GET', '/api/v2/virtual-clusters/product', { token: admin })).body;
  assert.deepEqual(p.skuTypes, ['V100', 'K80']);
  // 16 V100 (4 cpu, 8192 MB) + 4 K80 (2 cpu, 4096 MB)
  assert.deepEqual(p.resourcesGuaranteed, { cpu: 72, memory: 147456, gpu: 20, vCores: 72, GPUs: 20 });
  assert.deepEqual(p.resourcesTotal, p.resourcesGuaranteed);

  await submit(s, admin, job('k80', { vc: 'product', prio: 'prod', gpu: 4, hived: 'skuType: K80' }));
  await s.waitState(admin, 'admin~k80', 'RUNNING');
  p = (await s.req('GET', '/api/v2/virtual-clusters/product', { token: admin })).body;
  assert.deepEqual(p.resourcesUsed, { cpu: 8, memory: 16384, gpu: 4, vCores: 8, GPUs: 4 });
  assert.equal(p.usedLeafCells, 4);
  await stop(s, admin, 'admin~k80');
});

test('a VC lists the SKUs of its pinned cells, and a job on its pinned cell counts at that SKU', async () => {
  const vcs = (await s.req('GET', '/api/v2/virtual-clusters', { token: admin })).body;
  assert.deepEqual(vcs.students.skuTypes, ['V100', 'K80']);
  assert.deepEqual(vcs.research.skuTypes, ['V100']);
  // 2 V100 pairs + the pinned K80 node
  assert.deepEqual(vcs.students.resourcesGuaranteed, { cpu: 24, memory: 49152, gpu: 8, vCores: 24, GPUs: 8 });
  const skus = await s.req('GET', '/api/v2/virtual-clusters/students/sku-types', { token: admin });
  assert.equal(skus.status, 200);
  assert.deepEqual(skus.body, { V100: { cpu: 4, memory: 8192, gpu: 1 }, K80: { cpu: 2, memory: 4096, gpu: 1 } });

  await submit(s, admin, job('pinned', { vc: 'students', prio: 'prod', gpu: 4, hived: 'pinnedCellId: k80-pin' }));
  const d = await s.waitState(admin, 'admin~pinned', 'RUNNING');
  assert.equal(d.taskRoles.w.taskStatuses[0].containerNodeName, 'k2');
  const st = (await s.req('GET', '/api/v2/virtual-clusters/students', { token: admin })).body;
  assert.deepEqual(st.resourcesUsed, { cpu: 8, memory: 16384, gpu: 4, vCores: 8, GPUs: 4 });
  await stop(s, admin, 'admin~pinned');
});

test('preempting a gang of two pods names its one job, once, and the diagnostics read as one sentence', async () => {
  await submit(s, admin, job('gang', { vc: 'research', prio: 'test', gpu: 8, instances: 2 }));
  await s.waitState(admin, 'admin~gang', 'RUNNING');
  await submit(s, admin, job('boss', { vc: 'research', prio: 'prod', gpu: 8 }));
  await s.waitState(admin, 'admin~boss', 'RUNNING');

  const ev = await events(s, admin, 'admin~boss');
  const pre = ev.filter((e) => e.reason === 'Preempting');
  assert.equal(pre.length, 1, JSON.stringify(ev));
  assert.equal(pre[0].message,
    'Preempting lower-priority work to make room (admin~gang); placed once it has stopped.');

  const gev = await s.until('/api/v2/jobs/admin~gang/events', admin,
    (b) => b.data.some((e) => e.reason === 'AttemptCompleted'), { what: 'the victim\'s attempt to end' });
  const victim = gev.data.filter((e) => e.reason === 'Preempted');
  assert.equal(victim.length, 1, JSON.stringify(gev.data));
  assert.equal(victim[0].message, 'Preempted by admin~boss (priority 100) in virtual cluster research.');
  const done = gev.data.find((e) => e.reason === 'AttemptCompleted');
  assert.match(done.message, /Preempted by admin~boss \(priority 100\) in virtual cluster research\./, done.message);
  assert.doesNotMatch(done.message, /\.\./, done.message);
  await stop(s, admin, 'admin~boss', 'admin~gang');
});

test('a node marked healthy: false in the cluster file is shown unhealthy and gets no new task', async () => {
  const b = await new Server({ config: cluster({ k1: false, k2: true }) }).start();
  try {
    const t = await b.login();
    const nodes = (await b.req('GET', '/api/v2/cluster/nodes', { token: t })).body;
    assert.deepEqual(nodes.filter((n) => !n.healthy).map((n) => n.name), ['k1']);
    const row = nodeList(b, t).find((r) => r[0] === 'k1');
    assert.deepEqual(row, ['k1', '127.0.0.1', 'no', '4', '0', '0', '4']);
    assert.match(b.log, /node k1: unhealthy/);

    // product's only K80 cell can only be k1 (k2 is pinned to students): it waits
    await submit(b, t, job('onbad', { vc: 'product', prio: 'prod', gpu: 4, hived: 'skuType: K80' }));
    const ev = await b.until('/api/v2/jobs/admin~onbad/events', t, (x) => x.data.some((e) => e.reason === 'Waiting'),
      { what: 'a Waiting event' });
    const wait = ev.data.find((e) => e.reason === 'Waiting');
    assert.match(wait.message, /bad|health/i, wait.message);
    const d = (await b.req('GET', '/api/v2/jobs/admin~onbad', { token: t })).body;
    assert.equal(d.jobStatus.state, 'WAITING');
    assert.ok(!ev.data.some((e) => e.reason === 'Placed'), JSON.stringify(ev.data));
    const k1 = (await b.req('GET', '/api/v2/cluster/nodes', { token: t })).body.find((n) => n.name === 'k1');
    assert.equal(k1.usedLeafCells, 0);
    const vc = (await b.req('GET', '/api/v2/virtual-clusters/product', { token: t })).body;
    assert.equal(vc.doomedBadCells, 1, JSON.stringify(vc));

    // the same job on the healthy pinned K80 node runs
    await submit(b, t, job('ongood', { vc: 'students', prio: 'prod', gpu: 4, hived: 'pinnedCellId: k80-pin' }));
    await b.waitState(t, 'admin~ongood', 'RUNNING');
    await stop(b, t, 'admin~onbad', 'admin~ongood');
  } finally {
    await b.stop();
    b.cleanup();
  }
});

test('a running job stays on its node when a restart marks the node unhealthy', async () => {
  const b = await new Server({ config: cluster() }).start();
  try {
    let t = await b.login();
    await submit(b, t, job('stays', { vc: 'product', prio: 'prod', gpu: 4, hived: 'skuType: K80' }));
    let d = await b.waitState(t, 'admin~stays', 'RUNNING');
    assert.equal(d.taskRoles.w.taskStatuses[0].containerNodeName, 'k1');
    await b.stop();
    b.config = cluster({ k1: false });
    await b.start();
    t = await b.login();
    d = (await b.req('GET', '/api/v2/jobs/admin~stays', { token: t })).body;
    assert.equal(d.jobStatus.state, 'RUNNING');
    assert.equal(d.jobStatus.attemptId, 0);
    const k1 = (await b.req('GET', '/api/v2/cluster/nodes', { token: t })).body.find((n) => n.name === 'k1');
    assert.equal(k1.healthy, false);
    assert.equal(k1.usedLeafCells, 4);
    await stop(b, t, 'admin~stays');
  } finally {
    await b.stop();
    b.cleanup();
  }
});

test('a nodes[] entry with an unknown key or a healthy that is not a boolean is a config error', async () => {
  for (const [bad, want] of [
    ['- {name: k1, healty: false}', /nodes\[0\]\.healty: unknown key \(a node has name, address, simulatedGpus, healthy\)/],
    ['- {name: k1, healthy: maybe}', /nodes\[0\]\.healthy: should be true or false/],
  ]) {
    const cfg = cluster().replace(/\nnodes:\n[\s\S]*$/, `\nnodes:\n${bad}\n`);
    const b = new Server({ config: cfg });
    try {
      await assert.rejects(b.start(), (e) => { assert.match(e.message, want); return true; });
      assert.match(b.log, /cluster\.yaml: nodes\[0\]/);
    } finally {
      await b.stop();
      b.cleanup();
    }
  }
});

test('a waiting job\'s reason is refreshed when its figures change, not left stale', async () => {
  const w = await new Server({ config: CLUSTER, env: { GANTRY_WAIT_REFRESH_MS: '0' } }).start();
  try {
    const tok = await w.login();
    assert.equal((await w.submit(tok, gpuJob('holds', { gpu: 4, cmd: 'sleep 600' }))).status, 201);
    assert.equal((await w.submit(tok, gpuJob('brief', { gpu: 4, cmd: 'sleep 2' }))).status, 201);
    await w.waitState(tok, 'admin~holds', 'RUNNING');
    await w.waitState(tok, 'admin~brief', 'RUNNING');
    assert.equal((await w.submit(tok, gpuJob('whole', { gpu: 8, cmd: 'true' }))).status, 201);
    const waits = async () => (await w.req('GET', '/api/v2/jobs/admin~whole/events', { token: tok })).body.data
      .filter((e) => e.reason === 'Waiting').map((e) => e.message);
    const first = await w.until('/api/v2/jobs/admin~whole/events', tok,
      (b) => b.data.some((e) => e.reason === 'Waiting'), { what: 'a Waiting event' });
    assert.ok(first);
    await w.waitState(tok, 'admin~brief', 'SUCCEEDED');
    const end = Date.now() + 10000;
    let msgs = await waits();
    while (new Set(msgs).size < 2 && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 200));
      msgs = await waits();
    }
    assert.ok(new Set(msgs).size >= 2, `the reason was not refreshed: ${JSON.stringify(msgs)}`);
    assert.match(msgs.join('\n'), /8 of its 8/);
    assert.match(msgs.join('\n'), /4 of its 8/);
  } finally {
    await w.stop();
    w.cleanup();
  }
});
