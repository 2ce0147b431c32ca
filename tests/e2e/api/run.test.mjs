// SPDX-License-Identifier: MIT
// Jobs run: OpenPAI's lifecycle on the local executor — environment, logs,
// exit codes and their classification, completion policies, job and task
// retries, stop, memory limits, GPU placement, queueing, preemption.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Server, CLUSTER } from '../lib.mjs';

let s, admin, bob;
before(async () => {
  s = await new Server({ config: CLUSTER, env: { GANTRY_STOP_GRACE: '2' } }).start();
  admin = await s.login();
  bob = await s.user(admin, 'bob');
});
after(async () => { await s.stop(); s.cleanup(); });

const FINAL = ['SUCCEEDED', 'FAILED', 'STOPPED'];

function job(name, roles, { retries = 0, extra = '', vc } = {}) {
  let y = `protocolVersion: 2
name: ${name}
type: job
jobRetryCount: ${retries}
prerequisites:
  - {name: img, type: dockerimage, uri: 'ubuntu:22.04'}
taskRoles:
`;
  for (const [role, r] of Object.entries(roles)) {
    y += `  ${role}:
    instances: ${r.instances ?? 1}
    dockerImage: img
${r.completion ? `    completion: ${JSON.stringify(r.completion)}\n` : ''}${r.taskRetryCount !== undefined ? `    taskRetryCount: ${r.taskRetryCount}\n` : ''}    resourcePerInstance: {cpu: ${r.cpu ?? 1}, memoryMB: ${r.memoryMB ?? 512}, gpu: ${r.gpu ?? 1}}
    commands:
${r.commands.map((c) => `      - ${JSON.stringify(c)}`).join('\n')}
`;
  }
  return y + (vc ? `defaults:\n  virtualCluster: ${vc}\n` : '') + extra;
}

async function submit(token, yaml) {
  const r = await s.submit(token, yaml);
  assert.equal(r.status, 201, r.text);
}

// the text of a task's log (stdout+stderr), through the API's log routes
async function log(token, jobName, role, index, name = 'all') {
  const d = (await s.req('GET', `/api/v2/jobs/${jobName}`, { token })).body;
  const t = d.taskRoles[role].taskStatuses[index];
  const list = await s.req('GET', t.containerLog, { token });
  assert.equal(list.status, 200, list.text);
  const loc = list.body.locations.find((l) => l.name === name);
  assert.ok(loc, JSON.stringify(list.body));
  const r = await fetch(s.url + loc.uri);
  return r.text();
}

function envOf(text) {
  const env = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) env[m[1]] = m[2];
  }
  return env;
}

test('a job runs to SUCCEEDED with OpenPAI\'s environment, its logs, and its GPUs', async () => {
  await submit(bob, job('envjob', {
    // the master's success ends the job; the workers' must not (OpenPAI's default would: minSucceededInstances = instances)
    master: { gpu: 2, commands: ['sleep 1', 'env | sort', 'echo to-stderr >&2'] },
    worker_a: { instances: 2, gpu: 1, completion: { minSucceededInstances: -1 }, commands: ['env | sort'] },
  }) + 'secrets:\n  key: s3cr3t-value\n');
  const d = await s.waitState(bob, 'bob~envjob', FINAL);
  assert.equal(d.jobStatus.state, 'SUCCEEDED', JSON.stringify(d));
  assert.equal(d.jobStatus.appExitTriggerTaskRoleName, 'master');
  assert.equal(d.jobStatus.appExitCode, 0);
  assert.equal(d.jobStatus.appExitType, 'Succeeded');
  assert.ok(d.jobStatus.launchedTime > 0 && d.jobStatus.completedTime >= d.jobStatus.launchedTime);
  const m = d.taskRoles.master.taskStatuses[0];
  assert.equal(m.taskState, 'SUCCEEDED');
  assert.equal(m.containerExitCode, 0);

  const all = await log(bob, 'bob~envjob', 'master', 0);
  const env = envOf(all);
  assert.equal(env.PAI_JOB_NAME, 'bob~envjob');
  assert.equal(env.PAI_FRAMEWORK_NAME, 'bob~envjob');
  assert.equal(env.PAI_USER_NAME, 'bob');
  assert.equal(env.PAI_CURRENT_TASK_ROLE_NAME, 'master');
  assert.equal(env.PAI_TASK_ROLE_NAME, 'master');
  assert.equal(env.PAI_CURRENT_TASK_ROLE_CURRENT_TASK_INDEX, '0');
  assert.equal(env.PAI_TASK_INDEX, '0');
  assert.equal(env.PAI_TASK_ROLE_COUNT, '2');
  assert.equal(env.PAI_TASK_ROLE_LIST, 'master,worker_a');
  assert.equal(env.PAI_TASK_ROLE_TASK_COUNT_worker_a, '2');
  assert.equal(env.PAI_VIRTUAL_CLUSTER, 'default');
  assert.equal(env.PAI_TASK_ROLE_INSTANCES, 'master:0,workera:0,workera:1');
  // hosts and ports of every task, with OpenPAI's converted role names
  assert.equal(env.PAI_HOST_IP_master_0, '127.0.0.1');
  assert.equal(env.PAI_HOST_IP_workera_1, '127.0.0.1');
  assert.match(env.PAI_PORT_LIST_master_0_ssh, /^\d+$/);
  assert.equal(env.PAI_CONTAINER_SSH_PORT, env.PAI_PORT_LIST_master_0_ssh);
  assert.equal(String(m.containerPorts.ssh), env.PAI_CONTAINER_SSH_PORT);
  // exactly the GPUs the scheduler chose
  assert.equal(env.CUDA_VISIBLE_DEVICES, m.leafCells.join(','));
  assert.equal(env.NVIDIA_VISIBLE_DEVICES, m.leafCells.join(','));
  assert.equal(m.leafCells.length, 2);
  const w1 = envOf(await log(bob, 'bob~envjob', 'workera', 1));
  assert.equal(w1.PAI_CURRENT_TASK_ROLE_NAME, 'worker_a');
  assert.equal(w1.PAI_TASK_INDEX, '1');
  assert.equal(w1.CUDA_VISIBLE_DEVICES, d.taskRoles.workera.taskStatuses[1].leafCells.join(','));
  assert.notEqual(w1.PAI_PORT_LIST_workera_1_ssh, env.PAI_PORT_LIST_master_0_ssh);
  // no secret in any variable
  assert.ok(!all.includes('s3cr3t-value'));
  // stdout and stderr apart and together
  assert.ok((await log(bob, 'bob~envjob', 'master', 0, 'stderr')).includes('to-stderr'));
  assert.ok(!(await log(bob, 'bob~envjob', 'master', 0, 'stdout')).includes('to-stderr'));
  assert.ok(all.includes('to-stderr') && all.includes('PAI_JOB_NAME='));
});

test('secrets are rendered into the command at run time only', async () => {
  await submit(bob, job('secretjob', { main: { gpu: 0, cpu: 1, commands: ['echo "key=<% $secrets.key %>" | tr a-z A-Z'] } })
    + 'secrets:\n  key: abc-secret\n');
  const d = await s.waitState(bob, 'bob~secretjob', FINAL);
  assert.equal(d.jobStatus.state, 'SUCCEEDED', JSON.stringify(d.jobStatus));
  assert.match(await log(bob, 'bob~secretjob', 'main', 0), /KEY=ABC-SECRET/);
  const cfg = await s.req('GET', '/api/v2/jobs/bob~secretjob/config', { token: bob });
  assert.ok(!cfg.text.includes('abc-secret'));
});

test('a failing job is FAILED with its exit code and OpenPAI\'s classification', async () => {
  await submit(bob, job('fails', { main: { gpu: 0, commands: ['echo before', 'exit 3'] } }));
  await submit(bob, job('notfound', { main: { gpu: 0, commands: ['no-such-command-here --x'] } }));
  let d = await s.waitState(bob, 'bob~fails', FINAL);
  assert.equal(d.jobStatus.state, 'FAILED');
  assert.equal(d.jobStatus.appExitCode, 255);   // unrecognised user failure
  assert.equal(d.jobStatus.appExitSpec.phrase, 'PAIRuntimeUnknownFailed');
  assert.equal(d.jobStatus.appExitSpec.type, 'UNKNOWN_FAILURE');
  assert.equal(d.jobStatus.appExitMessages.runtime.originUserExitCode, 3);
  assert.equal(d.jobStatus.appExitTriggerTaskRoleName, 'main');
  assert.equal(d.jobStatus.appExitTriggerTaskIndex, 0);
  assert.match(d.jobStatus.appExitTriggerMessage, /FailedTaskCount 1 has reached MinFailedTaskCount 1/);
  const t = d.taskRoles.main.taskStatuses[0];
  assert.equal(t.taskState, 'FAILED');
  assert.equal(t.containerExitCode, 255);
  const ev = (await s.req('GET', '/api/v2/jobs/bob~fails/events', { token: bob })).body.data;
  assert.ok(ev.some((e) => e.reason === 'TaskFailed' && /exit code 255/.test(e.message)), JSON.stringify(ev));
  assert.ok(ev.some((e) => e.reason === 'Failed'));
  d = await s.waitState(bob, 'bob~notfound', FINAL);
  assert.equal(d.jobStatus.appExitCode, 220);
  assert.equal(d.jobStatus.appExitSpec.phrase, 'UserCommandExitWithError');
  assert.equal(d.jobStatus.appExitSpec.behavior, 'PERMANENT');
});

test('completion policy on a 3-instance role: minFailedInstances and minSucceededInstances', async () => {
  // instance i sleeps i*0.3 s then exits i==0 ? 0 : 1
  const cmd = 'sleep $(( PAI_TASK_INDEX * 3 / 10 )).$(( PAI_TASK_INDEX * 3 % 10 )); exit $(( PAI_TASK_INDEX == 0 ? 0 : 1 ))';
  await submit(bob, job('minfail2', { w: { instances: 3, gpu: 0, completion: { minFailedInstances: 2 }, commands: [cmd] } }));
  await submit(bob, job('minsucc1', { w: { instances: 3, gpu: 0, completion: { minSucceededInstances: 1 },
    commands: ['if [ $PAI_TASK_INDEX = 1 ]; then exit 0; fi; sleep 30'] } }));
  await submit(bob, job('tolerant', { w: { instances: 3, gpu: 0, completion: { minFailedInstances: 3 }, commands: [cmd] } }));

  let d = await s.waitState(bob, 'bob~minfail2', FINAL);
  assert.equal(d.jobStatus.state, 'FAILED');
  assert.equal(d.jobStatus.appExitTriggerTaskIndex, 2, 'the second failure decides');
  assert.match(d.jobStatus.appExitTriggerMessage, /FailedTaskCount 2 has reached MinFailedTaskCount 2/);
  assert.deepEqual(d.taskRoles.w.taskStatuses.map((t) => t.taskState), ['SUCCEEDED', 'FAILED', 'FAILED']);

  d = await s.waitState(bob, 'bob~minsucc1', FINAL);
  assert.equal(d.jobStatus.state, 'SUCCEEDED');
  assert.equal(d.jobStatus.appExitTriggerTaskIndex, 1);
  // the others were killed when the attempt completed
  assert.deepEqual(d.taskRoles.w.taskStatuses.map((t) => t.containerExitCode), [-220, 0, -220]);
  assert.ok(d.jobStatus.completedTime - d.jobStatus.launchedTime < 20000);

  d = await s.waitState(bob, 'bob~tolerant', FINAL);
  assert.equal(d.jobStatus.state, 'SUCCEEDED', 'two failures under minFailed 3: every task completed');
  assert.match(d.jobStatus.appExitTriggerMessage, /CompletedTaskCount 3 has reached TotalTaskCount 3/);
});

test('job retries: attempts 0..n through the API, then FAILED', async () => {
  await submit(bob, job('retried', { main: { gpu: 0, commands: ['echo attempt $PAI_JOB_NAME', 'exit 1'] } }, { retries: 2 }));
  const d = await s.waitState(bob, 'bob~retried', FINAL);
  assert.equal(d.jobStatus.state, 'FAILED');
  assert.equal(d.jobStatus.retries, 2);
  assert.equal(d.jobStatus.retryDetails.user, 2);
  assert.equal(d.jobStatus.attemptId, 2);
  const list = (await s.req('GET', '/api/v2/jobs/bob~retried/job-attempts', { token: bob })).body;
  assert.deepEqual(list.map((a) => a.attemptIndex), [2, 0, 1]);   // latest first, then history
  assert.deepEqual(list.map((a) => a.isLatest), [true, false, false]);
  for (const a of list) {
    assert.equal(a.state, 'FAILED');
    assert.equal(a.exitCode, 255);
  }
  for (const a of [0, 1, 2]) {
    const r = await s.req('GET', `/api/v2/jobs/bob~retried/attempts/${a}`, { token: bob });
    assert.equal(r.status, 200);
    assert.equal(r.body.jobStatus.attemptId, a);
    // each attempt ran its own task with its own log
    assert.match(await (await fetch(s.url + (await s.req('GET', r.body.taskRoles.main.taskStatuses[0].containerLog,
      { token: bob })).body.locations[0].uri)).text(), /attempt bob~retried/);
  }
  assert.equal((await s.req('GET', '/api/v2/jobs/bob~retried/attempts/3', { token: bob })).status, 404);
  const ev = (await s.req('GET', '/api/v2/jobs/bob~retried/events', { token: bob })).body.data;
  assert.equal(ev.filter((e) => e.reason === 'Retrying').length, 2);
});

test('task retries with gangAllocation: false', async () => {
  // each task attempt counts itself in the task's working directory (kept across task attempts)
  const cmd = 'n=$(cat count 2>/dev/null || echo 0); echo $((n+1)) > count; echo "try $n"; [ "$n" -ge 2 ]';
  await submit(bob, job('taskretry', { w: { instances: 2, gpu: 1, taskRetryCount: 3, commands: [cmd] } },
    { extra: 'extras:\n  gangAllocation: false\n' }));
  const d = await s.waitState(bob, 'bob~taskretry', FINAL);
  assert.equal(d.jobStatus.state, 'SUCCEEDED', JSON.stringify(d.jobStatus));
  assert.equal(d.jobStatus.retries, 0, 'no job retry');
  for (const t of d.taskRoles.w.taskStatuses) {
    assert.equal(t.retries, 2);
    assert.equal(t.attemptId, 2);
    assert.equal(t.taskState, 'SUCCEEDED');
  }
  assert.match(await log(bob, 'bob~taskretry', 'w', 0), /try 2/);
});

test('a transient failure that recurs at once backs off instead of spinning; a stop ends the wait', async () => {
  // bash killed by SIGKILL: exit 137, SigKill, transient (retried without limit, not counted)
  await submit(bob, job('killed', { main: { gpu: 0, commands: ['echo try', 'kill -9 $$'] } }));
  await new Promise((r) => setTimeout(r, 4500));
  let d = (await s.req('GET', '/api/v2/jobs/bob~killed', { token: bob })).body;
  // at once, then after 1 s, 2 s, 4 s: 3 retries by now (hundreds without the back-off)
  assert.ok(d.jobStatus.retries >= 2 && d.jobStatus.retries <= 4, JSON.stringify(d.jobStatus));
  assert.equal(d.jobStatus.retryDetails.user, 0, 'transient failures are not counted');
  const ev = (await s.req('GET', '/api/v2/jobs/bob~killed/events', { token: bob })).body.data;
  assert.ok(ev.some((e) => e.reason === 'AttemptCompleted' && /exit code 137 \(ContainerSigKillReceived\)/.test(e.message) &&
    /Next attempt in [0-9]+ s: [0-9]+ transient failures in a row/.test(e.message)), JSON.stringify(ev));
  const t0 = Date.now();
  assert.equal((await s.req('PUT', '/api/v2/jobs/bob~killed/executionType', { token: bob, body: { value: 'STOP' } })).status, 202);
  d = await s.waitState(bob, 'bob~killed', FINAL);
  assert.equal(d.jobStatus.state, 'STOPPED');
  assert.ok(Date.now() - t0 < 3000, 'the stop did not wait out the back-off');
});

test('gangAllocation: false backs off per task, across a server restart', async () => {
  await submit(bob, job('taskkilled', { w: { gpu: 0, taskRetryCount: 1, commands: ['kill -9 $$'] } },
    { extra: 'extras:\n  gangAllocation: false\n' }));
  const task = async () => (await s.req('GET', '/api/v2/jobs/bob~taskkilled', { token: bob })).body;
  await new Promise((r) => setTimeout(r, 2000));
  // at once, then 1 s: 2 task retries, the next in 2 s (transient: taskRetryCount does not bound them)
  let d = await task();
  const t = d.taskRoles.w.taskStatuses[0];
  assert.ok(t.retries >= 1 && t.retries <= 3, JSON.stringify(t));
  assert.equal(d.jobStatus.retries, 0, 'no job retry');
  await s.stop();
  await s.start();
  await new Promise((r) => setTimeout(r, 2500));
  d = await task();
  const t2 = d.taskRoles.w.taskStatuses[0];
  // the restarted server kept the count and the wait (0, 1, 2, 4 s ...): 2 to 4 by now, not dozens
  assert.ok(t2.retries >= t.retries && t2.retries <= 4, `${JSON.stringify(t)} then ${JSON.stringify(t2)}`);
  const ev = (await s.req('GET', '/api/v2/jobs/bob~taskkilled/events', { token: bob })).body.data;
  assert.ok(ev.some((e) => e.reason === 'TaskFailed' && /Next attempt in [0-9]+ s: [0-9]+ transient failures/.test(e.message)),
    JSON.stringify(ev.map((e) => e.message)));
  const t0 = Date.now();
  assert.equal((await s.req('PUT', '/api/v2/jobs/bob~taskkilled/executionType', { token: bob, body: { value: 'STOP' } })).status, 202);
  d = await s.waitState(bob, 'bob~taskkilled', FINAL);
  assert.equal(d.jobStatus.state, 'STOPPED');
  assert.ok(Date.now() - t0 < 3000, 'the stop did not wait out the back-off');
});

test('a 255-character job name runs: its directories are named within the file system\'s limit', async () => {
  const name = 'n'.repeat(255);   // the longest OpenPAI allows; bob~ makes the key 259 bytes
  await submit(bob, job(name, { main: { gpu: 0, commands: ['echo long name ok'] } }));
  const d = await s.waitState(bob, `bob~${name}`, FINAL);
  assert.equal(d.jobStatus.state, 'SUCCEEDED', JSON.stringify(d.jobStatus));
  assert.equal(d.jobStatus.retries, 0);
  assert.match(await log(bob, `bob~${name}`, 'main', 0), /long name ok/);
  // bob~nnn... cut to 160 bytes, then ~ and 32 hex digits of the whole
  const dirs = readdirSync(join(s.dir, 'logs')).filter((n) => n.startsWith('bob~nnnn'));
  assert.equal(dirs.length, 1, dirs.join(' '));
  assert.match(dirs[0], /^bob~n{156}~[0-9a-f]{32}$/);
  assert.ok(existsSync(join(s.dir, 'jobs', dirs[0], '0', 'main-0')));
});

test('a job whose tasks ask for more host ports than the range holds is refused at submit', async () => {
  const r = await s.submit(bob, job('portshog', { main: { gpu: 0, commands: ['true'] } }).replace(
    'gpu: 0}', 'gpu: 0, ports: {p: 30000}}'));
  assert.equal(r.status, 400, r.text);
  assert.equal(r.body.code, 'InvalidProtocolError');
  // 30,000 of its own, and the implicit ssh and http ports every task gets
  assert.match(r.body.message, /task role main asks for 30002 host ports per instance; the server's port range 15000-39999 has 25000/);
});

test('a relative data directory (make run\'s ./var): tasks run, their files are under it', async () => {
  const r = await new Server({ relative: true }).start();
  try {
    const tok = await r.login();
    const sub = await r.submit(tok, job('reldata', { main: { gpu: 0, commands: ['echo hello from $PAI_JOB_NAME'] } }));
    assert.equal(sub.status, 201, sub.text);
    const d = await r.waitState(tok, 'admin~reldata', FINAL);
    assert.equal(d.jobStatus.state, 'SUCCEEDED', JSON.stringify(d.jobStatus));
    assert.equal(d.jobStatus.retries, 0);
    assert.ok(existsSync(join(r.dir, 'logs', 'admin~reldata', '0', 'main-0', '0', 'exit.json')));
    assert.ok(existsSync(join(r.dir, 'jobs', 'admin~reldata', '0', 'main-0')));
    const list = await r.req('GET', d.taskRoles.main.taskStatuses[0].containerLog, { token: tok });
    const all = list.body.locations.find((l) => l.name === 'all');
    assert.match(await (await fetch(r.url + all.uri)).text(), /hello from admin~reldata/);
  } finally {
    await r.stop();
    r.cleanup();
  }
});

test('stop a running job: SIGTERM to the tree, SIGKILL after the grace period', async () => {
  await submit(bob, job('graceful', { main: { gpu: 0, commands: ['trap "echo got-TERM; exit 0" TERM', 'echo up', 'sleep 60 & wait'] } }));
  await submit(bob, job('stubborn', { main: { gpu: 0, commands: ['trap "" TERM', 'echo up', 'while true; do sleep 0.1; done'] } }));
  for (const name of ['graceful', 'stubborn']) await s.waitState(bob, `bob~${name}`, 'RUNNING');
  // wait until the scripts are past their traps
  for (const name of ['graceful', 'stubborn'])
    for (let i = 0; i < 100 && !(await log(bob, `bob~${name}`, 'main', 0)).includes('up'); i++)
      await new Promise((r) => setTimeout(r, 50));
  const t0 = Date.now();
  for (const name of ['graceful', 'stubborn'])
    assert.equal((await s.req('PUT', `/api/v2/jobs/bob~${name}/executionType`, { token: bob, body: { value: 'STOP' } })).status, 202);
  let d = await s.waitState(bob, 'bob~graceful', FINAL);
  assert.equal(d.jobStatus.state, 'STOPPED');
  assert.match(await log(bob, 'bob~graceful', 'main', 0), /got-TERM/);
  d = await s.waitState(bob, 'bob~stubborn', FINAL);
  assert.equal(d.jobStatus.state, 'STOPPED');
  assert.ok(Date.now() - t0 >= 1500, 'the stubborn task got its grace period (2 s here)');
  const ev = (await s.req('GET', '/api/v2/jobs/bob~stubborn/events', { token: bob })).body.data;
  assert.ok(ev.some((e) => e.reason === 'Stopped' && /bob/.test(e.message)), JSON.stringify(ev));
});

test('the memory limit is enforced: an over-allocating task is killed and reported out of memory', async () => {
  await submit(bob, job('oom', { main: { gpu: 0, memoryMB: 64,
    commands: ['python3 -c "b = bytearray(400 << 20); print(len(b))"'] } }));
  const d = await s.waitState(bob, 'bob~oom', FINAL);
  assert.equal(d.jobStatus.state, 'FAILED');
  assert.equal(d.jobStatus.appExitCode, -1200, JSON.stringify(d.jobStatus));
  assert.equal(d.jobStatus.appExitSpec.phrase, 'UserContainerDockerOOMKilled');
  assert.match(d.taskRoles.main.taskStatuses[0].containerExitDiagnostics, /memory/i);
});

test('a job waiting for GPUs starts when another finishes', async () => {
  // research VC: 8 GPUs; the first job takes all of them for a moment
  const alice = await s.user(admin, 'alice', { vcs: ['research'] });
  await submit(alice, job('first', { main: { gpu: 8, cpu: 8, commands: ['sleep 1.5'] } }, { vc: 'research' }));
  await s.waitState(alice, 'alice~first', 'RUNNING');
  await submit(alice, job('second', { main: { gpu: 8, cpu: 8, commands: ['echo second ran'] } }, { vc: 'research' }));
  let d = (await s.req('GET', '/api/v2/jobs/alice~second', { token: alice })).body;
  assert.equal(d.jobStatus.state, 'WAITING');
  const ev = (await s.req('GET', '/api/v2/jobs/alice~second/events', { token: alice })).body.data;
  assert.ok(ev.some((e) => e.reason === 'Waiting'), JSON.stringify(ev));
  const first = await s.waitState(alice, 'alice~first', FINAL);
  assert.equal(first.jobStatus.state, 'SUCCEEDED');
  d = await s.waitState(alice, 'alice~second', FINAL);
  assert.equal(d.jobStatus.state, 'SUCCEEDED');
  assert.ok(d.jobStatus.launchedTime >= first.jobStatus.completedTime);
});

test('preemption: a prod job evicts a lower-priority one, which is retried and says who preempted it', async () => {
  const carol = await s.user(admin, 'carol', { vcs: ['research'] });
  await submit(carol, job('lowprio', { main: { gpu: 8, cpu: 8, commands: ['sleep 60'] } },
    { vc: 'research', extra: 'extras:\n  hivedScheduler:\n    jobPriorityClass: test\n' }));
  await s.waitState(carol, 'carol~lowprio', 'RUNNING');
  await submit(carol, job('urgent', { main: { gpu: 8, cpu: 8, commands: ['echo urgent done'] } },
    { vc: 'research', extra: 'extras:\n  hivedScheduler:\n    jobPriorityClass: prod\n' }));
  const u = await s.waitState(carol, 'carol~urgent', FINAL);
  assert.equal(u.jobStatus.state, 'SUCCEEDED');
  const ev = (await s.req('GET', '/api/v2/jobs/carol~lowprio/events', { token: carol })).body.data;
  assert.ok(ev.some((e) => e.reason === 'Preempted' && /carol~urgent/.test(e.message)), JSON.stringify(ev));
  // its attempt ended as a transient failure (not counted), and it runs again
  const lp = await s.until('/api/v2/jobs/carol~lowprio', carol, (b) => b.jobStatus.attemptId >= 1 && b.jobStatus.state === 'RUNNING',
    { what: 'lowprio to run again' });
  assert.equal(lp.jobStatus.retryDetails.user, 0);
  assert.ok(lp.jobStatus.retries >= 1);
  const a0 = (await s.req('GET', '/api/v2/jobs/carol~lowprio/attempts/0', { token: carol })).body;
  assert.equal(a0.jobStatus.appExitCode, -101);
  assert.match(a0.jobStatus.appExitDiagnostics, /Preempted by carol~urgent/);
  assert.equal((await s.req('PUT', '/api/v2/jobs/carol~lowprio/executionType', { token: carol, body: { value: 'STOP' } })).status, 202);
  await s.waitState(carol, 'carol~lowprio', 'STOPPED');
});

test('host ports come from the configured range, never two live tasks on one port; when none is free the job waits', async () => {
  // 5 ports: two tasks (ssh + http each) fit, a third waits until one ends
  const p = await new Server({ config: CLUSTER, args: ['--ports', '31000-31005'] }).start();
  try {
    const t = await p.login();
    const mk = (name, cmd) => job(name, { main: { gpu: 0, commands: [cmd] } });
    for (const name of ['pa', 'pb']) assert.equal((await p.submit(t, mk(name, 'sleep 30'))).status, 201);
    assert.equal((await p.submit(t, mk('pc', 'echo third'))).status, 201);
    const used = [];
    for (const name of ['pa', 'pb']) {
      const d = await p.waitState(t, `admin~${name}`, 'RUNNING');
      const ports = d.taskRoles.main.taskStatuses[0].containerPorts;
      for (const v of Object.values(ports)) used.push(Number(v));
    }
    assert.equal(used.length, 4);
    assert.equal(new Set(used).size, 4, `distinct: ${used}`);
    assert.ok(used.every((x) => x >= 31000 && x < 31005), `in range: ${used}`);
    let d = (await p.req('GET', '/api/v2/jobs/admin~pc', { token: t })).body;
    assert.equal(d.jobStatus.state, 'WAITING');
    const ev = (await p.req('GET', '/api/v2/jobs/admin~pc/events', { token: t })).body.data;
    assert.ok(ev.some((e) => e.reason === 'Waiting' && /host ports/.test(e.message)), JSON.stringify(ev));
    assert.equal((await p.req('PUT', '/api/v2/jobs/admin~pa/executionType', { token: t, body: { value: 'STOP' } })).status, 202);
    d = await p.waitState(t, 'admin~pc', FINAL);
    assert.equal(d.jobStatus.state, 'SUCCEEDED');
  } finally {
    await p.stop();
    p.cleanup();
  }
});
