// SPDX-License-Identifier: MIT
// Durability: users, groups, tokens, jobs and placements survive kill -9;
// every submission answered 201 is still there after a crash.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server, CLUSTER, GANTRY, gpuJob } from '../lib.mjs';

const servers = [];
after(async () => { for (const s of servers) { await s.stop(); s.cleanup(); } });

test('state survives kill -9 and restart', async () => {
  const s = new Server({ config: CLUSTER });
  servers.push(s);
  await s.start();
  const admin = await s.login();
  const alice = await s.user(admin, 'alice', { vcs: ['research'] });
  const app = (await s.req('POST', '/api/v2/tokens/application', { token: alice })).body.token;
  assert.equal((await s.req('POST', '/api/v2/groups', { token: admin, body: { groupname: 'team', description: 'kept' } })).status, 201);
  assert.equal((await s.submit(alice, gpuJob('placed', { gpu: 8, vc: 'research' }))).status, 201);
  assert.equal((await s.submit(alice, gpuJob('waits', { gpu: 2, vc: 'research' }))).status, 201);
  assert.equal((await s.submit(alice, gpuJob('stopped'))).status, 201);
  assert.equal((await s.req('PUT', '/api/v2/jobs/alice~stopped/executionType', { token: alice, body: { value: 'STOP' } })).status, 202);
  assert.equal((await s.req('PUT', '/api/v2/jobs/alice~placed/tag', { token: alice, body: { value: 'keep' } })).status, 200);
  await s.waitState(alice, 'alice~stopped', 'STOPPED');
  const before = await s.waitState(alice, 'alice~placed', 'RUNNING');
  const vcBefore = (await s.req('GET', '/api/v2/virtual-clusters/research', { token: alice })).body;
  assert.equal(vcBefore.usedLeafCells, 8);
  assert.deepEqual([vcBefore.placedJobs, vcBefore.waitingJobs], [1, 1]);

  await s.kill9();
  await s.start();

  // tokens (browser and application) still valid
  assert.equal((await s.req('GET', '/api/v2/users/alice', { token: alice })).status, 200);
  assert.equal((await s.req('GET', '/api/v2/jobs', { token: app })).status, 200);
  assert.equal((await s.req('GET', '/api/v2/groups/team', { token: admin })).body.description, 'kept');
  const after = (await s.req('GET', '/api/v2/jobs/alice~placed', { token: alice })).body;
  assert.deepEqual(after.tags, ['keep']);
  assert.deepEqual(after.taskRoles, before.taskRoles, 'the placement is restored, not redone; the task is adopted');
  assert.equal(after.jobStatus.state, 'RUNNING');
  const vcAfter = (await s.req('GET', '/api/v2/virtual-clusters/research', { token: alice })).body;
  assert.equal(vcAfter.usedLeafCells, 8);
  assert.deepEqual([vcAfter.placedJobs, vcAfter.waitingJobs], [1, 1], 'a restored placement counts as placed');
  assert.equal((await s.req('GET', '/api/v2/jobs/alice~stopped', { token: alice })).body.jobStatus.state, 'STOPPED');
  // the waiting job still waits, and is placed once the VC frees up
  assert.equal((await s.req('GET', '/api/v2/jobs/alice~waits', { token: alice })).body.taskRoles.trainer.taskStatuses[0].containerNodeName, null);
  assert.equal((await s.req('PUT', '/api/v2/jobs/alice~placed/executionType', { token: alice, body: { value: 'STOP' } })).status, 202);
  const w = await s.until('/api/v2/jobs/alice~waits', alice,
    (b) => b.taskRoles.trainer.taskStatuses[0].containerNodeName, { what: 'waits to be placed' });
  assert.ok(w.taskRoles.trainer.taskStatuses[0].containerNodeName);
  assert.equal((await s.waitState(alice, 'alice~placed', 'STOPPED')).jobStatus.appExitCode, -210);
  const vcEnd = (await s.req('GET', '/api/v2/virtual-clusters/research', { token: alice })).body;
  assert.deepEqual([vcEnd.placedJobs, vcEnd.waitingJobs], [1, 0], 'waits is placed, placed is gone');
  // names stay taken across restarts
  assert.equal((await s.submit(alice, gpuJob('stopped'))).status, 409);
});

test('every 201 survives a kill -9 in the middle of a burst', async () => {
  const s = new Server();
  servers.push(s);
  await s.start();
  const admin = await s.login();
  const acked = [];
  const burst = [];
  for (let i = 0; i < 60; i++) {
    const name = `burst${i}`;
    burst.push(s.submit(admin, `protocolVersion: 2
name: ${name}
type: job
prerequisites: [{name: i, type: dockerimage, uri: busybox}]
taskRoles:
  w: {dockerImage: i, commands: ['true'], resourcePerInstance: {cpu: 1, memoryMB: 64, gpu: 0}}
`).then((r) => {
      if (r.status === 201) acked.push(name);
      if (acked.length === 15) s.kill9();   // crash while the rest are in flight
    }).catch(() => {}));
  }
  await Promise.all(burst);
  assert.ok(acked.length >= 15, `only ${acked.length} acknowledged before the crash`);
  await s.exited;
  await s.start();
  const token = await s.login();
  const listed = (await s.req('GET', '/api/v2/jobs?limit=1000', { token })).body.map((j) => j.name);
  for (const name of acked) assert.ok(listed.includes(name), `${name} was acknowledged but is gone`);
  assert.ok(acked.length > 0);
});

test('one server per data directory and per port: a second one refuses to start, the first serves on', async () => {
  const s = new Server();
  servers.push(s);
  await s.start();
  const admin = await s.login();
  const run = (args) => new Promise((resolve) => {
    const p = spawn(GANTRY, ['server', '--quiet', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    const t = setTimeout(() => p.kill('SIGKILL'), 10000);
    p.on('exit', (code) => { clearTimeout(t); resolve({ code, err }); });
  });
  let r = await run(['--data', s.dir, '--listen', '127.0.0.1:0']);
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, new RegExp(`data directory .* is in use by another gantry server \\(pid ${s.proc.pid}\\)`));
  const other = mkdtempSync(join(tmpdir(), 'gantry-e2e-'));
  try {
    r = await run(['--data', other, '--listen', new URL(s.url).host]);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /cannot listen on 127\.0\.0\.1:[0-9]+: Address already in use/);
  } finally {
    rmSync(other, { recursive: true, force: true });
  }
  assert.equal((await s.req('GET', '/api/v2/jobs', { token: admin })).status, 200, 'the first still serves');
  // the lock goes with the process, kill -9 included
  await s.kill9();
  await s.start();
  assert.equal((await s.req('GET', '/api/v2/jobs', { token: admin })).status, 200);
});

test('a cluster file that no longer admits a running job: the job is stopped, its cells go to others', async () => {
  const cluster = (def, research) => `skuTypes:
  V100: {gpu: 1, cpu: 4, memory: 32768}
physicalCluster:
  cellTypes:
    V100-NODE: {childCellType: V100, childCellNumber: 8, isNodeLevel: true}
    V100-RACK: {childCellType: V100-NODE, childCellNumber: 3}
  physicalCells:
    - cellType: V100-RACK
      cellChildren: [{cellAddress: node1}, {cellAddress: node2}, {cellAddress: node3}]
virtualClusters:
  default:
    virtualCells: [{cellType: V100-RACK.V100-NODE, cellNumber: ${def}}]
  research:
    virtualCells: [{cellType: V100-RACK.V100-NODE, cellNumber: ${research}}]
nodes:
  - {name: node1, address: 127.0.0.1, simulatedGpus: true}
  - {name: node2, address: 127.0.0.1, simulatedGpus: true}
  - {name: node3, address: 127.0.0.1, simulatedGpus: true}
`;
  const s = new Server({ config: cluster(1, 2), env: { GANTRY_STOP_GRACE: '1' } });
  servers.push(s);
  await s.start();
  const admin = await s.login();
  const alice = await s.user(admin, 'alice', { vcs: ['research'] });
  assert.equal((await s.submit(alice, gpuJob('big', { gpu: 8, instances: 2, vc: 'research', cmd: 'sleep 600' }))).status, 201);
  await s.waitState(alice, 'alice~big', 'RUNNING');
  await s.stop();
  s.config = cluster(2, 1);   // research shrinks to one node under its 2-node job
  await s.start();
  const d = await s.waitState(alice, 'alice~big', 'STOPPED');
  const ev = (await s.req('GET', '/api/v2/jobs/alice~big/events', { token: alice })).body.data;
  assert.ok(ev.some((e) => e.reason === 'ClusterChanged' && /no longer admits this job: .*research/.test(e.message)),
    JSON.stringify(ev.map((e) => e.message)));
  assert.match(d.jobStatus.appExitDiagnostics ?? JSON.stringify(d.jobStatus), /cluster file changed/);
  // a diagnostic that ends its own sentence gets no second period
  assert.ok(!ev.some((e) => /[^.]\.\.(\s|$)/.test(e.message)), JSON.stringify(ev.map((e) => e.message)));
  assert.ok(ev.some((e) => e.reason === 'AttemptCompleted' && /other jobs\)\. Triggered|other jobs\)\.$/.test(e.message)),
    JSON.stringify(ev.map((e) => e.message)));
  // its cells are free for others: default now has two nodes, and a 2x8 job runs there
  assert.equal((await s.submit(admin, gpuJob('after', { gpu: 8, instances: 2, vc: 'default', cmd: 'sleep 2' }))).status, 201);
  await s.waitState(admin, 'admin~after', 'RUNNING');
  const vc = (await s.req('GET', '/api/v2/virtual-clusters/research', { token: alice })).body;
  assert.equal(vc.usedLeafCells, 0);
  assert.deepEqual([vc.placedJobs, vc.waitingJobs], [0, 0]);
});
