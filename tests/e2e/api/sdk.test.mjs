// SPDX-License-Identifier: MIT
// OpenPAI's official JavaScript SDK (@microsoft/openpai-js-sdk from npm),
// unchanged, against a real gantry server: the calls the SDK and the VS Code
// extension make.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Server, ADMIN_PASSWORD } from '../lib.mjs';

const require = createRequire(import.meta.url);
const { PAIV2 } = require('@microsoft/openpai-js-sdk');

let s, cluster, client;
before(async () => {
  s = await new Server().start();
  cluster = { rest_server_uri: s.url.replace('http://', ''), https: false, username: 'admin', password: ADMIN_PASSWORD };
  client = new PAIV2.OpenPAIClient(cluster);
});
after(async () => { await s.stop(); s.cleanup(); });

// The SDK rejects with {status, data} on HTTP errors.
async function rejects(promise, status, code) {
  try {
    await promise;
  } catch (err) {
    const st = err.status ?? err.response?.status;
    const data = err.data ?? err.response?.data;
    assert.equal(st, status, JSON.stringify(data));
    if (code) assert.equal(data.code, code);
    return data;
  }
  assert.fail(`expected HTTP ${status}`);
}

test('login, cluster info, logout', async () => {
  const authn = new PAIV2.AuthnClient({ ...cluster, token: undefined });
  const info = await authn.basicLogin('admin', ADMIN_PASSWORD);
  assert.equal(info.user, 'admin');
  assert.equal(info.admin, true);
  assert.ok(info.token);
  const api = await client.api.getClusterInfo();
  assert.equal(api.name, 'PAI RESTful API');
  assert.equal(api.launcherType, 'k8s');
  const data = await rejects(authn.basicLogin('nonexistentuser', 'whatever'), 400, 'NoUserError');
  assert.equal(data.message, 'User nonexistentuser is not found.');
  await rejects(authn.basicLogin('admin', 'wrong-password'), 400, 'IncorrectPasswordError');
  const c2 = new PAIV2.OpenPAIClient({ ...cluster, token: undefined });
  await c2.token.getTokens();                    // logs in under the hood
  const out = await c2.authn.basicLogout();
  assert.equal(out.message, 'Logout successfully');
});

test('users and groups', async () => {
  await client.user.createUser({ username: 'sdk_test_user', password: 'sdk_test_pw', admin: false, virtualCluster: ['default'], email: 'u@x', extension: {} });
  await rejects(client.user.createUser({ username: 'sdk_test_user', password: 'sdk_test_pw' }), 409, 'ConflictUserError');
  const u = await client.user.getUser('sdk_test_user');
  assert.equal(u.username, 'sdk_test_user');
  assert.deepEqual(u.virtualCluster, ['default']);
  assert.ok(Array.isArray(u.storageConfig));
  const all = await client.user.getAllUser();
  assert.ok(all.some((x) => x.username === 'sdk_test_user'));
  await client.user.updateUser({ username: 'sdk_test_user', email: 'new@x' }, true);
  assert.equal((await client.user.getUser('sdk_test_user')).email, 'new@x');
  await client.group.createGroup({ groupname: 'sdktestgroup', description: 'sdk', externalName: '', extension: { acls: { admin: false, virtualClusters: [], storageConfigs: [] } } });
  assert.equal((await client.group.getGroup('sdktestgroup')).description, 'sdk');
  assert.ok((await client.group.getAllGroup()).some((g) => g.groupname === 'sdktestgroup'));
  await client.user.updateUserGroup('sdk_test_user', 'sdktestgroup');
  const members = await client.group.getGroupMembers('sdktestgroup');
  assert.deepEqual(members.map((m) => m.username), ['sdk_test_user']);
  await client.user.deleteUserGroup('sdk_test_user', 'sdktestgroup');
  await client.user.updateUserGrouplist('sdk_test_user', ['default']);
  await rejects(client.user.updateUserGroup('nobody_here', 'default'), 404);
  await client.group.deleteGroup('sdktestgroup');
  await client.user.deleteUser('sdk_test_user');
  await rejects(client.user.deleteUser('sdk_test_user'), 404);

  // a non-admin is refused admin calls with OpenPAI's message
  await client.user.createUser({ username: 'nonadminTestUser', password: 'nonadminTestUser', admin: false, virtualCluster: [] });
  const plain = new PAIV2.OpenPAIClient({ ...cluster, token: undefined, username: 'nonadminTestUser', password: 'nonadminTestUser' });
  const d = await rejects(plain.user.createUser({ username: 'x_y_z', password: 'xyzxyz' }), 403, 'ForbiddenUserError');
  assert.equal(d.message, 'Non-admin is not allow to do this operation.');
});

test('virtual clusters and SKUs', async () => {
  const vcs = await client.virtualCluster.listVirtualClusters();
  assert.ok(vcs.default);
  const vc = await client.virtualCluster.getVirtualCluster('default');
  assert.ok(vc.resourcesTotal.cpu >= 1);
  const skus = await client.virtualCluster.getVirtualClusterSkuTypes('default');
  assert.ok(Object.keys(skus).length >= 1);
});

test('jobs: submit, list, get, config, attempts, tag, stop', async () => {
  const name = `sdk_test_job${Date.now().toString(16)}`;
  const job = {
    protocolVersion: 2, name, type: 'job',
    prerequisites: [{ name: 'image', type: 'dockerimage', uri: 'openpai/pai.example.tensorflow-serving' }],
    taskRoles: { worker: { instances: 1, dockerImage: 'image', resourcePerInstance: { cpu: 1, memoryMB: 512, gpu: 0, ports: { model_server: 1 } }, commands: ['sleep 600'] } },
    defaults: { virtualCluster: 'default' },
  };
  const res = await client.job.createJob(job);
  assert.ok(res.message);
  const list = await client.job.listJobs();
  assert.ok(Array.isArray(list));
  assert.ok(list.some((j) => j.name === name));
  const paged = await client.job.listJobs({ username: 'admin', withTotalCount: true, offset: 0, limit: 5 });
  assert.ok(paged.totalCount >= 1 && Array.isArray(paged.data));
  const status = await client.job.getJob('admin', name);
  assert.equal(status.name, name);
  for (const k of ['username', 'virtualCluster', 'state', 'subState', 'executionType', 'retries', 'createdTime',
    'completedTime', 'appCreatedTime', 'appLaunchedTime', 'appCompletedTime', 'appExitCode']) {
    assert.ok(k in status.jobStatus, k);
  }
  assert.ok(status.taskRoles.worker.taskStatuses[0].containerPorts.model_server !== undefined);
  const config = await client.job.getJobConfig('admin', name);
  assert.equal(config.name, name);
  assert.equal(config.taskRoles.worker.commands[0], 'sleep 600');
  const history = await client.jobHistory.getJobAttempt('admin', name, 0);
  assert.equal(history.attemptIndex, 0);
  await client.job.addTag('admin', name, 'sdk');
  assert.deepEqual((await client.job.getJob('admin', name)).tags, ['sdk']);
  await client.job.deleteTag('admin', name, 'sdk');
  await client.job.updateJobExecutionType('admin', name, 'STOP');
  const after = await client.job.getJob('admin', name);
  assert.equal(after.jobStatus.executionType, 'STOP');
  assert.ok(['STOPPING', 'STOPPED'].includes(after.jobStatus.state));
  await rejects(client.job.getJob('admin', 'no_such_job'), 404, 'NoJobError');
  await rejects(client.job.getJobConfig('admin', 'no_such_job'), 404);
  await rejects(client.job.createJob(job), 409, 'ConflictJobError');
});

test('tokens', async () => {
  const app = await client.token.createApplicationToken();
  assert.ok(app.token);
  const list = await client.token.getTokens();
  assert.ok(list.tokens.length >= 2);
  const appClient = new PAIV2.OpenPAIClient({ rest_server_uri: cluster.rest_server_uri, https: false, token: app.token });
  assert.ok(Array.isArray(await appClient.job.listJobs()));
  await rejects(appClient.user.createUser({ username: 'byapp', password: 'byapp_pw' }), 403, 'ForbiddenUserError');
  await client.token.deleteToken(app.token);
  await rejects(appClient.job.listJobs(), 401, 'UnauthorizedUserError');
});
