// SPDX-License-Identifier: MIT
// Every real OpenPAI job file in ../shared/testdata/openpai-jobs can be
// submitted and runs to a final state here. Without their images (no
// container engine) their commands mostly fail: the job must then fail
// cleanly, with an exit code, its meaning, and an honest event — never hang.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Server } from '../lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const DIR = [join(here, '../../../../shared/testdata/openpai-jobs'), join(here, '../../data/spec/valid')]
  .find((d) => existsSync(join(d, 'tensorflow-cifar10.yaml')));

// room for every file at once: 6 nodes x 8 GPUs, one virtual cluster
const CLUSTER = `skuTypes:
  GPU: {gpu: 1, cpu: 4, memory: 16384}
physicalCluster:
  cellTypes:
    NODE: {childCellType: GPU, childCellNumber: 8, isNodeLevel: true}
    RACK: {childCellType: NODE, childCellNumber: 6}
  physicalCells:
    - cellType: RACK
      cellChildren: [{cellAddress: n1}, {cellAddress: n2}, {cellAddress: n3}, {cellAddress: n4}, {cellAddress: n5}, {cellAddress: n6}]
virtualClusters:
  default:
    virtualCells: [{cellType: RACK, cellNumber: 1}]
`;

let s;
after(async () => { if (s) { await s.stop(); s.cleanup(); } });

test('every OpenPAI job file runs to a final state, failing honestly without its image', { timeout: 240000 }, async () => {
  assert.ok(DIR, 'the OpenPAI job files are found');
  // the shared corpus, or its copy among the validator's corpus (the files without a source prefix)
  const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml') && !/^(odd|pai|openpai)-/.test(f)).sort();
  assert.ok(files.length >= 15, `${files.length} files`);
  s = await new Server({ config: CLUSTER, env: { GANTRY_STOP_GRACE: '2' } }).start();
  const token = await s.login();
  const names = [];
  for (const f of files) {
    const text = readFileSync(join(DIR, f), 'utf8');
    const r = await s.submit(token, text);
    assert.equal(r.status, 201, `${f}: ${r.text}`);
    names.push(/^name:\s*(\S+)/m.exec(text)[1]);
  }
  const final = ['SUCCEEDED', 'FAILED', 'STOPPED'];
  const list = await s.until('/api/v2/jobs?limit=100', token,
    (l) => l.length === files.length && l.every((j) => final.includes(j.state)),
    { timeout: 200000, what: 'every job final' });
  for (const name of names) {
    const d = (await s.req('GET', `/api/v2/jobs/admin~${name}`, { token })).body;
    const st = d.jobStatus;
    assert.ok(final.includes(st.state), name);
    assert.equal(typeof st.appExitCode, 'number', `${name}: an exit code`);
    assert.ok(st.appExitSpec && st.appExitSpec.phrase, `${name}: its meaning`);
    const ev = (await s.req('GET', `/api/v2/jobs/admin~${name}/events`, { token })).body.data;
    assert.ok(ev.some((e) => e.reason === 'RunsOnHost'), `${name}: says it ran on the host, not in its image`);
    if (st.state === 'FAILED') {
      assert.ok(ev.some((e) => e.reason === 'TaskFailed' && /exit code/.test(e.message)), `${name}: ${JSON.stringify(ev)}`);
      assert.ok(ev.some((e) => e.reason === 'Failed'), name);
    }
  }
  assert.equal(list.length, files.length);
});
