// SPDX-License-Identifier: MIT
// Crash test: 50 tasks running, kill -9 the server, restart. Every task
// keeps running (or has ended meanwhile), is never launched twice, and
// finishes with its exit code recorded.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Server } from '../lib.mjs';

// 64 one-CPU leaf cells on four simulated nodes, one virtual cluster
const CPU_CLUSTER = `skuTypes:
  cpu1: {gpu: 0, cpu: 1, memory: 256}
physicalCluster:
  cellTypes:
    CPU-NODE: {childCellType: cpu1, childCellNumber: 16, isNodeLevel: true}
    CPU-RACK: {childCellType: CPU-NODE, childCellNumber: 4}
  physicalCells:
    - cellType: CPU-RACK
      cellChildren: [{cellAddress: c1}, {cellAddress: c2}, {cellAddress: c3}, {cellAddress: c4}]
virtualClusters:
  default:
    virtualCells: [{cellType: CPU-RACK, cellNumber: 1}]
nodes:
  - {name: c1, address: 127.0.0.1}
  - {name: c2, address: 127.0.0.1}
  - {name: c3, address: 127.0.0.1}
  - {name: c4, address: 127.0.0.1}
`;

const N = 50;
let s;
after(async () => { if (s) { await s.stop(); s.cleanup(); } });

test('50 running tasks survive kill -9 of the server and finish with their exit codes', { timeout: 120000 }, async () => {
  s = await new Server({ config: CPU_CLUSTER }).start();
  let token = await s.login();
  // even tasks end while the server is down, odd ones after it is back
  const submits = [];
  for (let i = 0; i < N; i++) {
    const sleep = i % 2 ? 6 : 1.5;
    submits.push(s.submit(token, `protocolVersion: 2
name: crash${i}
type: job
prerequisites: [{name: img, type: dockerimage, uri: busybox}]
taskRoles:
  w:
    dockerImage: img
    resourcePerInstance: {cpu: 1, memoryMB: 100, gpu: 0}
    commands:
      - echo launched >> launches
      - sleep ${sleep}
      - exit $(( ${i} % 3 ))
`));
  }
  for (const r of await Promise.all(submits)) assert.equal(r.status, 201, r.text);
  // all running
  await s.until('/api/v2/jobs?limit=100', token,
    (list) => list.length === N && list.every((j) => j.state === 'RUNNING'), { timeout: 30000, what: 'all 50 running' });

  await s.kill9();
  await new Promise((r) => setTimeout(r, 2500));   // the short tasks end meanwhile
  const restartAt = Date.now();
  await s.start();
  token = await s.login();

  const list = await s.until('/api/v2/jobs?limit=100', token,
    (l) => l.length === N && l.every((j) => ['SUCCEEDED', 'FAILED'].includes(j.state)),
    { timeout: 60000, what: 'all 50 final' });
  assert.equal(list.length, N, 'every acknowledged job is still there');
  for (let i = 0; i < N; i++) {
    const d = (await s.req('GET', `/api/v2/jobs/admin~crash${i}`, { token })).body;
    const want = i % 3;
    assert.equal(d.jobStatus.state, want ? 'FAILED' : 'SUCCEEDED', `crash${i}`);
    assert.equal(d.jobStatus.retries, 0, `crash${i} was not retried`);
    const t = d.taskRoles.w.taskStatuses[0];
    assert.equal(t.containerExitCode, want ? 255 : 0, `crash${i}`);
    if (want) assert.equal(d.jobStatus.appExitMessages.runtime.originUserExitCode, want, `crash${i}`);
    // a task that ended while the server was away completed then, not at the restart
    if (i % 2 === 0) {
      assert.ok(d.jobStatus.completedTime < restartAt, `crash${i}: completed ${d.jobStatus.completedTime}, restart ${restartAt}`);
      assert.ok(t.completedTime > 0 && t.completedTime < restartAt, `crash${i} task: ${t.completedTime}`);
    } else {
      assert.ok(d.jobStatus.completedTime > restartAt, `crash${i} ended after the restart`);
    }
    // launched exactly once, in its own working directory
    const launches = readFileSync(`${s.dir}/jobs/admin~crash${i}/0/w-0/launches`, 'utf8');
    assert.equal(launches, 'launched\n', `crash${i} ran once`);
  }
});
