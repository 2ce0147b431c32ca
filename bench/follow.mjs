// SPDX-License-Identifier: MIT
// Log streams at scale: N clients following task logs at once (half plain,
// half Server-Sent Events), on one task's file and on N tasks' files. Prints
// the server's threads, memory and descriptors before and during, the delay
// from a write to its arrival at every follower (p50, p99, max), and how long
// a stop takes with everyone connected.
//
//   GANTRY=build/gantry node bench/follow.mjs [N=200] [WRITES=50]
//
// The clients run in this one node process on the same machine, so the
// delays include node reading N sockets.
import { appendFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Server, cpuJob } from '../tests/e2e/lib.mjs';

const N = Number(process.argv[2] || 200);
const WRITES = Number(process.argv[3] || 50);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function usage(pid) {
  const st = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(st.match(new RegExp(`${k}:\\s+(\\d+)`))[1]);
  return { threads: kb('Threads'), rssKB: kb('VmRSS'), fds: readdirSync(`/proc/${pid}/fd`).length };
}
const pct = (a, p) => a[Math.min(a.length - 1, Math.floor((a.length * p) / 100))];

async function follow(s, token, path, sse) {
  const headers = { authorization: `Bearer ${token}` };
  if (sse) headers.accept = 'text/event-stream';
  const res = await fetch(s.url + path + (sse ? '' : '?follow=true'), { headers });
  const f = { text: '', waiters: [] };
  const dec = new TextDecoder();
  f.done = (async () => {
    try {
      for await (const c of res.body) {
        f.text += dec.decode(c, { stream: true });
        f.waiters = f.waiters.filter((w) => (f.text.includes(w.needle) ? (w.resolve(performance.now()), false) : true));
      }
    } catch { /* cut */ }
  })();
  f.arrival = (needle) => new Promise((resolve) => {
    if (f.text.includes(needle)) resolve(performance.now());
    else f.waiters.push({ needle, resolve });
  });
  return f;
}

async function run(s, token, label, dirs) {
  const before = usage(s.proc.pid);
  const fl = [];
  for (let i = 0; i < N; i++) fl.push(await follow(s, token, dirs[i % dirs.length].path, i % 2 === 1));
  await sleep(200);
  const during = usage(s.proc.pid);
  const each = [], last = [];
  for (let w = 0; w < WRITES; w++) {
    const needle = `write ${w} ${label}\n`;
    const arrivals = fl.map((f) => f.arrival(needle.trimEnd()));
    const t0 = performance.now();
    for (const d of dirs) appendFileSync(join(d.dir, 'user.pai.all'), needle);
    const at = await Promise.all(arrivals);
    for (const t of at) each.push(t - t0);
    last.push(Math.max(...at) - t0);
    await sleep(20);
  }
  each.sort((a, b) => a - b);
  last.sort((a, b) => a - b);
  console.log(`${label}: ${N} followers (${N / 2} plain, ${N / 2} SSE) on ${dirs.length} file${dirs.length > 1 ? 's' : ''}`);
  console.log(`  server threads ${before.threads} → ${during.threads}, RSS ${(before.rssKB / 1024).toFixed(1)} → ${(during.rssKB / 1024).toFixed(1)} MiB ` +
    `(${((during.rssKB - before.rssKB) / N).toFixed(1)} KiB per follower), descriptors ${before.fds} → ${during.fds}`);
  console.log(`  write → arrival, each follower: p50 ${pct(each, 50).toFixed(2)} ms, p99 ${pct(each, 99).toFixed(2)} ms, max ${each[each.length - 1].toFixed(2)} ms`);
  console.log(`  write → arrival at the last of ${N}: p50 ${pct(last, 50).toFixed(2)} ms, max ${last[last.length - 1].toFixed(2)} ms (${WRITES} writes)`);
  return fl;
}

const s = await new Server().start();
const token = await s.login();
// one job; the N files are N tasks' (index i, attempts 9/9: no executor goes there)
const r = await s.submit(token, cpuJob('followed'));
if (r.status !== 201) throw new Error(r.text);
const dirs = [];
for (let i = 0; i <= N; i++) {
  const dir = join(s.dir, 'logs', 'admin~followed', '9', `worker-${i}`, '9');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'user.pai.all'), 'start\n');
  dirs.push({ dir, path: `/api/v2/jobs/admin~followed/attempts/9/taskRoles/worker/taskIndex/${i}/attempts/9/logs/all` });
}
await sleep(1000);   // the job itself (it runs, where there is an executor) is over by now
const one = await run(s, token, 'one file', dirs.slice(N));
for (const d of dirs.slice(N)) writeFileSync(join(d.dir, 'exit.json'), '{"exitCode":0}');
await Promise.all(one.map((f) => f.done));
await sleep(200);
console.log(`  after the attempt ended: descriptors ${usage(s.proc.pid).fds}`);
await run(s, token, 'many files', dirs.slice(0, N));
const t0 = performance.now();
const { code } = await s.stop();
console.log(`stop with ${N} followers connected: ${(performance.now() - t0).toFixed(0)} ms, exit ${code}`);
s.cleanup();
