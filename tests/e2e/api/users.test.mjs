// SPDX-License-Identifier: MIT
// Users and groups, including the legacy /api/v2/user/... forms the portal calls.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, CLUSTER } from '../lib.mjs';

let s, admin;
before(async () => {
  s = await new Server({ config: CLUSTER }).start();
  admin = await s.login();
});
after(async () => { await s.stop(); s.cleanup(); });

test('bootstrap groups: admingroup, default, one per VC', async () => {
  const r = await s.req('GET', '/api/v2/groups', { token: admin });
  assert.equal(r.status, 200);
  const names = r.body.map((g) => g.groupname).sort();
  assert.deepEqual(names, ['admingroup', 'default', 'research']);
  const research = r.body.find((g) => g.groupname === 'research');
  assert.deepEqual(research.extension.acls.virtualClusters, ['research']);
  assert.equal(r.body.find((g) => g.groupname === 'admingroup').extension.acls.admin, true);
});

test('admin user info: admin sees every VC', async () => {
  const r = await s.req('GET', '/api/v2/users/admin', { token: admin });
  assert.equal(r.status, 200);
  assert.equal(r.body.username, 'admin');
  assert.equal(r.body.admin, true);
  assert.deepEqual(r.body.virtualCluster.sort(), ['default', 'research']);
  assert.deepEqual(r.body.grouplist.sort(), ['admingroup', 'default']);
  assert.ok(!('password' in r.body));
});

test('create, read, list, update, delete a user', async () => {
  let r = await s.req('POST', '/api/v2/users', {
    token: admin, body: { username: 'carol', password: 'carol-pass', email: 'c@x', virtualCluster: ['research'], extension: { a: 1 } },
  });
  assert.equal(r.status, 201);
  assert.deepEqual(r.body, { message: 'User is created successfully' });
  r = await s.req('POST', '/api/v2/users', { token: admin, body: { username: 'carol', password: 'carol-pass' } });
  assert.equal(r.status, 409);
  assert.equal(r.body.code, 'ConflictUserError');
  r = await s.req('POST', '/api/v2/users', { token: admin, body: { username: 'dave', password: 'dave-pass', virtualCluster: ['nope'] } });
  assert.equal(r.status, 400);
  assert.equal(r.body.code, 'NoVirtualClusterError');
  r = await s.req('POST', '/api/v2/users', { token: admin, body: { username: 'eve', password: 'short' } });
  assert.equal(r.status, 400);
  assert.equal(r.body.code, 'InvalidParametersError');

  r = await s.req('GET', '/api/v2/users/carol', { token: admin });
  assert.equal(r.status, 200);
  assert.equal(r.body.email, 'c@x');
  assert.equal(r.body.admin, false);
  assert.deepEqual(r.body.virtualCluster.sort(), ['default', 'research']);
  assert.deepEqual(r.body.extension, { a: 1 });
  r = await s.req('GET', '/api/v2/users/nobody', { token: admin });
  assert.equal(r.status, 400);
  assert.equal(r.body.code, 'NoUserError');
  r = await s.req('GET', '/api/v2/users', { token: admin });
  assert.ok(r.body.some((u) => u.username === 'carol'));

  // patch update: only the given fields change
  r = await s.req('PUT', '/api/v2/users', { token: admin, body: { data: { username: 'carol', email: 'new@x' }, patch: true } });
  assert.equal(r.status, 201);
  assert.deepEqual(r.body, { message: 'Update user carol successfully' });
  r = await s.req('GET', '/api/v2/user/carol', { token: admin });
  assert.equal(r.body.email, 'new@x');
  assert.deepEqual(r.body.virtualCluster.sort(), ['default', 'research']);
  // VCs replaced, admin granted
  r = await s.req('PUT', '/api/v2/users', { token: admin, body: { data: { username: 'carol', virtualCluster: [], admin: true }, patch: true } });
  assert.equal(r.status, 201);
  r = await s.req('GET', '/api/v2/users/carol', { token: admin });
  assert.equal(r.body.admin, true);
  assert.ok(r.body.grouplist.includes('admingroup'));
  assert.ok(!r.body.grouplist.includes('research'));
  r = await s.req('PUT', '/api/v2/users', { token: admin, body: { data: { username: 'ghost', email: 'x' }, patch: true } });
  assert.equal(r.status, 404);
  assert.equal(r.body.code, 'NoUserError');
  // admins cannot be deleted
  r = await s.req('DELETE', '/api/v2/users/carol', { token: admin });
  assert.equal(r.status, 403);
  assert.equal(r.body.code, 'RemoveAdminError');
  r = await s.req('PUT', '/api/v2/user/carol/admin', { token: admin, body: { admin: false } });
  assert.equal(r.status, 201);
  r = await s.req('DELETE', '/api/v2/users/carol', { token: admin });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { message: 'user is removed successfully' });
  r = await s.req('DELETE', '/api/v2/users/carol', { token: admin });
  assert.equal(r.status, 404);
});

test('user names that are path segments are refused; other dotted names work', async () => {
  for (const username of ['.', '..']) {
    const r = await s.req('POST', '/api/v2/users', { token: admin, body: { username, password: 'dots-pass-1' } });
    assert.equal(r.status, 400, username);
    assert.equal(r.body.code, 'InvalidParametersError');
    assert.match(r.body.message, /is a path segment/);
  }
  let r = await s.req('POST', '/api/v2/users', { token: admin, body: { username: 'a b', password: 'dots-pass-1' } });
  assert.deepEqual([r.status, r.body.message],
    [400, '"username" with value "a b" fails to match the required pattern: /^[\\w.-]+$/']);
  r = await s.req('POST', '/api/v2/users', { token: admin, body: { username: 'u'.repeat(65), password: 'dots-pass-1' } });
  assert.deepEqual([r.status, r.body.message], [400, '"username" length must be at most 64 characters long']);
  for (const username of ['a.b-c', 'x..y', '...']) {
    const r = await s.req('POST', '/api/v2/users', { token: admin, body: { username, password: 'dots-pass-1' } });
    assert.equal(r.status, 201, `${username}: ${r.text}`);
    assert.equal((await s.req('GET', `/api/v2/users/${username}`, { token: admin })).body.username, username);
    assert.equal((await s.req('DELETE', `/api/v2/users/${username}`, { token: admin })).status, 200);
  }
});

test('users edit themselves through /users/me, not others', async () => {
  const t = await s.user(admin, 'frank');
  let r = await s.req('PUT', '/api/v2/users/me', { token: t, body: { data: { username: 'frank', email: 'f@x' }, patch: true } });
  assert.equal(r.status, 201);
  r = await s.req('PUT', '/api/v2/users/me', { token: t, body: { data: { username: 'admin', email: 'f@x' }, patch: true } });
  assert.equal(r.status, 403);
  r = await s.req('PUT', '/api/v2/users/me', { token: t, body: { data: { username: 'frank', newPassword: 'frank-new-pw', oldPassword: 'wrong' }, patch: true } });
  assert.equal(r.status, 403);
  r = await s.req('PUT', '/api/v2/users/me', { token: t, body: { data: { username: 'frank', newPassword: 'frank-new-pw', oldPassword: 'frank-password' }, patch: true } });
  assert.equal(r.status, 201);
  assert.equal((await s.req('POST', '/api/v2/authn/basic/login', { body: { username: 'frank', password: 'frank-new-pw' } })).status, 200);
});

test('legacy per-field routes', async () => {
  const t = await s.user(admin, 'gina');
  let r = await s.req('PUT', '/api/v2/user/gina/extension', { token: t, body: { extension: { sshKeys: [{ title: 'k', value: 'ssh-ed25519 AAA' }] } } });
  assert.equal(r.status, 201);
  r = await s.req('PUT', '/api/v2/user/gina/email', { token: t, body: { email: 'g@x' } });
  assert.equal(r.status, 201);
  r = await s.req('PUT', '/api/v2/user/admin/email', { token: t, body: { email: 'hijack@x' } });
  assert.equal(r.status, 403);
  r = await s.req('PUT', '/api/v2/user/gina/virtualcluster', { token: admin, body: { virtualCluster: ['research'] } });
  assert.equal(r.status, 201);
  r = await s.req('GET', '/api/v2/users/gina', { token: admin });
  assert.equal(r.body.email, 'g@x');
  assert.equal(r.body.extension.sshKeys[0].title, 'k');
  assert.deepEqual(r.body.virtualCluster.sort(), ['default', 'research']);
  r = await s.req('PUT', '/api/v2/user/gina/virtualcluster', { token: admin, body: { virtualCluster: ['nope'] } });
  assert.equal(r.status, 400);
  assert.equal(r.body.code, 'NoVirtualClusterError');
  // group membership
  r = await s.req('PUT', '/api/v2/users/gina/group', { token: admin, body: { groupname: 'admingroup' } });
  assert.equal(r.status, 201);
  assert.equal((await s.req('GET', '/api/v2/users/gina', { token: admin })).body.admin, true);
  r = await s.req('DELETE', '/api/v2/users/gina/group', { token: admin, body: { groupname: 'admingroup' } });
  assert.equal(r.status, 201);
  r = await s.req('PUT', '/api/v2/users/gina/grouplist', { token: admin, body: { grouplist: ['default'] } });
  assert.equal(r.status, 201);
  assert.deepEqual((await s.req('GET', '/api/v2/users/gina', { token: admin })).body.grouplist, ['default']);
  r = await s.req('PUT', '/api/v2/users/gina/grouplist', { token: admin, body: { grouplist: ['nosuch'] } });
  assert.equal(r.status, 404);
  assert.equal(r.body.code, 'NoGroupError');
  r = await s.req('PUT', '/api/v2/users/nobody/group', { token: admin, body: { groupname: 'default' } });
  assert.equal(r.status, 404);
  assert.equal(r.body.code, 'NoUserError');
});

test('groups: create, grant through acls, update, members, delete', async () => {
  let r = await s.req('POST', '/api/v2/groups', {
    token: admin, body: { groupname: 'team_a', description: 'A', extension: { acls: { admin: false, virtualClusters: ['research'], storageConfigs: ['home'] } } },
  });
  assert.equal(r.status, 201);
  r = await s.req('POST', '/api/v2/groups', { token: admin, body: { groupname: 'team_a' } });
  assert.equal(r.status, 409);
  r = await s.req('POST', '/api/v2/groups', { token: admin, body: { groupname: 'bad-name' } });
  assert.equal(r.status, 400);
  const t = await s.user(admin, 'hank');
  r = await s.req('PUT', '/api/v2/users/hank/group', { token: admin, body: { groupname: 'team_a' } });
  assert.equal(r.status, 201);
  r = await s.req('GET', '/api/v2/users/hank', { token: t });
  assert.deepEqual(r.body.virtualCluster.sort(), ['default', 'research']);
  assert.deepEqual(r.body.storageConfig, ['home']);
  r = await s.req('GET', '/api/v2/storages', { token: t });
  assert.deepEqual(r.body.storages.map((x) => x.name), ['home']);
  r = await s.req('GET', '/api/v2/groups/team_a/userlist', { token: admin });
  assert.deepEqual(r.body, [{ username: 'hank', clusterAdmin: false }]);
  // patch replaces acls as a whole
  r = await s.req('PUT', '/api/v2/groups', { token: admin, body: { data: { groupname: 'team_a', extension: { acls: { virtualClusters: [] } } }, patch: true } });
  assert.equal(r.status, 201);
  r = await s.req('GET', '/api/v2/group/team_a', { token: t });
  assert.deepEqual(r.body.extension.acls, { virtualClusters: [] });
  assert.equal(r.body.description, 'A');
  r = await s.req('PUT', '/api/v2/groups/team_a/description', { token: admin, body: { description: 'B' } });
  assert.equal(r.status, 201);
  r = await s.req('PUT', '/api/v2/groups/team_a/extension/acls/admin', { token: admin, body: { data: true } });
  assert.equal(r.status, 201);
  assert.equal((await s.req('GET', '/api/v2/users/hank', { token: t })).body.admin, true);
  r = await s.req('DELETE', '/api/v2/groups/team_a', { token: admin });
  assert.equal(r.status, 200);
  assert.equal((await s.req('GET', '/api/v2/users/hank', { token: t })).body.admin, false);
  r = await s.req('GET', '/api/v2/groups/team_a', { token: admin });
  assert.equal(r.status, 404);
  assert.equal(r.body.code, 'NoGroupError');
  r = await s.req('DELETE', '/api/v2/groups/admingroup', { token: admin });
  assert.equal(r.status, 403);
});
