// SPDX-License-Identifier: MIT
// Nothing a client sends can crash the server or corrupt the store: random
// bodies, content types, paths and headers against every route family,
// with the server checked alive and consistent afterwards.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, CLUSTER, gpuJob } from '../lib.mjs';

let s, admin;
before(async () => {
  s = await new Server({ config: CLUSTER }).start();
  admin = await s.login();
  assert.equal((await s.submit(admin, gpuJob('keep'))).status, 201);
});
after(async () => { await s.stop(); s.cleanup(); });

// deterministic pseudo-random generator
let seed = 12345;
const rnd = (n) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
const pick = (a) => a[rnd(a.length)];

const PATHS = ['/api/v2/jobs', '/api/v2/jobs/admin~keep', '/api/v2/jobs/admin~keep/tag', '/api/v2/jobs/admin~keep/executionType',
  '/api/v2/users', '/api/v2/users/me', '/api/v2/users/admin/group', '/api/v2/user/admin/extension', '/api/v2/groups',
  '/api/v2/groups/default/extension/acls', '/api/v2/tokens/application', '/api/v2/authn/basic/login', '/api/v2/virtual-clusters/default',
  '/api/v2/jobs/%00~x', '/api/v2/jobs/~', '/api/v2/jobs/admin~keep/attempts/-1', '/api/v2/jobs?limit=-5&offset=abc&order=,',
  '/api/v2/jobs?keyword=%22%27%3B--&state=,,,&username=' + 'u'.repeat(3000), '/api/v2/users/' + 'x'.repeat(5000)];
const TYPES = ['application/json', 'text/yaml', 'application/x-www-form-urlencoded', 'text/plain', '', 'multipart/form-data'];
const BODIES = [
  '', '{', '[]', 'null', '"str"', '{"data": 5, "patch": "yes"}', '{"username": {"a": 1}, "password": [1]}',
  '{"value": null}', '{"grouplist": [1, null, {}]}', '{"extension": "x"}', '{"data": {"username": "admin", "admin": "maybe"}}',
  'username=&password=', 'a=%ff%fe&b', '\u0000\u0001\u0002', 'x'.repeat(100000), 'protocolVersion: 2\nname: [a\n',
  '{"virtualCluster": ["' + 'v'.repeat(1000) + '"]}', JSON.stringify({ data: { groupname: 'default', extension: { acls: 7 } }, patch: true }),
];

test('1,500 garbage requests: every answer is a proper HTTP status, the server survives', async () => {
  for (let i = 0; i < 1500; i++) {
    const method = pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH']);
    const headers = {};
    const ct = pick(TYPES);
    if (ct) headers['content-type'] = ct;
    const token = pick([admin, undefined, 'garbage', 'Basic ' + Buffer.from('admin:x').toString('base64')]);
    let body = method === 'GET' ? undefined : pick(BODIES);
    const r = await s.req(method, pick(PATHS), { token, body, raw: true, headers });
    assert.ok(r.status >= 200 && r.status < 600, `status ${r.status}`);
    if (r.status >= 400 && r.status !== 405)
      assert.equal(typeof r.body.code, 'string', `${method}: ${r.text.slice(0, 100)}`);
  }
  assert.equal((await s.req('GET', '/healthz')).status, 200);
});

test('the store is intact afterwards', async () => {
  const r = await s.req('GET', '/api/v2/jobs/admin~keep', { token: admin });
  assert.equal(r.status, 200);
  assert.equal(r.body.name, 'keep');
  const u = await s.req('GET', '/api/v2/users/admin', { token: admin });
  assert.equal(u.body.admin, true);
  const g = await s.req('GET', '/api/v2/groups/default', { token: admin });
  assert.equal(g.status, 200);
  // the server still stops cleanly
  const res = await s.stop();
  assert.equal(res.code, 0);
  await s.start();
  assert.equal((await s.req('GET', '/api/v2/jobs/admin~keep', { token: admin })).status, 200);
});
