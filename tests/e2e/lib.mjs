// SPDX-License-Identifier: MIT
// Shared helpers for the black-box tests: start a real `gantry server` on a
// free loopback port with a fresh data directory, and talk to it.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';

export const GANTRY = resolve(process.env.GANTRY || 'build/gantry');
export const ADMIN_PASSWORD = 'admin-pass-123';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Server {
  // relative: run the server from the data directory's parent with a
  // relative --data, as `make run` does with ./var
  constructor({ config, env, args, relative = false } = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'gantry-e2e-'));
    this.relative = relative;
    this.config = config;
    this.env = env || {};
    this.args = args || [];
    this.log = '';
  }

  async start() {
    const listenFile = join(this.dir, 'listen');
    rmSync(listenFile, { force: true });
    const args = ['server', '--data', this.relative ? basename(this.dir) : this.dir, '--listen', '127.0.0.1:0',
      '--quiet'];
    if (this.config) {
      const path = join(this.dir, 'cluster.yaml');
      writeFileSync(path, this.config);
      args.push('--config', path);
    }
    args.push(...this.args);
    this.proc = spawn(GANTRY, args, {
      cwd: this.relative ? dirname(this.dir) : undefined,
      env: { ...process.env, GANTRY_ADMIN_PASSWORD: ADMIN_PASSWORD, ...this.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.proc.stderr.on('data', (d) => { this.log += d.toString(); });
    this.exited = new Promise((r) => this.proc.on('exit', (code, sig) => r({ code, sig })));
    for (let i = 0; i < 200; i++) {
      if (existsSync(listenFile)) {
        const addr = readFileSync(listenFile, 'utf8').trim();
        if (addr) {
          this.url = `http://${addr}`;
          return this;
        }
      }
      if (this.proc.exitCode !== null) break;
      await sleep(25);
    }
    throw new Error(`server did not start:\n${this.log}`);
  }

  async stop(signal = 'SIGTERM') {
    if (!this.proc || this.proc.exitCode !== null) return { code: this.proc?.exitCode };
    this.proc.kill(signal);
    return this.exited;
  }

  async kill9() {
    return this.stop('SIGKILL');
  }

  // Tasks outlive the server by design (each has its own supervisor): end
  // every task tree this server's data directory knows of, then remove it.
  killTasks() {
    const walk = (d) => {
      let entries = [];
      try { entries = readdirSync(d, { withFileTypes: true }); } catch { return; }
      for (const e of entries) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name === 'shim.json') {
          try {
            const s = JSON.parse(readFileSync(p, 'utf8'));
            for (const pid of [s.pid, -s.pgid, s.taskPid]) {
              if (pid) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
            }
          } catch { /* unreadable: nothing to do */ }
        }
      }
    };
    walk(join(this.dir, 'logs'));
  }

  cleanup() {
    this.killTasks();
    rmSync(this.dir, { recursive: true, force: true });
  }

  // poll GET path until pred(body) holds; returns the last body
  async until(path, token, pred, { timeout = 15000, what = path } = {}) {
    const end = Date.now() + timeout;
    let last;
    for (;;) {
      last = (await this.req('GET', path, { token })).body;
      if (pred(last)) return last;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(last).slice(0, 2000)}`);
      await sleep(20);
    }
  }

  // wait for a job to reach one of the states; returns its detail
  async waitState(token, job, states, opts = {}) {
    const want = Array.isArray(states) ? states : [states];
    return this.until(`/api/v2/jobs/${job}`, token, (b) => want.includes(b?.jobStatus?.state),
      { what: `${job} to be ${want.join('|')}`, ...opts });
  }

  // fetch relative to the server; returns {status, body (parsed JSON or text), headers}
  async req(method, path, { token, body, headers = {}, raw } = {}) {
    const h = { ...headers };
    if (token) h.authorization = token.startsWith('Basic ') ? token : `Bearer ${token}`;
    let payload;
    if (body !== undefined) {
      if (raw) payload = body;
      else {
        payload = JSON.stringify(body);
        h['content-type'] = h['content-type'] || 'application/json';
      }
    }
    const res = await fetch(this.url + path, { method, headers: h, body: payload });
    const text = await res.text();
    let parsed = text;
    if ((res.headers.get('content-type') || '').includes('json')) {
      try { parsed = JSON.parse(text); } catch { /* leave text */ }
    }
    return { status: res.status, body: parsed, headers: res.headers, text };
  }

  async login(username = 'admin', password = ADMIN_PASSWORD) {
    const r = await this.req('POST', '/api/v2/authn/basic/login', { body: { username, password } });
    if (r.status !== 200) throw new Error(`login ${username}: ${r.status} ${r.text}`);
    return r.body.token;
  }

  // create a user (as admin) and return a browser token for them
  async user(adminToken, username, { admin = false, vcs = [] } = {}) {
    const r = await this.req('POST', '/api/v2/users', {
      token: adminToken,
      body: { username, password: `${username}-password`, admin, virtualCluster: vcs },
    });
    if (r.status !== 201) throw new Error(`create ${username}: ${r.status} ${r.text}`);
    return this.login(username, `${username}-password`);
  }

  async submit(token, yaml) {
    return this.req('POST', '/api/v2/jobs', { token, body: yaml, raw: true, headers: { 'content-type': 'text/yaml' } });
  }
}

// A small CPU-only job (runs on the embedded default cluster of any machine).
export function cpuJob(name, { vc, instances = 1, cpu = 1, memoryMB = 256, extra = '' } = {}) {
  return `protocolVersion: 2
name: ${name}
type: job
prerequisites:
  - {name: img, type: dockerimage, uri: 'ubuntu:22.04'}
secrets:
  apikey: hunter2-secret
taskRoles:
  worker:
    instances: ${instances}
    dockerImage: img
    resourcePerInstance: {cpu: ${cpu}, memoryMB: ${memoryMB}, gpu: 0}
    commands:
      - echo hello from <% $parameters.who %>
parameters:
  who: gantry
${vc ? `defaults:\n  virtualCluster: ${vc}\n` : ''}${extra}`;
}

// A two-node cluster with 8 simulated GPUs per node and two virtual clusters.
export const CLUSTER = `skuTypes:
  V100: {gpu: 1, cpu: 4, memory: 32768}
physicalCluster:
  cellTypes:
    V100-NODE: {childCellType: V100, childCellNumber: 8, isNodeLevel: true}
    V100-RACK: {childCellType: V100-NODE, childCellNumber: 2}
  physicalCells:
    - cellType: V100-RACK
      cellChildren:
        - cellAddress: node1
        - cellAddress: node2
virtualClusters:
  default:
    virtualCells:
      - {cellType: V100-RACK.V100-NODE, cellNumber: 1}
  research:
    virtualCells:
      - {cellType: V100-RACK.V100-NODE, cellNumber: 1}
nodes:
  - {name: node1, address: 127.0.0.1, simulatedGpus: true}
  - {name: node2, address: 127.0.0.1, simulatedGpus: true}
`;

// A GPU job whose tasks run `cmd` (by default they train for a while: they
// hold their cells until stopped).
export function gpuJob(name, { vc, gpu = 1, instances = 1, prio, extra = '', cmd = 'sleep 300' } = {}) {
  return `protocolVersion: 2
name: ${name}
type: job
prerequisites:
  - {name: img, type: dockerimage, uri: 'pytorch/pytorch'}
taskRoles:
  trainer:
    instances: ${instances}
    dockerImage: img
    resourcePerInstance: {cpu: ${gpu * 4}, memoryMB: ${gpu * 1024}, gpu: ${gpu}}
    commands: ['${cmd}']
${vc ? `defaults:\n  virtualCluster: ${vc}\n` : ''}${prio ? `extras:\n  hivedScheduler:\n    jobPriorityClass: ${prio}\n` : ''}${extra}`;
}
