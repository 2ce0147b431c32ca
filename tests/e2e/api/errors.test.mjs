// SPDX-License-Identifier: MIT
// Error answers at the HTTP edge: paths no route or portal file matches,
// NUL characters in the URL, over-long URLs. Each is OpenPAI's JSON
// {code, message}, and none reaches a resource the URL does not name.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server, CLUSTER, gpuJob } from '../lib.mjs';

let s, admin;
before(async () => {
  s = await new Server({ config: CLUSTER }).start();
  admin = await s.login();
  assert.equal((await s.submit(admin, gpuJob('envtest'))).status, 201);
});
after(async () => { await s.stop(); s.cleanup(); });

// One request written byte for byte (fetch refuses raw NULs and rewrites
// paths); returns {status, type, body} with body parsed when it is JSON.
function raw(target, { method = 'GET', body = '', server = s } = {}) {
  const u = new URL(server.url);
  return new Promise((resolve, reject) => {
    const c = net.connect(Number(u.port), u.hostname, () => {
      const head = `${method} ${target} HTTP/1.1\r\nHost: ${u.host}\r\nAuthorization: Bearer ${admin}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
      c.end(Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(body)]));
    });
    const chunks = [];
    c.on('data', (d) => chunks.push(d));
    c.on('error', reject);
    c.on('end', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const at = text.indexOf('\r\n\r\n');
      const head = text.slice(0, at);
      const status = Number(head.split(' ')[1]);
      const type = (/^content-type: *(.*)$/im.exec(head) || [])[1] || '';
      let parsed = text.slice(at + 4);
      if (type.includes('json')) parsed = JSON.parse(parsed);
      resolve({ status, type, body: parsed });
    });
  });
}

test('paths no route or portal file matches are 404 NoApiError in JSON, as unknown API routes', async () => {
  // a portal of its own, so the portal's file server is on whether web/dist is built or not
  const web = mkdtempSync(join(tmpdir(), 'gantry-web-'));
  writeFileSync(join(web, 'index.html'), '<!doctype html><div id="app"></div>');
  mkdirSync(join(web, 'assets'));
  writeFileSync(join(web, 'assets', 'app.js'), 'console.log(1)');
  const t = await new Server({ env: { GANTRY_WEB: web } }).start();
  try {
    for (const p of ['//api//v2//jobs', '//api/v2/jobs', '/api//v2/jobs', '//etc/passwd', '/assets/nope.js', '/nope.png',
      '/.git/config', '/a/./b', '/assets/../index.html']) {
      const r = await raw(p, { server: t });
      assert.equal(r.status, 404, p);
      assert.match(r.type, /^application\/json/, p);
      assert.deepEqual(r.body, { code: 'NoApiError', message: `API ${p} is not found.` }, p);
    }
    // the portal itself is still served
    assert.equal((await raw('/assets/app.js', { server: t })).status, 200);
    const page = await raw('/jobs/admin~x', { server: t });
    assert.equal(page.status, 200);
    assert.match(page.body, /id="app"/);
    // deep links whose last segment holds a dot are pages too (user names may: j.doe), and so are
    // OpenPAI's old page names; only a known file type or /assets/ is looked up as a file
    for (const p of ['/jobs/j.doe~mnist', '/jobs/j.doe~mnist?tab=logs', '/users/j.doe', '/job-detail.html',
      '/jobs/a.b.c~x.y']) {
      const d = await raw(p, { server: t });
      assert.equal(d.status, 200, p);
      assert.match(d.body, /id="app"/, p);
    }
    // and with fetch, as a browser or client sees it
    const r = await t.req('GET', '/assets/nope.js');
    assert.equal(r.body.code, 'NoApiError');
  } finally {
    await t.stop();
    t.cleanup();
    rmSync(web, { recursive: true, force: true });
  }
  // without a portal, the same answer
  assert.equal((await raw('//api//v2//jobs')).body.code, 'NoApiError');
});

test('an encoded NUL (%00) in the path is 400, never the resource before it', async () => {
  assert.equal((await s.req('GET', '/api/v2/jobs/admin~envtest', { token: admin })).status, 200);
  for (const p of ['/api/v2/jobs/admin~envtest%00x', '/api/v2/jobs/admin~envtest%00', '/api/v2/jobs/admin~envtest%00/config',
    '/api/v2/users/admin%00x', '/rest-server/api/v2/jobs/admin~envtest%00x', '/%00', '/assets/x.js%00.map']) {
    const r = await s.req('GET', p, { token: admin });
    assert.equal(r.status, 400, p);
    assert.equal(r.body.code, 'InvalidParametersError', p);
    assert.match(r.body.message, /NUL/, p);
    assert.doesNotMatch(r.text, /envtest/, p);
  }
  // before authentication too: no token, still 400 (nothing is looked up)
  assert.equal((await s.req('GET', '/api/v2/jobs/admin~envtest%00x')).status, 400);
});

test('an encoded NUL in the query is 400 too', async () => {
  for (const p of ['/api/v2/jobs?username=admin%00x', '/api/v2/jobs/admin~envtest?x=%00', '/api/v2/jobs?%00=1',
    '/api/v2/jobs?keyword=env%00test']) {
    const r = await s.req('GET', p, { token: admin });
    assert.equal(r.status, 400, p);
    assert.equal(r.body.code, 'InvalidParametersError', p);
  }
});

test('a mutation with %00 in its URL changes nothing', async () => {
  const r = await s.req('PUT', '/api/v2/jobs/admin~envtest%00x/tag', { token: admin, body: { value: 'nul-tag' } });
  assert.equal(r.status, 400);
  const job = await s.req('GET', '/api/v2/jobs/admin~envtest', { token: admin });
  assert.deepEqual(job.body.tags, []);
  // the body was read: the next request on the same server is fine
  assert.equal((await raw('/api/v2/jobs/admin~envtest%00x/tag', { method: 'PUT', body: '{"value": "t"}' })).status, 400);
  assert.equal((await s.req('GET', '/healthz')).status, 200);
});

test('a raw NUL byte in the request target is 400 as well', async () => {
  for (const p of ['/api/v2/jobs/admin~envtest\0x', '/api/v2/jobs/admin~envtest\0', '/api/v2/jobs/admin~envtest?username=a\0x']) {
    const r = await raw(p);
    assert.equal(r.status, 400, JSON.stringify(p));
    assert.equal(r.body.code, 'InvalidParametersError', JSON.stringify(p));
  }
  assert.equal((await raw('/api/v2/jobs/admin~envtest')).status, 200);
});

test('what only looks like %00 is not refused', async () => {
  // %2500 is the text "%00"; %%300 is "%" then "%30" = "0"
  for (const p of ['/api/v2/jobs/admin~envtest%2500', '/api/v2/jobs/admin~x%%300']) {
    const r = await s.req('GET', p, { token: admin });
    assert.equal(r.status, 404, p);
    assert.equal(r.body.code, 'NoJobError', p);
  }
  const r = await s.req('GET', '/api/v2/jobs?keyword=%2500', { token: admin });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, []);
});

test('URLs over 16 KiB are 414 RequestUriTooLongError in JSON; up to 16 KiB they are served', async () => {
  const prefix = '/api/v2/jobs/admin~';
  let r = await raw(prefix + 'x'.repeat(16384 - prefix.length));
  assert.equal(r.status, 404);
  assert.equal(r.body.code, 'NoJobError');
  for (const n of [16385, 20000, 30000]) {
    r = await raw(prefix + 'x'.repeat(n - prefix.length));
    assert.equal(r.status, 414, `${n}`);
    assert.match(r.type, /^application\/json/);
    assert.equal(r.body.code, 'RequestUriTooLongError');
    assert.match(r.body.message, new RegExp(`${n} bytes.*16384`));
  }
  // the query counts: a short path with a long query
  r = await raw('/api/v2/jobs?keyword=' + 'k'.repeat(17000));
  assert.equal(r.status, 414);
  assert.equal(r.body.code, 'RequestUriTooLongError');
});

test('a request head past libmicrohttpd\'s memory is refused by it (414), and the server carries on', async () => {
  // over ~32 KiB MHD answers itself with its own HTML page (docs/user/api.md)
  const r = await raw('/api/v2/jobs/' + 'x'.repeat(100000));
  assert.equal(r.status, 414);
  assert.equal((await s.req('GET', '/api/v2/jobs/admin~envtest', { token: admin })).status, 200);
});

test('the server stops cleanly afterwards (no leak of refused requests under ASan)', async () => {
  const res = await s.stop();
  assert.equal(res.code, 0, s.log.slice(-2000));
});
