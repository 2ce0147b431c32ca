// SPDX-License-Identifier: MIT
// The portal with jobs that really run: one reaches SUCCEEDED and its log
// reads; a running job's log is followed and new lines arrive; a running job
// is stopped from its page; the job list follows state changes without
// flicker. Skipped (and counted as skipped) where the server has no executor.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { CLUSTER } from '../lib.mjs';
import { launch, portalServer, ptest, shot } from './browser.mjs';

// whether this server runs jobs is known only once it answers
const server = await portalServer({ config: CLUSTER }).start();
const token = await server.login();
const executor = (await server.req('GET', '/api/v2/info')).body.gantry?.capabilities?.executor;
const skip = executor ? false : 'this server does not run jobs (no executor)';
let browser;
const env = () => ({ server, browser, token });

before(async () => {
  if (!skip) browser = await launch();
});
after(async () => {
  await browser?.close();
  await server.stop();
  server.cleanup();
});

// a one-GPU job running the shell lines given
function job(name, lines) {
  return `protocolVersion: 2
name: ${name}
type: job
prerequisites:
  - {name: img, type: dockerimage, uri: 'ubuntu:22.04'}
taskRoles:
  trainer:
    instances: 1
    dockerImage: img
    resourcePerInstance: {cpu: 4, memoryMB: 1024, gpu: 1}
    commands:
${lines.map((l) => `      - ${JSON.stringify(l)}`).join('\n')}
`;
}

async function submit(yaml) {
  const r = await server.submit(token, yaml);
  assert.equal(r.status, 201, r.text);
}

const rtest = (name, fn) => ptest(name, env, fn, { skip });

rtest('a job reaches SUCCEEDED on its page, and its log reads', async ({ page }) => {
  await submit(job('ok-job', ['echo hello-from-the-portal-test', 'echo a-line-on-stderr >&2']));
  await page.goto(`${server.url}/jobs/admin~ok-job`);
  await page.locator('h1 .state-succeeded').waitFor({ timeout: 60000 });
  await page.getByRole('heading', { name: /Exit code 0/ }).waitFor();
  await page.locator('tr[data-task="trainer-0"] .state-succeeded').waitFor();
  assert.equal((await page.locator('tr[data-task="trainer-0"] td').nth(5).innerText()).trim(), '0', 'task exit code');
  await shot(page, 'run-job-succeeded');
  await page.getByRole('button', { name: 'Logs of trainer 0' }).click();
  const dialog = page.getByRole('dialog');
  const log = dialog.locator('pre.log');
  await dialog.getByRole('radio', { name: 'stdout' }).click();
  await log.filter({ hasText: 'hello-from-the-portal-test' }).waitFor();
  assert.doesNotMatch(await log.innerText(), /a-line-on-stderr/);
  await dialog.getByRole('radio', { name: 'stderr' }).click();
  await log.filter({ hasText: 'a-line-on-stderr' }).waitFor();
  await dialog.getByRole('radio', { name: 'Full log' }).click();
  await log.filter({ hasText: 'a-line-on-stderr' }).waitFor();
  await shot(page, 'run-job-log');
});

rtest('the log view drops ANSI colour codes, and Download saves the whole log', async ({ page }) => {
  // 40 KiB of output: more than the last 16 KiB the view opens on
  await submit(job('ansi-job', ["printf '\\033[31mred-text\\033[0m plain\\n'", 'echo first-line-of-the-log', 'for i in $(seq 1 1000); do echo filler-line-$i-xxxxxxxxxxxxxxxxxxxxxxx; done', "printf '\\033[1;32mlast-line\\033[0m\\n'"]));
  await page.goto(`${server.url}/jobs/admin~ansi-job`);
  await page.locator('h1 .state-succeeded').waitFor({ timeout: 60000 });
  await page.getByRole('button', { name: 'Logs of trainer 0' }).click();
  const dialog = page.getByRole('dialog');
  const log = dialog.locator('pre.log');
  await dialog.getByRole('radio', { name: 'stdout' }).click();
  await log.filter({ hasText: 'last-line' }).waitFor();
  assert.doesNotMatch(await log.innerText(), /\x1b|\[1;32m/);
  assert.doesNotMatch(await log.innerText(), /first-line-of-the-log/, 'the view shows the last 16 KiB');
  const [dl] = await Promise.all([page.waitForEvent('download'), dialog.getByRole('button', { name: /Download/ }).click()]);
  const { readFileSync } = await import('node:fs');
  const saved = readFileSync(await dl.path(), 'utf8');
  assert.match(saved, /first-line-of-the-log/);
  assert.match(saved, /filler-line-1000-/);
});

rtest('follow the log of a running job: new lines arrive', async ({ page }) => {
  await submit(job('ticker', ['for i in $(seq 1 200); do echo tick-$i; sleep 0.25; done']));
  await server.waitState(token, 'admin~ticker', 'RUNNING', { timeout: 30000 });
  await page.goto(`${server.url}/jobs/admin~ticker`);
  await page.locator('tr[data-task="trainer-0"] .state-running').waitFor();
  await page.getByRole('button', { name: 'Logs of trainer 0' }).click();
  const dialog = page.getByRole('dialog');
  // a running task opens in follow mode
  assert.equal(await dialog.getByRole('radio', { name: 'Follow' }).getAttribute('aria-checked'), 'true');
  const log = dialog.locator('pre.log');
  await log.filter({ hasText: /tick-\d+/ }).waitFor();
  const last = async () => Math.max(...[...(await log.innerText()).matchAll(/tick-(\d+)/g)].map((m) => Number(m[1])));
  const first = await last();
  await dialog.getByText('following').waitFor();
  // more lines come in over the same stream, no reload
  await page.waitForFunction(
    (n) => Math.max(...[...document.querySelector('dialog pre.log').textContent.matchAll(/tick-(\d+)/g)].map((m) => Number(m[1]))) >= n,
    first + 4,
    { timeout: 20000 },
  );
  assert.ok((await last()) >= first + 4);
  await shot(page, 'run-log-follow');
});

rtest('stop a running job from its page', async ({ page }) => {
  await submit(job('long-run', ['sleep 300']));
  await server.waitState(token, 'admin~long-run', 'RUNNING', { timeout: 30000 });
  await page.goto(`${server.url}/jobs/admin~long-run`);
  await page.locator('h1 .state-running').waitFor();
  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Stop' }).click();
  await page.getByText('Stop requested for admin~long-run.').waitFor();
  await page.locator('h1 .state-stopped').waitFor({ timeout: 30000 });
  const j = (await server.req('GET', '/api/v2/jobs/admin~long-run', { token })).body;
  assert.equal(j.jobStatus.state, 'STOPPED');
  await shot(page, 'run-job-stopped');
});

rtest('the job list follows a job to SUCCEEDED without flicker', async ({ page }) => {
  await submit(job('flicker-a', ['sleep 2', 'echo done']));
  await page.goto(`${server.url}/jobs?keyword=flicker-`);
  const row = page.locator('tr[data-job="admin~flicker-a"]');
  await row.waitFor();
  // from here on, the table must never leave the screen or blank out
  await page.evaluate(() => {
    window.flicker = [];
    const table = document.querySelector('table.jobs');
    new MutationObserver(() => {
      if (!document.contains(table)) window.flicker.push('the table was replaced');
      if (document.querySelector('.loading')) window.flicker.push('a loading state showed');
      if (!document.querySelector('tr[data-job]')) window.flicker.push('the rows went away');
    }).observe(document.querySelector('main'), { subtree: true, childList: true });
  });
  await row.locator('.state-succeeded').waitFor({ timeout: 60000 });
  assert.deepEqual(await page.evaluate(() => window.flicker), []);
});

rtest('attempts: newest first, and ?attempt= only names attempts the job has', async ({ page }) => {
  await submit(job('retried', ['exit 1']).replace('taskRoles:', 'jobRetryCount: 2\ntaskRoles:'));
  await server.waitState(token, 'admin~retried', 'FAILED', { timeout: 60000 });
  await page.goto(`${server.url}/jobs/admin~retried?tab=attempts`);
  await page.locator('tbody tr').nth(2).waitFor();
  const order = await page.locator('tbody tr th').evaluateAll((ths) => ths.map((t) => t.textContent.trim()));
  assert.deepEqual(order, ['2latest', '1', '0']);
  await page.goto(`${server.url}/jobs/admin~retried?attempt=1`);
  await page.getByText('Showing attempt 1.').waitFor();
  await page.goto(`${server.url}/jobs/admin~retried?attempt=7`);
  await page.getByRole('alert').filter({ hasText: 'This job has no attempt 7 (it has attempts 0–2): showing the current one.' }).waitFor();
  assert.equal(await page.getByText('Showing attempt 7').count(), 0);
  await page.goto(`${server.url}/jobs/admin~retried?attempt=abc`);
  await page.getByRole('alert').filter({ hasText: 'This job has no attempt “abc”' }).waitFor();
  assert.doesNotMatch(await page.locator('main').innerText(), /NaN/);
  await page.locator('tr[data-task="trainer-0"]').waitFor();
});
