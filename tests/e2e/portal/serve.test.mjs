// SPDX-License-Identifier: MIT
// gantry server serving the portal's files (src/api/static.c), over HTTP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { WEB, portalServer } from './browser.mjs';
import { Server } from '../lib.mjs';

let s;
before(async () => {
  s = await portalServer().start();
});
after(async () => {
  await s?.stop();
  s?.cleanup();
});

// fetch() normalizes "..": send the path exactly as written
function raw(url, path, method = 'GET') {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('/ is the portal: HTML, revalidated each time', async () => {
  const r = await s.req('GET', '/');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/html/);
  assert.equal(r.headers.get('cache-control'), 'no-cache');
  assert.match(r.text, /<div id="app">/);
});

test('deep links answer index.html, so a reload works', async () => {
  const index = (await s.req('GET', '/')).text;
  for (const p of ['/jobs', '/jobs/alice~mnist', '/admin/users', '/submit?clone=a~b', '/job-detail.html?username=a&jobName=b']) {
    const r = await s.req('GET', p);
    assert.equal(r.status, 200, p);
    assert.equal(r.text, index, p);
  }
});

test('hashed assets: right content types, cached for a year', async () => {
  const assets = readdirSync(join(WEB, 'assets'));
  const js = assets.find((f) => f.endsWith('.js'));
  const css = assets.find((f) => f.endsWith('.css'));
  let r = await s.req('GET', `/assets/${js}`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/javascript/);
  assert.equal(r.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  r = await s.req('GET', `/assets/${css}`);
  assert.match(r.headers.get('content-type'), /^text\/css/);
  r = await s.req('GET', '/favicon.svg');
  assert.equal(r.headers.get('content-type'), 'image/svg+xml');
  r = await s.req('HEAD', `/assets/${js}`);
  assert.equal(r.status, 200);
  assert.equal(r.text, '');
});

test('a missing file is 404, never index.html', async () => {
  for (const p of ['/assets/nope.js', '/nope.png', '/assets/x']) {
    const r = await s.req('GET', p);
    assert.equal(r.status, 404, p);
    assert.doesNotMatch(r.text, /<html/, p);
  }
});

test('the API keeps its JSON 404s and methods', async () => {
  let r = await s.req('GET', '/api/v2/nope');
  assert.equal(r.status, 404);
  assert.equal(r.body.code, 'NoApiError');
  r = await s.req('GET', '/rest-server/whatever');
  assert.equal(r.body.code, 'NoApiError');
  r = await s.req('POST', '/jobs');
  assert.equal(r.status, 404);
  assert.equal(r.body.code, 'NoApiError');
  r = await s.req('GET', '/api/v2/info');
  assert.equal(r.status, 200);
});

test('nothing outside the portal directory is served (path traversal)', async () => {
  for (const p of [
    '/../../../../etc/passwd',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/assets/..%2f..%2f..%2fetc%2fpasswd',
    '/assets/../../src/api/static.c',
    '/..%5c..%5cetc%5cpasswd',
    '/.git/config',
    '//etc/passwd',
    '/assets/./x.js',
  ]) {
    const r = await raw(s.url, p);
    assert.ok(r.status === 404 || r.status === 400, `${p}: ${r.status}`);
    assert.doesNotMatch(r.body, /root:|SPDX/, p);
  }
});

test('symlinks that lead out of the directory are not followed', async () => {
  const web = mkdtempSync(join(tmpdir(), 'gantry-web-'));
  writeFileSync(join(web, 'index.html'), '<!doctype html><div id="app"></div>');
  mkdirSync(join(web, 'assets'));
  symlinkSync('/etc/passwd', join(web, 'leak.txt'));
  symlinkSync('/etc', join(web, 'assets', 'etc'));
  const t = await new Server({ env: { GANTRY_WEB: web } }).start();
  try {
    for (const p of ['/leak.txt', '/assets/etc/passwd', '/assets/etc/hostname']) {
      const r = await t.req('GET', p);
      assert.equal(r.status, 404, p);
      assert.doesNotMatch(r.text, /root:/, p);
    }
    assert.equal((await t.req('GET', '/')).status, 200);
  } finally {
    await t.stop();
    t.cleanup();
    rmSync(web, { recursive: true, force: true });
  }
});

test('without a built portal the server starts, says so, and serves the API', async () => {
  const t = new Server({ env: { GANTRY_WEB: join(tmpdir(), 'no-such-portal') } });
  await t.start();
  try {
    const r = await t.req('GET', '/');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/plain/);
    assert.match(r.text, /\/api\/v2/);
    assert.match(r.text, /not built/);
    assert.equal((await t.req('GET', '/jobs')).status, 404);
    assert.equal((await t.req('GET', '/api/v2/info')).status, 200);
  } finally {
    await t.stop();
  }
  assert.match(t.log, /portal: .*no-such-portal.*(not built|no index\.html).*API only/);
  t.cleanup();
});
