// SPDX-License-Identifier: MIT
// Task logs: OpenPAI's list route and its signed uris, the content route
// (whole, tail-mode, offset), streams (follow and SSE: appends, rotation, the
// end of the attempt, many followers, clients that leave, a server that
// stops), and what must be refused (bad tokens, path traversal).
//
// Until jobs run, the tests write the shim's files themselves into the task
// attempt's directory: DATA/logs/<user>~<job>/<attempt>/<role>-<index>/<taskAttempt>.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import { appendFileSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { Server, ADMIN_PASSWORD, cpuJob } from '../lib.mjs';

const require = createRequire(import.meta.url);
const { PAIV2 } = require('@microsoft/openpai-js-sdk');

// attempt numbers no executor will reach in these tests: the files are ours
const A = 7, TA = 3;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let s, admin, alice, bob;
before(async () => {
  s = await new Server().start();
  admin = await s.login();
  alice = await s.user(admin, 'alice');
  bob = await s.user(admin, 'bob');
  for (const name of ['logs1', 'logs2', 'logs3', 'logs4', 'logs5', 'logs6']) {
    const r = await s.submit(alice, cpuJob(name));
    assert.equal(r.status, 201, r.text);
  }
});
after(async () => { await s.stop(); s.cleanup(); });

function attemptDir(job, { role = 'worker', index = 0, attempt = A, taskAttempt = TA, user = 'alice' } = {}) {
  const d = join(s.dir, 'logs', `${user}~${job}`, String(attempt), `${role}-${index}`, String(taskAttempt));
  mkdirSync(d, { recursive: true });
  return d;
}
const base = (job, { role = 'worker', index = 0, attempt = A, taskAttempt = TA, user = 'alice' } = {}) =>
  `/api/v2/jobs/${user}~${job}/attempts/${attempt}/taskRoles/${role}/taskIndex/${index}/attempts/${taskAttempt}/logs`;
const finish = (dir, exit = { exitCode: 0 }) => {
  writeFileSync(join(dir, 'exit.json.tmp'), JSON.stringify(exit));
  renameSync(join(dir, 'exit.json.tmp'), join(dir, 'exit.json'));
};

// A streaming GET: the text so far, and promises on what arrives.
async function openStream(path, headers = {}) {
  const ctl = new AbortController();
  const res = await fetch(s.url + path, { headers, signal: ctl.signal });
  const st = { res, text: '', ended: false, error: null, ctl, waiters: [] };
  const check = () => {
    st.waiters = st.waiters.filter((w) => {
      if (st.error || st.ended || w.pred(st.text)) { w.resolve(); return false; }
      return true;
    });
  };
  const dec = new TextDecoder();
  st.done = (async () => {
    try {
      for await (const chunk of res.body) {
        st.text += dec.decode(chunk, { stream: true });
        check();
      }
      st.ended = true;
    } catch (e) {
      st.error = e;
    }
    check();
  })();
  // resolves once pred(text) holds (or the stream is over); fails after ms
  st.until = (pred, ms = 3000) => {
    const p = new Promise((resolve) => { st.waiters.push({ pred, resolve }); check(); });
    return Promise.race([p, sleep(ms).then(() => { throw new Error(`timeout; got ${JSON.stringify(st.text.slice(-300))}`); })]);
  };
  return st;
}

// A GET sent exactly as written (fetch would resolve .. and %2E%2E itself).
function rawGet(path, headers = {}) {
  const u = new URL(s.url);
  return new Promise((resolve, reject) => {
    const req = http.get({ host: u.hostname, port: u.port, path, headers }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
  });
}

function sign(path, exp) {
  const key = readFileSync(join(s.dir, 'log-secret'));
  const mac = createHmac('sha256', key).update(`${path}\n${exp}`).digest('base64url');
  return `${exp}.${mac}`;
}

test('the list: OpenPAI locations with signed host-relative uris, any user, OpenPAI errors', async () => {
  const dir = attemptDir('logs1');
  writeFileSync(join(dir, 'user.pai.stdout'), 'out\n');
  writeFileSync(join(dir, 'user.pai.stderr'), 'err\n');
  writeFileSync(join(dir, 'user.pai.all'), 'out\nerr\n');
  writeFileSync(join(dir, 'runtime.log'), 'started\n');

  let r = await s.req('GET', base('logs1'), { token: bob });   // any user may read, as in OpenPAI
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body.locations.map((l) => l.name), ['stdout', 'stderr', 'all', 'runtime']);
  for (const l of r.body.locations) {
    assert.match(l.uri, new RegExp(`^${base('logs1')}/${l.name}\\?token=\\d+\\.[A-Za-z0-9_-]{43}$`));
  }
  assert.ok(r.body.expiresAt > Date.now() + 50 * 60 * 1000);

  // rotated files are listed when they exist
  writeFileSync(join(dir, 'user.pai.stdout.1'), 'older\n');
  r = await s.req('GET', `${base('logs1')}?tail-mode=true`, { token: alice });
  assert.deepEqual(r.body.locations.map((l) => l.name), ['stdout', 'stderr', 'all', 'runtime', 'stdout.1']);
  assert.ok(r.body.locations.every((l) => l.uri.endsWith('&tail-mode=true')));
  r = await s.req('GET', `${base('logs1')}?tailMode=true`, { token: alice });   // the SDK's spelling
  assert.ok(r.body.locations.every((l) => l.uri.endsWith('&tail-mode=true')));
  // under /rest-server the uris are too, so a proxy of /rest-server reaches them
  r = await s.req('GET', `/rest-server${base('logs1')}`, { token: alice });
  assert.ok(r.body.locations.every((l) => l.uri.startsWith(`/rest-server${base('logs1')}/`)));
  const got = await fetch(s.url + r.body.locations[0].uri);
  assert.equal(got.status, 200);
  assert.equal(await got.text(), 'out\n');

  r = await s.req('GET', base('logs1'));
  assert.equal(r.status, 401);
  r = await s.req('GET', base('nope'), { token: alice });
  assert.equal(r.status, 404);
  assert.equal(r.body.code, 'NoJobError');
  r = await s.req('GET', base('logs1', { index: 5 }), { token: alice });
  assert.equal(r.status, 404);
  assert.equal(r.body.code, 'NoTaskLogError');
  r = await s.req('GET', base('logs1', { taskAttempt: 0, attempt: 0, role: 'other' }), { token: alice });
  assert.equal(r.body.code, 'NoTaskLogError');
});

test('a role is named as written or as the job detail keys it (OpenPAI\'s converted name)', async () => {
  const yaml = cpuJob('mixed').replace(/\bworker:/, 'Worker_A:');
  assert.equal((await s.submit(alice, yaml)).status, 201);
  const dir = attemptDir('mixed', { role: 'Worker_A' });
  writeFileSync(join(dir, 'user.pai.stdout'), 'as written\n');
  for (const role of ['Worker_A', 'workera']) {
    const r = await s.req('GET', base('mixed', { role }), { token: alice });
    assert.equal(r.status, 200, `${role}: ${r.text}`);
    const got = await s.req('GET', r.body.locations[0].uri);
    assert.equal(got.text, 'as written\n');
  }
  const r = await s.req('GET', base('mixed', { role: 'worker_b' }), { token: alice });
  assert.equal(r.body.code, 'NoTaskLogError');
});

test('OpenPAI SDK: getTaskLogs, then the uri fetched without any Authorization', async () => {
  const dir = attemptDir('logs1');
  const client = new PAIV2.OpenPAIClient({ rest_server_uri: s.url.replace('http://', ''), https: false, username: 'admin', password: ADMIN_PASSWORD });
  const logs = await client.job.getTaskLogs('alice', 'logs1', A, 'worker', 0, TA, true);
  const all = logs.locations.find((l) => l.name === 'all');
  assert.ok(all.uri.includes('tail-mode=true'));
  const res = await fetch(new URL(all.uri, s.url));
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/plain; charset=utf-8/);
  assert.equal(await res.text(), readFileSync(join(dir, 'user.pai.all'), 'utf8'));
});

test('tokens: a tampered, expired or borrowed token is 401; a Bearer token works alone', async () => {
  const path = `${base('logs1')}/stdout`;
  const list = (await s.req('GET', base('logs1'), { token: alice })).body.locations;
  const uri = list.find((l) => l.name === 'stdout').uri;
  const token = new URL(uri, s.url).searchParams.get('token');
  const [exp, mac] = token.split('.');

  assert.equal((await s.req('GET', uri)).status, 200);
  // the token is HMAC-SHA256(DATA/log-secret, path "\n" exp), base64url
  assert.equal(sign(path, exp), token);
  const flip = (c) => (c === 'A' ? 'B' : 'A');
  for (const bad of [`${exp}.${flip(mac[0])}${mac.slice(1)}`, `${Number(exp) + 1}.${mac}`, `${exp}.${mac.slice(1)}`, 'x', '', `${exp}`]) {
    const r = await s.req('GET', `${path}?token=${encodeURIComponent(bad)}`);
    assert.equal(r.status, 401, `token ${bad}`);
    assert.equal(r.body.code, 'UnauthorizedUserError');
  }
  const old = Math.floor(Date.now() / 1000) - 10;
  let r = await s.req('GET', `${path}?token=${sign(path, old)}`);
  assert.equal(r.status, 401, 'expired');
  r = await s.req('GET', `${path}?token=${sign(path, old + 3600)}`);
  assert.equal(r.status, 200, 'the same, not yet expired');
  // a token is for one file: stdout's does not open stderr
  r = await s.req('GET', `${base('logs1')}/stderr?token=${token}`);
  assert.equal(r.status, 401);
  r = await s.req('GET', path, { token: bob });
  assert.equal(r.status, 200);
  assert.equal(r.text, 'out\n');
  r = await s.req('GET', path, { token: 'not-a-token' });
  assert.equal(r.status, 401);
  r = await s.req('GET', path);
  assert.equal(r.status, 401);
});

test('content: tail-mode is exactly the last 16 KiB; offset; missing files', async () => {
  const dir = attemptDir('logs2');
  let text = '';
  for (let i = 0; text.length < 100000; i++) text += `line ${i} ${'x'.repeat(i % 50)}\n`;
  writeFileSync(join(dir, 'user.pai.all'), text);
  const p = `${base('logs2')}/all`;
  let r = await s.req('GET', p, { token: alice });
  assert.equal(r.text, text);
  assert.equal(r.headers.get('x-log-size'), String(text.length));
  r = await s.req('GET', `${p}?tail-mode=true`, { token: alice });
  assert.equal(r.text, text.slice(-16384));
  r = await s.req('GET', `${p}?tailMode=true`, { token: alice });
  assert.equal(r.text.length, 16384);
  r = await s.req('GET', `${p}?offset=99000`, { token: alice });
  assert.equal(r.text, text.slice(99000));
  r = await s.req('GET', `${p}?offset=${text.length + 5}`, { token: alice });
  assert.equal(r.status, 200);
  assert.equal(r.text, '');
  for (const bad of ['-1', 'abc', '1e3', '']) {
    r = await s.req('GET', `${p}?offset=${bad}`, { token: alice });
    assert.equal(r.status, 400, `offset=${bad}`);
  }
  writeFileSync(join(dir, 'user.pai.stdout'), 'short');
  r = await s.req('GET', `${base('logs2')}/stdout?tail-mode=true`, { token: alice });
  assert.equal(r.text, 'short');
  // a log the task has not written yet is empty; a rotation that never happened is not found
  r = await s.req('GET', `${base('logs2')}/stderr`, { token: alice });
  assert.equal(r.status, 200);
  assert.equal(r.text, '');
  r = await s.req('GET', `${base('logs2')}/stderr.1`, { token: alice });
  assert.equal(r.status, 404);
  assert.equal(r.body.code, 'NoTaskLogError');
  r = await s.req('GET', `${base('logs2')}/secret`, { token: alice });
  assert.equal(r.status, 404);
  assert.equal(r.body.code, 'NoTaskLogError');
  r = await s.req('GET', `${base('nope')}/all`, { token: alice });
  assert.equal(r.body.code, 'NoJobError');
});

test('no parameter leaves the attempt directory (.., %2F, odd roles and names)', async () => {
  const dir = attemptDir('logs2');
  writeFileSync(join(dir, 'user.pai.stdout'), 'mine');
  const secret = readFileSync(join(s.dir, 'log-secret'));
  const auth = { authorization: `Bearer ${alice}` };
  const paths = [
    `${base('logs2')}/..`,
    `${base('logs2')}/../../../../../log-secret`,
    `${base('logs2')}/..%2F..%2F..%2F..%2F..%2Flog-secret`,
    `${base('logs2')}/%2E%2E%2Flog-secret`,
    `${base('logs2')}/stdout%2F..%2F..%2Fstdout`,
    `${base('logs2', { role: '..' })}/stdout`,
    `${base('logs2', { role: '..%2F..' })}/stdout`,
    `${base('logs2', { role: 'worker%2F..' })}/stdout`,
    `${base('logs2', { role: 'wor.ker' })}/stdout`,
    `${base('logs2', { index: '..' })}/stdout`,
    `${base('logs2', { taskAttempt: '-1' })}/stdout`,
    `${base('logs2', { attempt: '0x1' })}/stdout`,
    `${base('logs2', { role: '..' })}`,
    `${base('logs2', { role: '..%2F..%2F..' })}`,
  ];
  for (const p of paths) {
    const r = await rawGet(p, auth);
    assert.ok([400, 404].includes(r.status), `${p}: ${r.status} ${r.body}`);
    assert.ok(!r.body.includes(secret.toString('latin1')) && !r.body.includes('mine'), p);
    const code = JSON.parse(r.body).code;
    assert.ok(['InvalidParametersError', 'NoTaskLogError', 'NoApiError'].includes(code), `${p}: ${code}`);
  }
});

test('follow: appends arrive at once; exit.json ends the stream after the last byte', async () => {
  const dir = attemptDir('logs3');
  writeFileSync(join(dir, 'user.pai.stdout'), 'first\n');
  const st = await openStream(`${base('logs3')}/stdout?follow=true`, { authorization: `Bearer ${alice}` });
  assert.equal(st.res.status, 200);
  assert.match(st.res.headers.get('content-type'), /^text\/plain/);
  await st.until((t) => t === 'first\n');
  const lat = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    appendFileSync(join(dir, 'user.pai.stdout'), `line ${i}\n`);
    await st.until((t) => t.endsWith(`line ${i}\n`), 2000);
    lat.push(performance.now() - t0);
  }
  lat.sort((a, b) => a - b);
  assert.ok(lat[lat.length - 1] < 500, `append → receipt took up to ${lat[lat.length - 1]} ms`);
  // the last bytes and the end come together: nothing written before exit.json is lost
  appendFileSync(join(dir, 'user.pai.stdout'), 'last words');
  finish(dir);
  await st.until(() => st.ended, 3000);
  await st.done;
  assert.equal(st.error, null);
  assert.equal(st.text, readFileSync(join(dir, 'user.pai.stdout'), 'utf8'));
  // once over, a follow sends the whole file and ends at once
  const again = await openStream(`${base('logs3')}/stdout?follow=true&offset=6`, { authorization: `Bearer ${alice}` });
  await again.done;
  assert.ok(again.ended);
  assert.equal(again.text, readFileSync(join(dir, 'user.pai.stdout'), 'utf8').slice(6));
  console.log(`# follow latency append→receipt: median ${lat[10].toFixed(2)} ms, max ${lat[19].toFixed(2)} ms`);
});

test('follow from a signed uri, with tail-mode: the last 16 KiB, then what comes', async () => {
  const dir = attemptDir('logs4');
  const big = 'y'.repeat(40000) + '\n';
  writeFileSync(join(dir, 'user.pai.stderr'), big);
  const list = (await s.req('GET', `${base('logs4')}?tail-mode=true`, { token: alice })).body.locations;
  const uri = list.find((l) => l.name === 'stderr').uri;
  const st = await openStream(`${uri}&follow=true`);   // no Authorization
  await st.until((t) => t.length === 16384);
  appendFileSync(join(dir, 'user.pai.stderr'), 'more\n');
  await st.until((t) => t.endsWith('more\n'));
  assert.equal(st.text, big.slice(-16384) + 'more\n');
  finish(dir);
  await st.done;
  assert.ok(st.ended);
});

test('SSE: data lines per chunk, blank line between events, an end event with the exit', async () => {
  const dir = attemptDir('logs5');
  writeFileSync(join(dir, 'user.pai.all'), 'a\nb\n');
  const st = await openStream(`${base('logs5')}/all`, { authorization: `Bearer ${alice}`, accept: 'text/event-stream' });
  assert.equal(st.res.status, 200);
  assert.match(st.res.headers.get('content-type'), /^text\/event-stream/);
  await st.until((t) => t.includes('data: b\n\n'));
  appendFileSync(join(dir, 'user.pai.all'), 'c\r\nprogress 1%\rprogress 2%\rdone\n');
  await st.until((t) => t.includes('data: done\n\n'));
  appendFileSync(join(dir, 'user.pai.all'), 'no newline yet');
  await sleep(150);
  assert.ok(!st.text.includes('no newline'), 'a partial line waits for its end');
  appendFileSync(join(dir, 'user.pai.all'), ', now\n');
  await st.until((t) => t.includes('data: no newline yet, now\n\n'));
  appendFileSync(join(dir, 'user.pai.all'), 'tail without newline');
  finish(dir, { exitCode: 3, message: 'exited with 3' });
  await st.done;
  assert.ok(st.ended);
  // parse as EventSource does
  const events = st.text.split('\n\n').filter((e) => e.trim() && !e.startsWith(':'));
  const data = events.map((e) => e.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)));
  assert.deepEqual(data.flat().slice(0, -1), ['a', 'b', 'c', 'progress 1%', 'progress 2%', 'done', 'no newline yet, now', 'tail without newline']);
  const last = events[events.length - 1].split('\n');
  assert.equal(last[0], 'event: end');
  assert.deepEqual(JSON.parse(last[1].slice(6)), { exitCode: 3, message: 'exited with 3' });
  assert.ok(st.text.endsWith('\n\n'));
});

test('rotation during follow: the old file to its end, then the new one (also twice over)', async () => {
  const dir = attemptDir('logs6');
  const f = join(dir, 'user.pai.stdout');
  const auth = { authorization: `Bearer ${alice}` };
  const sseAuth = { ...auth, accept: 'text/event-stream' };
  writeFileSync(f, 'gen1 a\n');
  let st = await openStream(`${base('logs6')}/stdout?follow=true`, auth);
  let sse = await openStream(`${base('logs6')}/stdout`, sseAuth);
  await st.until((t) => t === 'gen1 a\n');
  await sse.until((t) => t.includes('data: gen1 a\n\n'));
  // the writer's order: a last write to the old file, rename to .1, create anew, write
  appendFileSync(f, 'gen1 b\n');
  renameSync(f, `${f}.1`);
  writeFileSync(f, 'gen2 a\n');
  await st.until((t) => t.endsWith('gen2 a\n'));
  await sse.until((t) => t.includes('data: gen2 a\n'));
  assert.equal(st.text, 'gen1 a\ngen1 b\ngen2 a\n');
  assert.match(sse.text, /data: gen1 a\n\ndata: gen1 b\n\n(data: gen2 a\n\n)$/);

  // two rotations while the followers wait: gen2 → .1 → unlinked by gen3 → .1; gen4 new
  renameSync(f, `${f}.1`);
  writeFileSync(f, 'gen3 a\n');
  renameSync(f, `${f}.1`);
  writeFileSync(f, 'gen4 a\n');
  appendFileSync(f, 'gen4 b\n');
  finish(dir);
  await st.done;
  await sse.done;
  assert.ok(st.ended && sse.ended);
  assert.equal(st.text, 'gen1 a\ngen1 b\ngen2 a\ngen3 a\ngen4 a\ngen4 b\n');
  const lines = sse.text.split('\n').filter((l) => l.startsWith('data: gen')).map((l) => l.slice(6));
  assert.deepEqual(lines, ['gen1 a', 'gen1 b', 'gen2 a', 'gen3 a', 'gen4 a', 'gen4 b']);
  assert.match(sse.text, /event: end\ndata: \{"exitCode":0\}\n\n$/);
});

// the server's descriptors: those on log directories and files, and the store's
function fds(pid, logs) {
  let logFds = 0, db = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target = '';
    try { target = readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { continue; }
    if (target.startsWith(logs)) logFds++;
    if (target.endsWith('gantry.db')) db++;
  }
  return { logFds, db };
}
const threadCount = (pid) => readdirSync(`/proc/${pid}/task`).length;

test('50 followers: one append reaches all; no thread or store connection each; leaving frees all', async () => {
  const dir = attemptDir('logs1', { index: 1 });
  writeFileSync(join(dir, 'user.pai.all'), '');
  const pid = s.proc.pid;
  const threads0 = threadCount(pid), db0 = fds(pid, join(s.dir, 'logs')).db;
  const streams = [];
  for (let i = 0; i < 50; i++) {
    const headers = { authorization: `Bearer ${alice}` };
    if (i % 2) headers.accept = 'text/event-stream';
    streams.push(await openStream(`${base('logs1', { index: 1 })}/all?follow=true`, headers));
  }
  assert.equal(threadCount(pid), threads0, 'no thread per follower');
  const open = fds(pid, join(s.dir, 'logs'));
  assert.ok(open.logFds >= 50, `${open.logFds} log descriptors`);
  assert.ok(open.db <= db0 + 2, `store connections: ${db0} → ${open.db}`);
  const t0 = performance.now();
  appendFileSync(join(dir, 'user.pai.all'), 'to everyone\n');
  await Promise.all(streams.map((st) => st.until((t) => t.includes('to everyone'))));
  const ms = performance.now() - t0;
  assert.ok(ms < 1000, `${ms} ms for 50`);
  for (const st of streams) st.ctl.abort();
  await Promise.all(streams.map((st) => st.done));
  // the server notices each client leaving while its stream waits, and lets go of its files
  let left = 0;
  for (let i = 0; i < 100 && (left = fds(pid, join(s.dir, 'logs')).logFds) > 0; i++) await sleep(20);
  assert.equal(left, 0, `${left} log descriptors still open`);
  console.log(`# 50 followers: all had the append in ${ms.toFixed(1)} ms`);
});

test('a server with followers stops at once and cleanly', async () => {
  const t = await new Server().start();
  try {
    const tok = await t.login();
    assert.equal((await t.submit(tok, cpuJob('streamed'))).status, 201);
    const d = join(t.dir, 'logs', 'admin~streamed', String(A), 'worker-0', String(TA));
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'user.pai.stdout'), 'x\n');
    const p = `/api/v2/jobs/admin~streamed/attempts/${A}/taskRoles/worker/taskIndex/0/attempts/${TA}/logs/stdout`;
    const streams = [];
    for (let i = 0; i < 10; i++) {
      const res = await fetch(t.url + p + '?follow=true', { headers: { authorization: `Bearer ${tok}`, accept: i % 2 ? 'text/event-stream' : '*/*' } });
      const chunks = [];
      streams.push((async () => { try { for await (const c of res.body) chunks.push(c); return 'ended'; } catch { return 'cut'; } })());
    }
    const t0 = performance.now();
    const { code, sig } = await t.stop();
    const ms = performance.now() - t0;
    assert.equal(code, 0, t.log);
    assert.equal(sig, null);
    assert.ok(ms < 3000, `stop took ${ms} ms`);
    assert.match(t.log, /stopped cleanly/);
    // cut, not ended: a client must not take a stopping server for the end of the log
    assert.deepEqual(new Set(await Promise.all(streams)), new Set(['cut']));
  } finally {
    await t.stop();
    t.cleanup();
  }
});

test('a real job: its log followed from its start to its end (when this server runs jobs)', async (t) => {
  const info = (await s.req('GET', '/api/v2/info')).body;
  if (!info.gantry?.capabilities?.executor) { t.skip('this server has no executor'); return; }
  const yaml = cpuJob('real').replace(/commands:\n.*\n/, 'commands:\n      - for i in 1 2 3 4 5; do echo "tick $i"; sleep 0.3; done\n      - echo done >&2\n');
  assert.equal((await s.submit(alice, yaml)).status, 201);
  // the detail's containerLog is the list route; it answers once the task is launched
  let list;
  for (let i = 0; i < 200; i++) {
    const d = (await s.req('GET', '/api/v2/jobs/alice~real', { token: alice })).body;
    const log = d.taskRoles?.worker?.taskStatuses?.[0]?.containerLog;
    if (log) {
      const r = await s.req('GET', log, { token: alice });
      if (r.status === 200) { list = r.body.locations; break; }
    }
    await sleep(25);
  }
  assert.ok(list, 'the task\'s logs never appeared');
  const uri = (name) => list.find((l) => l.name === name).uri;
  const raw = await openStream(`${uri('all')}&follow=true`);
  const sse = await openStream(uri('stdout'), { accept: 'text/event-stream' });
  await raw.until((x) => x.includes('tick 1'), 5000);
  assert.ok(!raw.text.includes('tick 5'), 'lines arrive while the task runs');
  await raw.done;
  await sse.done;
  assert.ok(raw.ended && sse.ended, 'both streams end with the task');
  assert.equal(raw.text, 'tick 1\ntick 2\ntick 3\ntick 4\ntick 5\ndone\n');
  const ticks = sse.text.split('\n').filter((l) => l.startsWith('data: tick')).map((l) => l.slice(6));
  assert.deepEqual(ticks, ['tick 1', 'tick 2', 'tick 3', 'tick 4', 'tick 5']);
  const end = sse.text.slice(sse.text.lastIndexOf('event: end'));
  assert.equal(JSON.parse(end.split('\n')[1].slice(6)).exitCode, 0);
  const runtime = await s.req('GET', uri('runtime'));
  assert.equal(runtime.status, 200);
  assert.ok(runtime.text.length > 0, 'the shim\'s own log');
});

test('the log secret is made once, mode 0600, and kept across restarts', async () => {
  const path = join(s.dir, 'log-secret');
  const st = statSync(path);
  assert.equal(st.mode & 0o777, 0o600);
  assert.equal(st.size, 32);
  const uri = (await s.req('GET', base('logs1'), { token: alice })).body.locations[0].uri;
  await s.stop();
  await s.start();
  assert.equal((await s.req('GET', uri)).status, 200, 'links stay valid across a restart');
});
