// SPDX-License-Identifier: MIT
// The authorization matrix: every route × {anonymous, user, another user,
// admin, application token, admin's application token} with the status
// OpenPAI's permission model gives. Zero violations allowed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, cpuJob } from '../lib.mjs';

let s;
const who = {};
const NAMES = ['anon', 'user', 'other', 'admin', 'app', 'adminapp'];

before(async () => {
  s = await new Server().start();
  who.admin = await s.login();
  who.user = await s.user(who.admin, 'bob');
  who.other = await s.user(who.admin, 'carol');
  who.app = (await s.req('POST', '/api/v2/tokens/application', { token: who.user })).body.token;
  who.adminapp = (await s.req('POST', '/api/v2/tokens/application', { token: who.admin })).body.token;
  who.anon = undefined;
  const r = await s.submit(who.user, cpuJob('mjob'));
  assert.equal(r.status, 201, r.text);
});
after(async () => { await s.stop(); s.cleanup(); });

let seq = 0;
const uniq = (p) => `${p}${++seq}`;

// [method, path or fn(principal) → path, body or fn, expected per principal]
const ROUTES = [
  ['GET', '/api/v2/info', null, [200, 200, 200, 200, 200, 200]],
  ['GET', '/healthz', null, [200, 200, 200, 200, 200, 200]],
  ['GET', '/api/v2/jobs', null, [401, 200, 200, 200, 200, 200]],
  ['POST', '/api/v2/jobs', () => ({ yaml: cpuJob(uniq('m')) }), [401, 201, 201, 201, 201, 201]],
  ['GET', '/api/v2/jobs/bob~mjob', null, [401, 200, 200, 200, 200, 200]],
  ['GET', '/api/v2/jobs/bob~mjob/config', null, [401, 200, 200, 200, 200, 200]],
  ['GET', '/api/v2/jobs/bob~mjob/events', null, [401, 200, 200, 200, 200, 200]],
  ['GET', '/api/v2/jobs/bob~mjob/job-attempts/0', null, [401, 200, 200, 200, 200, 200]],
  ['GET', '/api/v2/jobs/bob~mjob/attempts/0', null, [401, 200, 200, 200, 200, 200]],
  ['PUT', '/api/v2/jobs/bob~mjob/executionType', { value: 'START' }, [401, 202, 403, 202, 202, 202]],
  ['PUT', '/api/v2/jobs/bob~mjob/tag', { value: 't1' }, [401, 200, 403, 200, 200, 200]],
  ['GET', '/api/v2/users', null, [401, 200, 200, 200, 200, 200]],
  ['GET', '/api/v2/users/bob', null, [401, 200, 200, 200, 200, 200]],
  ['POST', '/api/v2/users', () => ({ username: uniq('u'), password: 'password1' }), [401, 403, 403, 201, 403, 403]],
  ['PUT', '/api/v2/users', { data: { username: 'bob', email: 'b@x' }, patch: true }, [401, 403, 403, 201, 403, 403]],
  ['PUT', '/api/v2/users/me', (p) => ({ data: { username: p === 'other' ? 'carol' : p === 'admin' ? 'admin' : 'bob', email: 'x@y' }, patch: true }),
    [401, 201, 201, 201, 403, 403]],
  ['PUT', '/api/v2/user/bob/email', { email: 'b2@x' }, [401, 201, 403, 201, 403, 403]],
  ['PUT', '/api/v2/user/bob/extension', { extension: { k: 1 } }, [401, 201, 403, 201, 403, 403]],
  ['PUT', '/api/v2/user/bob/virtualcluster', { virtualCluster: ['default'] }, [401, 403, 403, 201, 403, 403]],
  ['PUT', '/api/v2/user/bob/admin', { admin: false }, [401, 403, 403, 201, 403, 403]],
  ['PUT', '/api/v2/users/bob/grouplist', { grouplist: ['default'] }, [401, 403, 403, 201, 403, 403]],
  ['PUT', '/api/v2/users/bob/group', { groupname: 'default' }, [401, 403, 403, 201, 403, 403]],
  ['DELETE', () => `/api/v2/users/${uniq('victim')}`, null, [401, 403, 403, 404, 403, 403]],
  ['GET', '/api/v2/groups', null, [401, 200, 200, 200, 200, 200]],
  ['GET', '/api/v2/groups/default', null, [401, 200, 200, 200, 200, 200]],
  ['POST', '/api/v2/groups', () => ({ groupname: uniq('g') }), [401, 403, 403, 201, 403, 403]],
  ['PUT', '/api/v2/groups', { data: { groupname: 'default', description: 'd' }, patch: true }, [401, 403, 403, 201, 403, 403]],
  ['GET', '/api/v2/groups/default/userlist', null, [401, 403, 403, 200, 403, 403]],
  ['DELETE', () => `/api/v2/groups/${uniq('nog')}`, null, [401, 403, 403, 404, 403, 403]],
  ['GET', '/api/v2/tokens', null, [401, 200, 200, 200, 403, 403]],
  ['POST', '/api/v2/tokens/application', null, [401, 200, 200, 200, 403, 403]],
  ['GET', '/api/v2/tokens/check', null, [401, 200, 200, 200, 200, 200]],
  ['GET', '/api/v2/virtual-clusters', null, [401, 200, 200, 200, 200, 200]],
  ['GET', '/api/v2/virtual-clusters/default', null, [401, 200, 200, 200, 200, 200]],
  ['PUT', '/api/v2/virtual-clusters/default', { vcCapacity: 10 }, [401, 403, 403, 400, 403, 403]],
  ['GET', '/api/v2/cluster/sku-types', null, [401, 200, 200, 200, 200, 200]],
  ['GET', '/api/v2/cluster/nodes', null, [401, 200, 200, 200, 200, 200]],
  ['GET', '/api/v2/storages', null, [401, 200, 200, 200, 200, 200]],
];

test('authorization matrix: zero violations', async () => {
  const violations = [];
  let checked = 0;
  for (const [method, p, b, expected] of ROUTES) {
    for (let i = 0; i < NAMES.length; i++) {
      const principal = NAMES[i];
      const path = typeof p === 'function' ? p(principal) : p;
      const body = typeof b === 'function' ? b(principal) : b;
      let r;
      if (body && body.yaml) r = await s.submit(who[principal], body.yaml);
      else r = await s.req(method, path, { token: who[principal], body: body ?? undefined });
      checked++;
      if (r.status !== expected[i]) violations.push(`${method} ${path} as ${principal}: ${r.status} (want ${expected[i]}) ${r.text.slice(0, 120)}`);
      // every error is OpenPAI's {code, message}
      if (r.status >= 400 && !(r.body && typeof r.body.code === 'string' && typeof r.body.message === 'string'))
        violations.push(`${method} ${path} as ${principal}: error body is not {code, message}: ${r.text.slice(0, 120)}`);
    }
  }
  assert.ok(checked >= 200);
  assert.deepEqual(violations, []);
});

test('a stop by another user never reaches the job', async () => {
  const r = await s.req('PUT', '/api/v2/jobs/bob~mjob/executionType', { token: who.other, body: { value: 'STOP' } });
  assert.equal(r.status, 403);
  const j = await s.req('GET', '/api/v2/jobs/bob~mjob', { token: who.user });
  assert.equal(j.body.jobStatus.executionType, 'START');
});
