// SPDX-License-Identifier: MIT
// The submit page keeps the user's work: a refused file shown in the form, the
// parts of a file the form does not edit kept as written (strings, nested
// values, multi-line commands, a renamed role's other fields and references),
// two task roles of one name refused, a draft kept across an expired session,
// the server's error markers kept until the text changes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CLUSTER, gpuJob } from '../lib.mjs';
import { ADMIN_PASSWORD, open, ptest, shot, sleep, startPortal, stopPortal } from './browser.mjs';

let server, browser, token;
const env = () => ({ server, browser, token });

before(async () => ({ server, browser, token } = await startPortal({ config: CLUSTER })));
after(() => stopPortal(env()));

const config = async (id) => (await server.req('GET', `/api/v2/jobs/${id}/config`, { token })).text;
const editorText = (page) => page.evaluate(() => [...document.querySelectorAll('.cm-line')].map((l) => l.textContent).join('\n'));

async function setEditor(page, text) {
  await page.locator('.cm-content').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
  assert.equal((await editorText(page)).trim(), text.trim(), 'the editor holds the text');
}

ptest('a file the server refused is what the form shows, and what comes back to the editor', env, async ({ page }) => {
  await page.goto(`${server.url}/submit`);
  const auto = await page.getByLabel('Job name').inputValue();
  await page.getByRole('radio', { name: 'YAML' }).click();
  await setEditor(page, gpuJob('refused-job', { instances: -1 }));
  await page.getByRole('button', { name: 'Submit', exact: true }).click();
  await page.getByRole('list', { name: 'Errors in the job file' }).waitFor();
  await page.getByRole('radio', { name: 'Form' }).click();
  assert.equal(await page.getByLabel('Job name').inputValue(), 'refused-job', `not the old form's ${auto}`);
  assert.equal(await page.getByLabel('Instances').inputValue(), '-1');
  assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'trainer');
  await page.getByRole('radio', { name: 'YAML' }).click();
  await page.waitForFunction(() => document.querySelector('.cm-content')?.textContent.includes('refused-job'));
  const text = await editorText(page);
  assert.match(text, /^name: refused-job$/m);
  assert.match(text, /instances: -1/);
  assert.doesNotMatch(text, new RegExp(auto));
});

const RICH = `protocolVersion: 2
name: rich-job
type: job
prerequisites:
  - {name: img, type: dockerimage, uri: 'ubuntu'}
parameters:
  version: "1.10"
  code: "007"
  flag: "true"
  count: 3
  nested: {a: 1, b: [x, y]}
secrets:
  creds: {user: u, pass: p}
taskRoles:
  train:
    instances: 1
    dockerImage: img
    resourcePerInstance: {cpu: 4, memoryMB: 1024, gpu: 1}
    extraContainerOptions: {shmMB: 128}
    commands:
      - |
        echo one

        echo two
      - echo three
deployments:
  - name: d1
    taskRoles:
      train: {preCommands: [echo pre]}
defaults:
  deployment: d1
extras:
  hivedScheduler:
    taskRoles:
      train: {skuType: V100}
`;

ptest('editing in the form keeps what the form does not edit, and a renamed role keeps its fields and references', env, async ({ page }) => {
  await page.goto(`${server.url}/submit`);
  await page.getByRole('radio', { name: 'YAML' }).click();
  await setEditor(page, RICH);
  await page.getByRole('radio', { name: 'Form' }).click();
  await page.getByLabel('Job name').fill('rich-job-2');
  await page.getByLabel('Name', { exact: true }).fill('learn');
  // new parameters: a plain number is a number, anything else text
  for (const [k, v] of [['epochs', '3'], ['build', '008']]) {
    await page.getByRole('button', { name: 'Add parameter' }).click();
    const n = await page.locator('[id^=param-k-]').count();
    await page.getByLabel(`Parameters name ${n}`).fill(k);
    await page.getByLabel(`Parameters value ${n}`).fill(v);
  }
  await page.getByRole('radio', { name: 'YAML' }).click();
  await page.waitForFunction(() => document.querySelector('.cm-content')?.textContent.includes('rich-job-2'));
  // the whole file (the editor draws only the lines on screen)
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export YAML' }).click()]);
  const text = readFileSync(await dl.path(), 'utf8');
  assert.match(text, /version: ["']1\.10["']/);
  assert.match(text, /code: ["']007["']/);
  assert.match(text, /flag: ["']true["']/);
  assert.match(text, /count: 3$/m);
  assert.match(text, /epochs: 3$/m);
  assert.match(text, /build: ["']008["']/);
  assert.match(text, /nested:\n\s+a: 1\n\s+b:\n\s+- x/);
  assert.match(text, /creds:\n\s+user: u/);
  assert.match(text, /- \|[-+]?\n\s+echo one\n\n\s+echo two/);
  assert.match(text, /^  learn:$/m);
  assert.match(text, /shmMB: 128/);
  assert.doesNotMatch(text, /\btrain\b/);
  await page.getByRole('button', { name: 'Submit', exact: true }).click();
  await page.waitForURL(/\/jobs\/admin~rich-job-2$/);
  const c = await config('admin~rich-job-2');
  assert.match(c, /learn:/);
  assert.match(c, /skuType: V100/);
  assert.match(c, /preCommands/);
});

ptest('two task roles of one name are refused in the form, not merged', env, async ({ page }) => {
  await page.goto(`${server.url}/submit`);
  await page.getByLabel('Job name').fill('dup-roles');
  await page.getByRole('button', { name: 'Add task role' }).click();
  await page.locator('#role1-name').fill('taskrole');
  await page.getByRole('button', { name: 'Submit', exact: true }).click();
  await page.getByRole('alert').filter({ hasText: 'Two task roles are named "taskrole"' }).waitFor();
  await page.getByRole('radio', { name: 'YAML' }).click();
  await page.getByRole('alert').filter({ hasText: 'Two task roles' }).waitFor();
  assert.equal(await page.getByRole('radio', { name: 'Form' }).getAttribute('aria-checked'), 'true');
  await sleep(300);
  assert.equal((await server.req('GET', '/api/v2/jobs/admin~dup-roles', { token })).status, 404);
});

test('a session that ends on the submit page keeps the job being written', async () => {
  const t = await server.login();
  const { ctx, page } = await open(browser, server, { token: t });
  try {
    await page.goto(`${server.url}/submit`);
    await page.getByLabel('Job name').fill('draft-job');
    await page.getByLabel('Commands').fill('echo kept\necho across the login');
    assert.equal((await server.req('DELETE', '/api/v2/authn/basic/logout', { token: t })).status < 300, true);
    await page.getByRole('button', { name: 'Submit', exact: true }).click();
    await page.waitForURL(/\/login\?next=%2Fsubmit/);
    await page.getByLabel('User name').fill('admin');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/submit$/);
    await page.getByText('the job you were writing is back').waitFor();
    assert.equal(await page.getByLabel('Job name').inputValue(), 'draft-job');
    assert.equal(await page.getByLabel('Commands').inputValue(), 'echo kept\necho across the login');
    // read once: a later visit starts afresh
    await page.reload();
    await page.getByLabel('Job name').waitFor();
    assert.notEqual(await page.getByLabel('Job name').inputValue(), 'draft-job');
    assert.deepEqual(page.errors, []);
  } finally {
    await ctx.close();
  }
});

ptest('the server errors of a job refused from the form stay marked until the text changes', env, async ({ page }) => {
  await page.goto(`${server.url}/submit`);
  await page.getByLabel('Job name').fill('bad-port');
  await page.getByRole('button', { name: 'Add port' }).click();
  await page.getByLabel('Port name 1').fill('bad-name');
  await page.getByRole('button', { name: 'Submit', exact: true }).click();
  await page.getByRole('list', { name: 'Errors in the job file' }).waitFor();
  await page.locator('.cm-gutter-lint .cm-lint-marker-error').first().waitFor();
  await sleep(1200); // past the syntax linter's first run
  assert.equal(await page.locator('.cm-gutter-lint .cm-lint-marker-error').count(), 1, 'the marker stays');
  await shot(page, 'submit-form-refused');
  // an edit clears them
  await page.locator('.cm-content').click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type('\n');
  await page.waitForFunction(() => !document.querySelector('.cm-gutter-lint .cm-lint-marker-error'));
});

ptest('number fields the form cannot hold (a parameter reference) stay as written', env, async ({ page }) => {
  await page.goto(`${server.url}/submit`);
  await page.getByRole('radio', { name: 'YAML' }).click();
  await setEditor(
    page,
    gpuJob('ref-job', { gpu: 1 }).replace('instances: 1', "instances: '<% $parameters.n %>'").replace('taskRoles:', "jobRetryCount: '<% $parameters.r %>'\ntaskRoles:"),
  );
  await page.getByRole('radio', { name: 'Form' }).click();
  await page.getByLabel('Job name').fill('ref-job-2');
  await page.getByRole('radio', { name: 'YAML' }).click();
  await page.waitForFunction(() => document.querySelector('.cm-content')?.textContent.includes('ref-job-2'));
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export YAML' }).click()]);
  const text = readFileSync(await dl.path(), 'utf8');
  assert.match(text, /instances: ["']?<% \$parameters\.n %>/);
  assert.match(text, /jobRetryCount: ["']?<% \$parameters\.r %>/);
});
