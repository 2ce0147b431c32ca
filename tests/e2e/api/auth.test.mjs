// SPDX-License-Identifier: MIT
// Login, logout, tokens, throttling, first-start admin.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Server, ADMIN_PASSWORD } from '../lib.mjs';

let s;
before(async () => { s = await new Server().start(); });
after(async () => { await s.stop(); s.cleanup(); });

test('login with JSON and with a form', async () => {
  let r = await s.req('POST', '/api/v2/authn/basic/login', { body: { username: 'admin', password: ADMIN_PASSWORD } });
  assert.equal(r.status, 200);
  assert.equal(r.body.user, 'admin');
  assert.equal(r.body.admin, true);
  assert.equal(typeof r.body.token, 'string');
  assert.ok(r.body.token.length >= 43);
  r = await s.req('POST', '/api/v1/token', {
    body: `username=admin&password=${ADMIN_PASSWORD}&expiration=4000`, raw: true,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(r.status, 200);
  assert.equal(r.body.user, 'admin');
});

test('login errors are OpenPAI\'s', async () => {
  let r = await s.req('POST', '/api/v2/authn/basic/login', { body: { username: 'nonexistentuser', password: 'whatever' } });
  assert.equal(r.status, 400);
  assert.deepEqual(r.body, { code: 'NoUserError', message: 'User nonexistentuser is not found.' });
  r = await s.req('POST', '/api/v2/authn/basic/login', { body: { username: 'admin', password: 'wrong-password' } });
  assert.equal(r.status, 400);
  assert.deepEqual(r.body, { code: 'IncorrectPasswordError', message: 'Password is incorrect.' });
  r = await s.req('POST', '/api/v2/authn/basic/login', { body: { username: 'admin' } });
  assert.equal(r.status, 400);
  assert.equal(r.body.code, 'InvalidParametersError');
  r = await s.req('POST', '/api/v2/authn/basic/login', { body: { username: 'a b', password: 'xxxxxxx' } });
  assert.equal(r.status, 400);
  assert.equal(r.body.code, 'InvalidParametersError');
});

test('login expiration: an integer from 60 to 604800 seconds, as OpenPAI checks it; the token lives 7 days whatever it says', async () => {
  const login = (expiration, form = false) => s.req('POST', '/api/v2/authn/basic/login', form
    ? { body: `username=admin&password=${ADMIN_PASSWORD}&expiration=${encodeURIComponent(expiration)}`, raw: true,
      headers: { 'content-type': 'application/x-www-form-urlencoded' } }
    : { body: { username: 'admin', password: ADMIN_PASSWORD, expiration } });
  const bad = [
    [-5, 'must be larger than or equal to 60'], [1, 'must be larger than or equal to 60'],
    [59, 'must be larger than or equal to 60'], [604801, 'must be less than or equal to 604800'],
    [99999999999, 'must be less than or equal to 604800'], [120.5, 'must be an integer'],
    ['soon', 'must be a number'], [null, 'must be a number'], [true, 'must be a number'], [[60], 'must be a number'],
  ];
  for (const [v, msg] of bad) {
    const r = await login(v);
    assert.equal(r.status, 400, `${JSON.stringify(v)}: ${r.text}`);
    assert.deepEqual(r.body, { code: 'InvalidParametersError', message: `"expiration" ${msg}` });
  }
  for (const [v, msg] of [['-5', 'must be larger than or equal to 60'], ['1e9', 'must be less than or equal to 604800'],
    ['60s', 'must be a number'], ['', 'must be a number']]) {
    const r = await login(v, true);
    assert.equal(r.status, 400, `form ${v}: ${r.text}`);
    assert.equal(r.body.message, `"expiration" ${msg}`);
  }
  // a valid one is accepted and, as on OpenPAI, does not change the lifetime
  // (the JS SDK sends 4000 s: its sessions must last as long as on OpenPAI)
  for (const [v, ttl, form] of [[60, 604800, false], [604800, 604800, false], ['4000', 604800, true],
    [3600.0, 604800, false], [undefined, 604800, false]]) {
    const r = await login(v, form);
    assert.equal(r.status, 200, `${v}: ${r.text}`);
    const c = await s.req('GET', '/api/v2/tokens/check', { token: r.body.token });
    assert.equal(c.body.exp - c.body.iat, ttl, String(v));
  }
});

test('missing and bad tokens are 401', async () => {
  let r = await s.req('GET', '/api/v2/jobs');
  assert.equal(r.status, 401);
  assert.deepEqual(r.body, { code: 'UnauthorizedUserError', message: 'Guest is not allowed to do this operation.' });
  r = await s.req('GET', '/api/v2/jobs', { token: 'not-a-token' });
  assert.equal(r.status, 401);
  assert.deepEqual(r.body, { code: 'UnauthorizedUserError', message: 'Your token is invalid.' });
});

test('logout revokes the token', async () => {
  const token = await s.login();
  let r = await s.req('DELETE', '/api/v2/authn/basic/logout', { token });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { message: 'Logout successfully' });
  r = await s.req('GET', '/api/v2/users/admin', { token });
  assert.equal(r.status, 401);
  assert.equal(r.body.message, 'Your token is invalid.');
});

test('application tokens: create, use (Bearer and Basic), list, limits, revoke', async () => {
  const token = await s.login();
  let r = await s.req('POST', '/api/v2/tokens/application', { token });
  assert.equal(r.status, 200);
  assert.equal(r.body.application, true);
  const app = r.body.token;
  r = await s.req('GET', '/api/v2/jobs', { token: app });
  assert.equal(r.status, 200);
  const basic = 'Basic ' + Buffer.from(`admin:${app}`).toString('base64');
  r = await s.req('GET', '/api/v2/jobs', { token: basic });
  assert.equal(r.status, 200);
  // application tokens cannot manage users or tokens
  r = await s.req('POST', '/api/v2/users', { token: app, body: { username: 'x1', password: 'xxxxxx' } });
  assert.equal(r.status, 403);
  assert.deepEqual(r.body, { code: 'ForbiddenUserError', message: 'Applications are not allowed to do this operation.' });
  r = await s.req('GET', '/api/v2/tokens', { token: app });
  assert.equal(r.status, 403);
  // the list shows handles, never the tokens themselves
  r = await s.req('GET', '/api/v2/tokens', { token });
  assert.equal(r.status, 200);
  assert.ok(Array.isArray(r.body.tokens));
  assert.ok(r.body.tokens.length >= 2);
  assert.ok(!r.body.tokens.includes(app) && !r.body.tokens.includes(token));
  for (const h of r.body.tokens) assert.match(h, /^sha256:[0-9a-f]{64}$/);
  // revoke by value
  r = await s.req('DELETE', `/api/v2/tokens/${app}`, { token });
  assert.equal(r.status, 200);
  r = await s.req('GET', '/api/v2/jobs', { token: app });
  assert.equal(r.status, 401);
  // revoke by handle: the handle that appeared with the new token
  const before = (await s.req('GET', '/api/v2/tokens', { token })).body.tokens;
  const app2 = (await s.req('POST', '/api/v2/tokens/application', { token })).body.token;
  const afterList = (await s.req('GET', '/api/v2/tokens', { token })).body.tokens;
  const added = afterList.filter((h) => !before.includes(h));
  assert.equal(added.length, 1);
  assert.equal((await s.req('GET', '/api/v2/jobs', { token: app2 })).status, 200);
  r = await s.req('DELETE', `/api/v2/tokens/${encodeURIComponent(added[0])}`, { token });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { message: 'revoke successfully' });
  assert.equal((await s.req('GET', '/api/v2/jobs', { token: app2 })).status, 401);
  assert.equal((await s.req('GET', '/api/v2/jobs', { token })).status, 200, 'the caller\'s own token is untouched');
});

test('token check describes the caller', async () => {
  const token = await s.login();
  const r = await s.req('GET', '/api/v2/tokens/check', { token });
  assert.equal(r.status, 200);
  assert.equal(r.body.username, 'admin');
  assert.equal(r.body.application, false);
  assert.equal(r.body.admin, true);
  assert.ok(r.body.exp > r.body.iat);
});

test('another user\'s token cannot be revoked', async () => {
  const admin = await s.login();
  const bob = await s.user(admin, 'tokbob');
  const r = await s.req('DELETE', `/api/v2/tokens/${bob}`, { token: admin });
  assert.equal(r.status, 403);
  assert.equal((await s.req('GET', '/api/v2/jobs', { token: bob })).status, 200);
});

test('repeated failed logins are slowed down (429), per user', async () => {
  const admin = await s.login();
  await s.user(admin, 'victim');
  let last;
  for (let i = 0; i < 6; i++) {
    last = await s.req('POST', '/api/v2/authn/basic/login', { body: { username: 'victim', password: 'bad-password' } });
  }
  assert.equal(last.status, 429);
  assert.equal(last.body.code, 'TooManyRequestsError');
  assert.ok(Number(last.headers.get('retry-after')) >= 1);
  // even the right password waits out the delay
  const r = await s.req('POST', '/api/v2/authn/basic/login', { body: { username: 'victim', password: 'victim-password' } });
  assert.equal(r.status, 429);
  // other users are not affected
  assert.equal((await s.req('POST', '/api/v2/authn/basic/login', { body: { username: 'admin', password: ADMIN_PASSWORD } })).status, 200);
});

test('password change revokes browser tokens, not application tokens', async () => {
  const admin = await s.login();
  const t = await s.user(admin, 'pwchange');
  const app = (await s.req('POST', '/api/v2/tokens/application', { token: t })).body.token;
  let r = await s.req('PUT', '/api/v2/user/pwchange/password', { token: t, body: { oldPassword: 'pwchange-password', newPassword: 'brand-new-pw' } });
  assert.equal(r.status, 201);
  assert.equal((await s.req('GET', '/api/v2/jobs', { token: t })).status, 401);
  assert.equal((await s.req('GET', '/api/v2/jobs', { token: app })).status, 200);
  assert.equal((await s.req('POST', '/api/v2/authn/basic/login', { body: { username: 'pwchange', password: 'brand-new-pw' } })).status, 200);
});

test('first start without GANTRY_ADMIN_PASSWORD writes a random one, mode 0600', async () => {
  const t = new Server({ env: { GANTRY_ADMIN_PASSWORD: '' } });
  await t.start();
  const file = join(t.dir, 'admin-password');
  const pw = readFileSync(file, 'utf8').trim();
  assert.ok(pw.length >= 16);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.ok(t.log.includes(pw), 'printed once on stderr');
  assert.equal((await t.req('POST', '/api/v2/authn/basic/login', { body: { username: 'admin', password: pw } })).status, 200);
  await t.stop();
  t.cleanup();
});
