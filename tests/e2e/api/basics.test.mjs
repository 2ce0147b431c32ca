// SPDX-License-Identifier: MIT
// Routing, health, info, errors, limits, prefixes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server } from '../lib.mjs';

let s;
before(async () => { s = await new Server().start(); });
after(async () => { await s.stop(); s.cleanup(); });

test('healthz and the API root answer without auth', async () => {
  let r = await s.req('GET', '/healthz');
  assert.equal(r.status, 200);
  assert.equal(r.text, 'ok');
  r = await s.req('GET', '/api/v2');
  assert.equal(r.status, 200);
  assert.equal(r.text, 'PAI RESTful API v2 (beta version)');
});

test('info has OpenPAI\'s fields and Gantry\'s', async () => {
  const r = await s.req('GET', '/api/v2/info');
  assert.equal(r.status, 200);
  assert.equal(r.body.name, 'PAI RESTful API');
  assert.equal(r.body.launcherType, 'k8s');
  assert.equal(r.body.authnMethod, 'basic');
  assert.match(r.body.gantry.version, /^\d+\.\d+\.\d+$/);
  assert.ok(r.body.gantry.host.cpus >= 1);
  assert.match(r.body.gantry.host.nvml, /GPU/);
});

test('every route is also under /rest-server, trailing slash optional', async () => {
  for (const p of ['/rest-server/api/v2/info', '/api/v2/info/', '/rest-server/api/v2/info/', '/api/v1']) {
    const r = await s.req('GET', p);
    assert.equal(r.status, 200, p);
    assert.equal(r.body.name, 'PAI RESTful API', p);
  }
});

test('unknown routes are 404 NoApiError, wrong methods 405', async () => {
  let r = await s.req('GET', '/api/v2/nothing-here');
  assert.equal(r.status, 404);
  assert.deepEqual(r.body, { code: 'NoApiError', message: 'API /api/v2/nothing-here is not found.' });
  r = await s.req('DELETE', '/api/v2/info');
  assert.equal(r.status, 405);
  assert.equal(typeof r.body.code, 'string');
});

test('VS Code\'s protocol probe gets a JSON error, not NoApiError', async () => {
  const r = await s.req('GET', '/rest-server/api/v2/jobs/protocolversion/config');
  assert.equal(r.status, 401);
  assert.equal(r.body.code, 'UnauthorizedUserError');
});

test('authn info', async () => {
  const r = await s.req('GET', '/api/v2/authn/info');
  assert.equal(r.status, 200);
  assert.equal(r.body.authn_type, 'basic');
  assert.equal(r.body.loginURIMethod, 'post');
});

test('bodies over 4 MiB are 413', async () => {
  const token = await s.login();
  const big = 'x'.repeat(4 * 1024 * 1024 + 10);
  const r = await s.req('POST', '/api/v2/jobs', { token, body: big, raw: true, headers: { 'content-type': 'text/yaml' } });
  assert.equal(r.status, 413);
});

test('malformed JSON, forms and UTF-8 are 400, not a crash', async () => {
  const token = await s.login();
  let r = await s.req('POST', '/api/v2/users', { token, body: '{"username": ', raw: true, headers: { 'content-type': 'application/json' } });
  assert.equal(r.status, 400);
  assert.equal(r.body.code, 'InvalidParametersError');
  r = await s.req('POST', '/api/v2/users', { token, body: '[1,2]', raw: true, headers: { 'content-type': 'application/json' } });
  assert.equal(r.status, 400);
  r = await s.req('POST', '/api/v2/jobs', { token, body: Buffer.from([0xff, 0xfe, 0x00, 0x41]), raw: true, headers: { 'content-type': 'text/yaml' } });
  assert.equal(r.status, 400);
  assert.equal(r.body.code, 'InvalidProtocolError');
  r = await s.req('POST', '/api/v2/authn/basic/login', { body: 'username=%zz&password', raw: true, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  assert.equal(r.status, 400);
  r = await s.req('GET', '/healthz');
  assert.equal(r.status, 200, 'still alive');
});

test('CORS preflight', async () => {
  const r = await s.req('OPTIONS', '/api/v2/jobs');
  assert.equal(r.status, 204);
  assert.equal(r.headers.get('access-control-allow-origin'), '*');
});

test('graceful stop on SIGTERM', async () => {
  const t = await new Server().start();
  const res = await t.stop('SIGTERM');
  assert.equal(res.code, 0);
  assert.match(t.log, /stopped cleanly/);
  t.cleanup();
});
