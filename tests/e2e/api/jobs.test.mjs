// SPDX-License-Identifier: MIT
// Job submission, admission through the scheduler, queries, stop, tags, events.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, CLUSTER, gpuJob } from '../lib.mjs';

let s, admin, alice, bob;
before(async () => {
  s = await new Server({ config: CLUSTER }).start();
  admin = await s.login();
  alice = await s.user(admin, 'alice', { vcs: ['research'] });
  bob = await s.user(admin, 'bob');
});
after(async () => { await s.stop(); s.cleanup(); });

test('VCs and SKUs come from the scheduler', async () => {
  let r = await s.req('GET', '/api/v2/virtual-clusters', { token: alice });
  assert.equal(r.status, 200);
  assert.deepEqual(Object.keys(r.body).sort(), ['default', 'research']);
  const d = r.body.default;
  assert.equal(d.capacity, 50);
  assert.equal(d.resourcesTotal.gpu, 8);
  assert.equal(d.resourcesTotal.cpu, 32);
  assert.equal(d.dedicated, false);
  r = await s.req('GET', '/api/v2/virtual-clusters/research', { token: alice });
  assert.equal(r.status, 200);
  assert.equal(r.body.quotaLeafCells, 8);
  r = await s.req('GET', '/api/v2/virtual-clusters/nope', { token: alice });
  assert.equal(r.status, 404);
  assert.equal(r.body.code, 'NoVirtualClusterError');
  r = await s.req('GET', '/api/v2/cluster/sku-types', { token: alice });
  assert.deepEqual(r.body, { V100: { cpu: 4, memory: 32768, gpu: 1 } });
  r = await s.req('GET', '/api/v2/virtual-clusters/research/sku-types', { token: alice });
  assert.deepEqual(Object.keys(r.body), ['V100']);
  r = await s.req('GET', '/api/v2/cluster/nodes', { token: alice });
  assert.deepEqual(r.body.map((n) => n.name), ['node1', 'node2']);
  assert.ok(r.body.every((n) => n.healthy && n.simulatedGpus && n.leafCells === 8));
  r = await s.req('PUT', '/api/v2/virtual-clusters/research', { token: admin, body: { vcCapacity: 50 } });
  assert.equal(r.status, 400);
  assert.equal(r.body.code, 'NotImplementedError');
});

test('submit: 201, then detail, config with secrets masked, events', async () => {
  const yaml = gpuJob('train1', { gpu: 2, instances: 2 }) + 'secrets:\n  token: do-not-leak\n';
  let r = await s.submit(bob, yaml);
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(r.body, { status: 201, message: 'Update job train1 for user bob successfully.' });

  r = await s.req('GET', '/api/v2/jobs/bob~train1', { token: alice });   // any user can read
  assert.equal(r.status, 200);
  assert.equal(r.body.name, 'train1');
  assert.equal(r.body.jobStatus.username, 'bob');
  // placed at once: its tasks are starting (WAITING) or started (RUNNING)
  assert.ok(['WAITING', 'RUNNING'].includes(r.body.jobStatus.state), r.body.jobStatus.state);
  assert.equal(r.body.jobStatus.executionType, 'START');
  assert.equal(r.body.jobStatus.virtualCluster, 'default');
  assert.match(r.body.debugId, /^[0-9a-f]{32}$/);
  const tasks = r.body.taskRoles.trainer.taskStatuses;
  assert.equal(tasks.length, 2);
  // placed by the scheduler: both on node1's or node2's GPUs, 2 each, none shared
  const cells = tasks.map((t) => `${t.containerNodeName}:${t.leafCells.join(',')}`);
  assert.equal(new Set(cells).size, 2);
  for (const t of tasks) {
    assert.ok(['node1', 'node2'].includes(t.containerNodeName));
    assert.equal(t.leafCells.length, 2);
  }
  assert.ok(tasks[0].containerLog.startsWith('/api/v2/jobs/bob~train1/attempts/0/taskRoles/trainer/taskIndex/0/'));

  r = await s.req('GET', '/api/v2/jobs/bob~train1/config', { token: alice });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /yaml/);
  assert.ok(!r.text.includes('do-not-leak'));
  assert.match(r.text, /secrets:\s*'\*\*\*\*\*\*'/);

  await s.waitState(bob, 'bob~train1', 'RUNNING');
  r = await s.req('GET', '/api/v2/jobs/bob~train1/events', { token: alice });
  assert.equal(r.status, 200);
  const reasons = r.body.data.map((e) => e.reason);
  assert.deepEqual(reasons.slice(-2), ['Placed', 'Submitted']);   // newest first
  assert.ok(reasons.includes('Running'), reasons.join());
  const placed = r.body.data[reasons.indexOf('Placed')];
  assert.match(placed.message, /trainer-0 on node node[12] GPUs \[\d,\d\]/);
  assert.match(r.body.data[reasons.length - 1].message,
    /Submitted by bob to virtual cluster default: 1 task role, 2 tasks, 4 GPUs/);
});

test('invalid jobs: 400 with every message, positions, and an errors list', async () => {
  const r = await s.submit(bob, 'protocolVersion: 2\nname: "bad name"\ntype: job\ntaskRoles: {}\n');
  assert.equal(r.status, 400);
  assert.equal(r.body.code, 'InvalidProtocolError');
  assert.ok(r.body.message.includes('.name should match pattern "^[a-zA-Z0-9_-]+$"'));
  assert.ok(r.body.message.includes(".taskRoles should NOT have fewer than 1 properties"));
  assert.deepEqual(r.body.errors.map((e) => e.line), [2, 4]);
  const y = await s.submit(bob, 'a: [\n');
  assert.equal(y.status, 400);
  assert.equal(y.body.code, 'InvalidProtocolError');
  assert.equal(y.body.errors[0].line, 2);
});

test('VC access: 403 without the VC, 404 for an unknown VC', async () => {
  let r = await s.submit(bob, gpuJob('r1', { vc: 'research' }));
  assert.equal(r.status, 403);
  assert.equal(r.body.code, 'ForbiddenUserError');
  r = await s.submit(bob, gpuJob('r2', { vc: 'nowhere' }));
  assert.equal(r.status, 404);
  assert.equal(r.body.code, 'NoVirtualClusterError');
  r = await s.submit(alice, gpuJob('r1', { vc: 'research' }));
  assert.equal(r.status, 201);
});

test('admission: a job its VC can never hold is a clear 400', async () => {
  // 2 instances x 8 GPUs: more than the VC's one node, in a gang
  let r = await s.submit(bob, gpuJob('toobig', { gpu: 8, instances: 2 }));
  assert.equal(r.status, 400);
  assert.equal(r.body.code, 'InvalidProtocolError');
  assert.match(r.body.message, /16 SKUs, exceeds maximum 8 SKUs in VC default|can never run/);
  // a single task wider than any node
  r = await s.submit(bob, gpuJob('wide', { gpu: 9 }));
  assert.equal(r.status, 400);
  // an opportunistic job may use cells beyond its VC's quota
  r = await s.submit(bob, gpuJob('oppo1', { gpu: 2, prio: 'oppo' }));
  assert.equal(r.status, 201, r.text);
});

test('names are unique per user forever: 409, also after stop', async () => {
  let r = await s.submit(bob, gpuJob('once'));
  assert.equal(r.status, 201);
  r = await s.submit(bob, gpuJob('once'));
  assert.equal(r.status, 409);
  assert.deepEqual(r.body, { code: 'ConflictJobError', message: 'Job bob~once already exists.' });
  r = await s.req('PUT', '/api/v2/jobs/bob~once/executionType', { token: bob, body: { value: 'STOP' } });
  assert.equal(r.status, 202);
  r = await s.submit(bob, gpuJob('once'));
  assert.equal(r.status, 409);
  r = await s.submit(alice, gpuJob('once', { vc: 'research' }));   // another user may
  assert.equal(r.status, 201);
});

test('stop: owner or admin only; a running job stops, a waiting job goes straight to STOPPED', async () => {
  let r = await s.submit(bob, gpuJob('tostop'));
  assert.equal(r.status, 201);
  await s.waitState(bob, 'bob~tostop', 'RUNNING');
  r = await s.req('PUT', '/api/v2/jobs/bob~tostop/executionType', { token: alice, body: { value: 'STOP' } });
  assert.equal(r.status, 403);
  r = await s.req('PUT', '/api/v2/jobs/bob~tostop/executionType', { token: bob, body: { value: 'HALT' } });
  assert.equal(r.status, 400);
  r = await s.req('PUT', '/api/v2/jobs/bob~tostop/executionType', { token: admin, body: { value: 'STOP' } });
  assert.equal(r.status, 202);
  r = await s.req('GET', '/api/v2/jobs/bob~tostop', { token: bob });
  assert.ok(['STOPPING', 'STOPPED'].includes(r.body.jobStatus.state), r.body.jobStatus.state);
  r = { body: await s.waitState(bob, 'bob~tostop', 'STOPPED') };
  assert.equal(r.body.jobStatus.executionType, 'STOP');
  assert.equal(r.body.jobStatus.appExitCode, -210);
  assert.equal(r.body.jobStatus.appExitSpec.phrase, 'StopFrameworkRequested');
  assert.equal(r.body.taskRoles.trainer.taskStatuses[0].containerExitCode, -220);
  // a job that waits for cells: STOPPED in the same decision, no process ever ran
  r = await s.submit(bob, gpuJob('neverran', { gpu: 8 }));
  assert.equal(r.status, 201);
  r = await s.req('GET', '/api/v2/jobs/bob~neverran', { token: bob });
  assert.equal(r.body.jobStatus.state, 'WAITING');
  r = await s.req('PUT', '/api/v2/jobs/bob~neverran/executionType', { token: bob, body: { value: 'STOP' } });
  assert.equal(r.status, 202);
  r = await s.req('GET', '/api/v2/jobs/bob~neverran', { token: bob });
  assert.equal(r.body.jobStatus.state, 'STOPPED');
  assert.equal(r.body.taskRoles.trainer.taskStatuses[0].containerId, null);
  r = await s.req('PUT', '/api/v2/jobs/bob~nosuch/executionType', { token: bob, body: { value: 'STOP' } });
  assert.equal(r.status, 404);
  assert.equal(r.body.code, 'NoJobError');
});

test('waiting jobs say why, and are placed when cells free up', async () => {
  // train1 holds 4 of the default VC's 8 GPUs: fill the other 4, then queue
  let r = await s.submit(bob, gpuJob('fill', { gpu: 4 }));
  assert.equal(r.status, 201);
  r = await s.submit(bob, gpuJob('queued', { gpu: 4 }));
  assert.equal(r.status, 201);
  r = await s.req('GET', '/api/v2/jobs/bob~queued/events', { token: bob });
  const waiting = r.body.data.find((e) => e.reason === 'Waiting');
  assert.ok(waiting, JSON.stringify(r.body));
  assert.ok(waiting.message.length > 10);
  r = await s.req('GET', '/api/v2/jobs/bob~queued', { token: bob });
  assert.equal(r.body.taskRoles.trainer.taskStatuses[0].containerNodeName, null);
  // free the cells: the queued job is placed at once
  for (const name of ['fill', 'train1']) {
    r = await s.req('PUT', `/api/v2/jobs/bob~${name}/executionType`, { token: bob, body: { value: 'STOP' } });
    assert.equal(r.status, 202);
  }
  // placed as soon as the stopped jobs' processes are gone
  r = { body: await s.until('/api/v2/jobs/bob~queued', bob,
    (b) => b.taskRoles.trainer.taskStatuses[0].containerNodeName, { what: 'queued to be placed' }) };
  assert.ok(r.body.taskRoles.trainer.taskStatuses[0].containerNodeName, 'placed after the release');
  const vc = (await s.req('GET', '/api/v2/virtual-clusters/default', { token: bob })).body;
  assert.ok(vc.usedLeafCells >= 4);
});

test('list: bare array, filters, paging with totalCount, ordering, keyword', async () => {
  let r = await s.req('GET', '/api/v2/jobs', { token: bob });
  assert.equal(r.status, 200);
  assert.ok(Array.isArray(r.body));
  const item = r.body.find((j) => j.name === 'queued');
  for (const k of ['debugId', 'name', 'username', 'state', 'subState', 'executionType', 'tags', 'retries', 'retryDetails',
    'retryDelayTime', 'submissionTime', 'createdTime', 'launchedTime', 'completedTime', 'appExitCode', 'virtualCluster',
    'totalGpuNumber', 'totalTaskNumber', 'totalTaskRoleNumber', 'jobPriority']) assert.ok(k in item, k);
  assert.equal(item.totalGpuNumber, 4);
  r = await s.req('GET', '/api/v2/jobs?username=alice', { token: bob });
  assert.ok(r.body.length >= 2 && r.body.every((j) => j.username === 'alice'));
  r = await s.req('GET', '/api/v2/jobs?state=STOPPED,SUCCEEDED', { token: bob });
  assert.ok(r.body.length >= 3 && r.body.every((j) => j.state === 'STOPPED'));
  r = await s.req('GET', '/api/v2/jobs?vc=research', { token: bob });
  assert.ok(r.body.every((j) => j.virtualCluster === 'research'));
  r = await s.req('GET', '/api/v2/jobs?jobPriority=oppo', { token: bob });
  assert.deepEqual(r.body.map((j) => j.name), ['oppo1']);
  r = await s.req('GET', '/api/v2/jobs?username=bob&withTotalCount=true&offset=1&limit=2&order=jobName,ASC', { token: bob });
  assert.equal(r.status, 200);
  assert.ok(r.body.totalCount >= 6);
  assert.equal(r.body.data.length, 2);
  const names = (await s.req('GET', '/api/v2/jobs?username=bob&order=jobName,ASC', { token: bob })).body.map((j) => j.name);
  assert.deepEqual(names, [...names].sort());
  assert.deepEqual(r.body.data.map((j) => j.name), names.slice(1, 3));
  r = await s.req('GET', '/api/v2/jobs?keyword=queu', { token: bob });
  assert.deepEqual(r.body.map((j) => j.name), ['queued']);
  r = await s.req('GET', '/api/v2/jobs?limit=0', { token: bob });
  assert.equal(r.status, 400);
  r = await s.req('GET', '/api/v2/jobs?order=bogus', { token: bob });
  assert.equal(r.status, 400);
});

test('tags', async () => {
  let r = await s.req('PUT', '/api/v2/jobs/bob~queued/tag', { token: bob, body: { value: 'urgent' } });
  assert.equal(r.status, 200);
  r = await s.req('PUT', '/api/v2/jobs/bob~queued/tag', { token: alice, body: { value: 'mine' } });
  assert.equal(r.status, 403);
  r = await s.req('PUT', '/api/v2/jobs/bob~queued/tag', { token: bob, body: { value: 'a,b' } });
  assert.equal(r.status, 400);
  r = await s.req('GET', '/api/v2/jobs?tagsContain=urgent', { token: bob });
  assert.deepEqual(r.body.map((j) => j.name), ['queued']);
  assert.deepEqual(r.body[0].tags, ['urgent']);
  r = await s.req('GET', '/api/v2/jobs?username=bob&tagsNotContain=urgent', { token: bob });
  assert.ok(!r.body.some((j) => j.name === 'queued'));
  r = await s.req('DELETE', '/api/v2/jobs/bob~queued/tag', { token: bob, body: { value: 'urgent' } });
  assert.equal(r.status, 200);
  r = await s.req('DELETE', '/api/v2/jobs/bob~queued/tag', { token: bob, body: { value: 'urgent' } });
  assert.equal(r.status, 404);
  assert.equal(r.body.code, 'NoTagError');
});

test('attempts, ssh, unknown jobs, the VS Code name check', async () => {
  let r = await s.req('GET', '/api/v2/jobs/bob~queued/job-attempts/0', { token: bob });
  assert.equal(r.status, 200);
  assert.equal(r.body.attemptIndex, 0);
  assert.equal(r.body.isLatest, true);
  r = await s.req('GET', '/api/v2/jobs/bob~queued/job-attempts', { token: bob });
  assert.equal(r.body.length, 1);
  r = await s.req('GET', '/api/v2/jobs/bob~queued/attempts/0', { token: bob });
  assert.equal(r.status, 200);
  assert.equal(r.body.jobStatus.attemptId, 0);
  r = await s.req('GET', '/api/v2/jobs/bob~queued/attempts/7', { token: bob });
  assert.equal(r.status, 404);
  r = await s.req('GET', '/api/v2/jobs/bob~queued/ssh', { token: bob });
  assert.equal(r.status, 404);
  assert.equal(r.body.code, 'NoJobSshInfoError');
  for (const p of ['/api/v2/jobs/bob~none', '/api/v2/jobs/bob~none/config', '/api/v2/jobs/nonsense', '/api/v2/jobs/bob~none/job-attempts/0']) {
    r = await s.req('GET', p, { token: bob });
    assert.equal(r.status, 404, p);
    assert.equal(r.body.code, 'NoJobError', p);
  }
  r = await s.req('GET', '/rest-server/api/v1/user/bob/jobs/nonexistent', { token: bob });
  assert.equal(r.status, 404);
  assert.equal(r.body.code, 'NoJobError');
  r = await s.req('GET', '/rest-server/api/v1/user/bob/jobs/queued', { token: bob });
  assert.equal(r.status, 200);
});

test('application tokens may submit and stop their own jobs', async () => {
  const app = (await s.req('POST', '/api/v2/tokens/application', { token: bob })).body.token;
  let r = await s.submit(app, gpuJob('byapp'));
  assert.equal(r.status, 201);
  r = await s.req('PUT', '/api/v2/jobs/bob~byapp/executionType', { token: app, body: { value: 'STOP' } });
  assert.equal(r.status, 202);
});

// A role of its own, so that other tests' job lists and counts stay as they are.
function roleJob(name, roles, vc = 'research') {
  let y = `protocolVersion: 2\nname: ${name}\ntype: job\n` +
    `prerequisites:\n  - {name: img, type: dockerimage, uri: 'ubuntu:22.04'}\ntaskRoles:\n`;
  for (const [role, r] of Object.entries(roles))
    y += `  ${role}:\n    dockerImage: img\n    resourcePerInstance: {cpu: 1, memoryMB: 512, gpu: ${r.gpu}}\n` +
      `    commands: ${JSON.stringify(r.commands)}\n`;
  return y + `defaults:\n  virtualCluster: ${vc}\n`;
}

test('a gpu: 0 task on a GPU SKU sees no GPU, though a leaf cell holds its cpu and memory', async () => {
  let r = await s.submit(alice, roleJob('nogpu', { main: { gpu: 0, commands: ['env | sort'] } }));
  assert.equal(r.status, 201, r.text);
  const d = await s.waitState(alice, 'alice~nogpu', ['SUCCEEDED', 'FAILED', 'STOPPED']);
  assert.equal(d.jobStatus.state, 'SUCCEEDED', JSON.stringify(d.jobStatus));
  const t = d.taskRoles.main.taskStatuses[0];
  assert.equal(t.leafCells.length, 1);       // the scheduler's cell, not a GPU for the task
  r = await s.req('GET', t.containerLog, { token: alice });
  assert.equal(r.status, 200, r.text);
  const all = r.body.locations.find((l) => l.name === 'all');
  const text = await (await fetch(s.url + all.uri)).text();
  assert.match(text, /^NVIDIA_VISIBLE_DEVICES=none$/m);
  assert.match(text, /^CUDA_VISIBLE_DEVICES=$/m);
  assert.doesNotMatch(text, /^CUDA_DEVICE_ORDER=/m);
});

test('task roles whose converted names collide are refused: 400 naming both', async () => {
  const yaml = roleJob('collide', { ab: { gpu: 1, commands: ['true'] }, a_b: { gpu: 1, commands: ['true'] } });
  let r = await s.submit(alice, yaml);
  assert.equal(r.status, 400, r.text);
  assert.equal(r.body.code, 'InvalidProtocolError');
  assert.match(r.body.message, /Task roles ab and a_b collide/);
  assert.equal(r.body.errors.length, 1);
  assert.equal(r.body.errors[0].line, 11);   // a_b's key
  r = await s.req('GET', '/api/v2/jobs/alice~collide', { token: alice });
  assert.equal(r.status, 404);
});

test('a job file starting with a byte-order mark is read as js-yaml reads it', async () => {
  let r = await s.submit(alice, '\uFEFF' + roleJob('bom', { main: { gpu: 0, commands: ['true'] } }));
  assert.equal(r.status, 201, r.text);
  // and its errors keep their positions
  r = await s.submit(alice, '\uFEFFprotocolVersion: 2\nname: "bad name"\ntype: job\ntaskRoles: {}\n');
  assert.equal(r.status, 400);
  assert.deepEqual(r.body.errors.map((e) => [e.line, e.column]), [[2, 7], [4, 12]]);
});
