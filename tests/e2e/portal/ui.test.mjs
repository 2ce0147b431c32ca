// SPDX-License-Identifier: MIT
// The portal in a browser: log in, submit through the form and the YAML
// editor, errors at their line, clone, the job list's URL filters and
// multi-select stop, why a job waits, users, groups, profile, every page at
// 1280×800 and on a narrow screen (with screenshots of each).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { CLUSTER, gpuJob } from '../lib.mjs';
import { ADMIN_PASSWORD, open, ptest, shot, startPortal, stopPortal } from './browser.mjs';

let server, browser, token;
const env = () => ({ server, browser, token });

before(async () => ({ server, browser, token } = await startPortal({ config: CLUSTER })));
after(() => stopPortal(env()));

const job = async (id) => (await server.req('GET', `/api/v2/jobs/${id}`, { token })).body;
const config = async (id) => (await server.req('GET', `/api/v2/jobs/${id}/config`, { token })).text;

async function submitApi(yaml) {
  const r = await server.submit(token, yaml);
  assert.equal(r.status, 201, r.text);
}

/** Replace the YAML editor's text, as typed in one go (keeps its indentation). */
async function setEditor(page, text) {
  await page.locator('.cm-content').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
  const got = await page.evaluate(() => [...document.querySelectorAll('.cm-line')].map((l) => l.textContent).join('\n'));
  assert.equal(got.trim(), text.trim(), 'the editor holds the text');
}

test('log in with the form: a wrong password shows the server message, the right one opens the page asked for', async () => {
  const { ctx, page } = await open(browser, server);
  try {
    await page.goto(`${server.url}/jobs?state=WAITING`);
    await page.waitForURL(/\/login\?next=/);
    await shot(page, 'login');
    await page.getByLabel('User name').fill('admin');
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    assert.match(await page.getByRole('alert').innerText(), /password/i);
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByLabel('Password').press('Enter');
    await page.waitForURL(/\/jobs\?state=WAITING$/);
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    // the session is OpenPAI's three cookies
    const cookies = Object.fromEntries((await ctx.cookies()).map((c) => [c.name, decodeURIComponent(c.value)]));
    assert.equal(cookies.user, 'admin');
    assert.equal(cookies.admin, 'true');
    assert.equal((await server.req('GET', '/api/v2/tokens/check', { token: cookies.token })).status, 200);
    // log out: the token is revoked, the login page comes back
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(/\/login/);
    assert.equal((await server.req('GET', '/api/v2/tokens/check', { token: cookies.token })).status, 401);
  } finally {
    await ctx.close();
  }
});

ptest('home: my jobs by state, virtual clusters, recent jobs, cluster health', env, async ({ page }) => {
  await submitApi(gpuJob('home-1', { gpu: 1 }));
  await page.goto(`${server.url}/`);
  await page.getByRole('heading', { name: 'Welcome, admin' }).waitFor();
  await page.locator('.stat-waiting .stat-n').waitFor();
  assert.ok(Number(await page.locator('.stat-waiting .stat-n').innerText()) + Number(await page.locator('.stat-running .stat-n').innerText()) >= 1);
  await page.getByRole('link', { name: 'home-1' }).waitFor();
  await page.getByText('2 of 2 healthy').waitFor();
  await page.getByRole('link', { name: 'research' }).waitFor();
  await shot(page, 'home');
});

ptest('submit a job through the form', env, async ({ page }) => {
  await page.goto(`${server.url}/submit`);
  await page.getByLabel('Job name').fill('form-job');
  await page.getByLabel('Commands').fill('echo from the form\necho second line');
  await page.getByLabel('Instances').fill('2');
  await page.getByLabel('GPUs').fill('1');
  await page.getByRole('button', { name: 'Add parameter' }).click();
  await page.getByLabel('Parameters name 1').fill('epochs');
  await page.getByLabel('Parameters value 1').fill('3');
  await shot(page, 'submit-form');
  await page.getByRole('button', { name: 'Submit', exact: true }).click();
  await page.waitForURL(/\/jobs\/admin~form-job$/);
  await page.getByRole('heading', { name: /form-job/ }).waitFor();
  await page.getByText('Job form-job submitted.').waitFor();
  const j = await job('admin~form-job');
  assert.equal(j.taskRoles.taskrole.taskStatuses.length, 2);
  const c = await config('admin~form-job');
  assert.match(c, /echo from the form/);
  assert.match(c, /epochs: 3/);
  assert.match(c, /gpu: 1/);
  await shot(page, 'job-detail');
});

ptest('submit a job through the YAML editor', env, async ({ page }) => {
  await page.goto(`${server.url}/submit`);
  await page.getByRole('radio', { name: 'YAML' }).click();
  await setEditor(page, gpuJob('yaml-job', { gpu: 2, vc: 'research' }));
  await shot(page, 'submit-yaml');
  await page.getByRole('button', { name: 'Submit', exact: true }).click();
  await page.waitForURL(/\/jobs\/admin~yaml-job$/);
  const j = await job('admin~yaml-job');
  assert.equal(j.jobStatus.virtualCluster, 'research');
});

ptest('a job file the server refuses shows each error at its line', env, async ({ page }) => {
  const bad = `protocolVersion: 2
name: bad-job
type: job
prerequisites:
  - {name: img, type: dockerimage, uri: 'ubuntu'}
taskRoles:
  worker:
    instances: 0
    dockerImage: img
    resourcePerInstance: {cpu: 4, memoryMB: 1024, gpu: 1}
    commands: [echo hi]
`;
  // what the server says about it, to compare with
  const r = await server.submit(token, bad);
  assert.equal(r.status, 400);
  const expected = r.body.errors.find((e) => /instances/.test(e.message));
  assert.equal(expected.line, 8);

  await page.goto(`${server.url}/submit`);
  await page.getByRole('radio', { name: 'YAML' }).click();
  await setEditor(page, bad);
  await page.getByRole('button', { name: 'Submit', exact: true }).click();
  const list = page.getByRole('list', { name: 'Errors in the job file' });
  await list.waitFor();
  const item = list.getByRole('listitem').filter({ hasText: 'instances' });
  assert.match(await item.innerText(), new RegExp(`^Line 8, column ${expected.column}: .*instances should be >= 1`));
  // the editor marks line 8: the error marker sits beside line number 8
  const marker = page.locator('.cm-gutter-lint .cm-lint-marker-error').first();
  await marker.waitFor();
  const mbox = await marker.boundingBox();
  const lbox = await page.locator('.cm-lineNumbers .cm-gutterElement', { hasText: /^8$/ }).boundingBox();
  assert.ok(Math.abs(mbox.y + mbox.height / 2 - (lbox.y + lbox.height / 2)) < 6, `marker at y=${mbox.y}, line 8 at y=${lbox.y}`);
  const underlined = await page.locator('.cm-lintRange-error').first().innerText();
  assert.match(underlined, /^0/);
  await shot(page, 'submit-yaml-error');
  // clicking the error puts the cursor there
  await item.getByRole('button').click();
  const line = await page.evaluate(() => document.querySelector('.cm-activeLine')?.textContent);
  assert.equal(line, '    instances: 0');
  // and nothing was stored
  assert.equal((await server.req('GET', '/api/v2/jobs/admin~bad-job', { token })).status, 404);
});

ptest('form and YAML switch both ways, keeping what the form does not show', env, async ({ page }) => {
  await page.goto(`${server.url}/submit`);
  await page.getByRole('radio', { name: 'YAML' }).click();
  await setEditor(page, `${gpuJob('switch-job', { gpu: 1, cmd: 'python train.py' })}extras:\n  gantry: {note: kept}\n`);
  await page.getByRole('radio', { name: 'Form' }).click();
  assert.equal(await page.getByLabel('Job name').inputValue(), 'switch-job');
  assert.equal(await page.getByLabel('Commands').inputValue(), 'python train.py');
  assert.equal(await page.getByLabel('Docker image').inputValue(), 'pytorch/pytorch');
  await page.getByLabel('Job name').fill('switch-job-2');
  await page.getByRole('radio', { name: 'YAML' }).click();
  await page.waitForFunction(() => document.querySelector('.cm-content')?.textContent.includes('switch-job-2'));
  const text = await page.evaluate(() => [...document.querySelectorAll('.cm-line')].map((l) => l.textContent).join('\n'));
  assert.match(text, /^name: switch-job-2$/m);
  assert.match(text, /note: kept/);
  assert.match(text, /uri: pytorch\/pytorch/);
  // a YAML the form cannot read keeps the editor, with the reason
  await setEditor(page, 'name: [unclosed');
  await page.getByRole('radio', { name: 'Form' }).click();
  await page.getByRole('alert').filter({ hasText: 'cannot be read' }).waitFor();
  assert.equal(await page.getByRole('radio', { name: 'YAML' }).getAttribute('aria-checked'), 'true');
});

ptest('import a YAML file, and export it back', env, async ({ page }) => {
  await page.goto(`${server.url}/submit`);
  await page.locator('input[type=file]').setInputFiles({ name: 'imported.yaml', mimeType: 'text/yaml', buffer: Buffer.from(gpuJob('imported-job', { gpu: 1 })) });
  await page.getByText('Imported imported.yaml.').waitFor();
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export YAML' }).click()]);
  const path = await dl.path();
  const { readFileSync } = await import('node:fs');
  assert.match(readFileSync(path, 'utf8'), /name: imported-job/);
  assert.equal(dl.suggestedFilename(), 'imported-job.yaml');
});

ptest('clone a job: the submit page opens prefilled', env, async ({ page }) => {
  await submitApi(gpuJob('to-clone', { gpu: 1, vc: 'research', cmd: 'python train.py --lr 0.1' }));
  await page.goto(`${server.url}/jobs/admin~to-clone`);
  await page.getByRole('link', { name: 'Clone' }).first().click();
  await page.waitForURL(/\/submit\?clone=admin~to-clone$/);
  const name = page.getByLabel('Job name');
  await name.waitFor();
  assert.match(await name.inputValue(), /^to-clone_clone_[a-z0-9]{4}$/);
  assert.equal(await page.getByLabel('Commands').inputValue(), 'python train.py --lr 0.1');
  assert.equal(await page.getByLabel('Virtual cluster').inputValue(), 'research');
  await shot(page, 'submit-clone');
  const cloneName = await name.inputValue();
  await page.getByRole('button', { name: 'Submit', exact: true }).click();
  await page.waitForURL(new RegExp(`/jobs/admin~${cloneName}$`));
  assert.match(await config(`admin~${cloneName}`), /--lr 0\.1/);
});

ptest('job list: filters and order live in the URL, the back button restores them', env, async ({ page }) => {
  for (const n of ['list-a1', 'list-a2', 'list-a3']) await submitApi(gpuJob(n, { gpu: 1 }));
  await submitApi(gpuJob('list-b1', { gpu: 1, vc: 'research' }));
  await page.goto(`${server.url}/jobs`);
  await page.locator('tr[data-job]').first().waitFor();
  await page.getByLabel('Search').fill('list-');
  await page.waitForURL(/keyword=list-/);
  await page.waitForFunction(() => document.querySelectorAll('tr[data-job]').length === 4);
  await page.getByLabel('Virtual cluster').selectOption('research');
  await page.waitForURL(/vc=research/);
  await page.waitForFunction(() => document.querySelectorAll('tr[data-job]').length === 1);
  await page.goBack();
  await page.waitForURL((u) => !u.search.includes('vc='));
  await page.waitForFunction(() => document.querySelectorAll('tr[data-job]').length === 4);
  assert.equal(await page.getByLabel('Virtual cluster').inputValue(), '');
  // order by name, ascending on the second click
  await page.getByRole('button', { name: 'Name' }).click();
  await page.waitForURL(/order=jobName%2CDESC/);
  await page.getByRole('button', { name: 'Name' }).click();
  await page.waitForURL(/order=jobName%2CASC/);
  await page.waitForFunction(() => document.querySelector('tr[data-job]')?.dataset.job === 'admin~list-a1');
  const names = await page.locator('tr[data-job]').evaluateAll((rows) => rows.map((r) => r.dataset.job));
  assert.deepEqual(names, ['admin~list-a1', 'admin~list-a2', 'admin~list-a3', 'admin~list-b1']);
  // a shared link shows the same
  const url = page.url();
  const other = await page.context().newPage();
  await other.goto(url);
  await other.waitForFunction(() => document.querySelectorAll('tr[data-job]').length === 4);
  assert.equal(await other.getByLabel('Search').inputValue(), 'list-');
  await other.close();
  await shot(page, 'jobs');
});

ptest('job list: stop several jobs at once', env, async ({ page }) => {
  for (const n of ['stop-1', 'stop-2', 'stop-3']) await submitApi(gpuJob(n, { gpu: 8, vc: 'research' }));
  await page.goto(`${server.url}/jobs?keyword=stop-`);
  await page.waitForFunction(() => document.querySelectorAll('tr[data-job]').length === 3);
  await page.getByLabel('Select admin~stop-1').check();
  await page.getByLabel('Select admin~stop-3').check();
  await page.getByRole('button', { name: 'Stop selected (2)' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  const asked = await dialog.innerText();
  assert.match(asked, /admin~stop-1/);
  assert.match(asked, /admin~stop-3/);
  assert.doesNotMatch(asked, /stop-2/);
  await shot(page, 'jobs-stop-confirm');
  await dialog.getByRole('button', { name: 'Stop' }).click();
  await page.getByText('Stop requested for 2 jobs.').waitFor();
  for (const id of ['admin~stop-1', 'admin~stop-3']) {
    await page.waitForFunction(async (p) => {
      const r = await fetch(p, { headers: { authorization: `Bearer ${decodeURIComponent(document.cookie.match(/token=([^;]+)/)[1])}` } });
      return ['STOPPED', 'STOPPING'].includes((await r.json()).jobStatus.state);
    }, `/api/v2/jobs/${id}`);
  }
  assert.notEqual((await job('admin~stop-2')).jobStatus.state, 'STOPPED');
  await page.locator('tr[data-job="admin~stop-1"] .state-stopped').waitFor();
});

ptest('job detail says why a job waits', env, async ({ page }) => {
  await submitApi(gpuJob('wait-a', { gpu: 8 }));
  await submitApi(gpuJob('wait-b', { gpu: 8 }));
  const events = (await server.req('GET', '/api/v2/jobs/admin~wait-b/events', { token })).body.data;
  const why = events.find((e) => e.reason === 'Waiting');
  assert.ok(why, 'the scheduler recorded why wait-b waits');
  await page.goto(`${server.url}/jobs/admin~wait-b`);
  const box = page.getByRole('status').filter({ hasText: 'Why is it waiting?' });
  await box.getByText(why.message).waitFor();
  await page.getByRole('tab', { name: /Events/ }).click();
  await page.waitForURL(/tab=events/);
  await page.getByRole('cell', { name: why.message }).waitFor();
  await shot(page, 'job-events');
  // the tabs move with the arrow keys
  await page.getByRole('tab', { name: /Events/ }).press('ArrowRight');
  await page.waitForURL(/tab=attempts/);
  await page.locator('tbody tr').filter({ hasText: 'latest' }).getByText('WAITING').waitFor();
  await shot(page, 'job-attempts');
  await page.keyboard.press('ArrowRight');
  await page.waitForURL(/tab=config/);
  await page.getByLabel('Job config YAML').getByText('name: wait-b').waitFor();
  await shot(page, 'job-config');
});

ptest('as admin, create a user who then logs in', env, async ({ page, ctx }) => {
  await page.goto(`${server.url}/admin/users`);
  await page.getByRole('button', { name: 'Create user' }).click();
  const d = page.getByRole('dialog', { name: 'Create user' });
  await d.getByLabel('User name').fill('carol');
  await d.getByLabel('Password').fill('carol-secret-1');
  await d.getByLabel('Email').fill('carol@example.org');
  await d.getByLabel('research').check();
  await shot(page, 'users-create');
  await d.getByRole('button', { name: 'Create' }).click();
  await page.getByText('User carol created.').waitFor();
  await page.locator('tr[data-user=carol] td:nth-child(4)', { hasText: 'default, research' }).waitFor();
  await shot(page, 'users');
  // a duplicate gets the server's message in the dialog
  await page.getByRole('button', { name: 'Create user' }).click();
  await d.getByLabel('User name').fill('carol');
  await d.getByLabel('Password').fill('whatever-123');
  await d.getByRole('button', { name: 'Create' }).click();
  await d.getByRole('alert').filter({ hasText: 'already exists' }).waitFor();
  await d.getByRole('button', { name: 'Cancel' }).click();

  await ctx.clearCookies();
  await page.goto(`${server.url}/`);
  await page.waitForURL(/\/login/);
  await page.getByLabel('User name').fill('carol');
  await page.getByLabel('Password').fill('carol-secret-1');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Welcome, carol' }).waitFor();
  assert.equal(await page.getByRole('link', { name: 'Users' }).count(), 0, 'no admin pages for carol');
  await shot(page, 'home-carol');
  // carol can use research
  await page.goto(`${server.url}/submit`);
  await page.getByLabel('Virtual cluster').locator('option', { hasText: 'research' }).waitFor({ state: 'attached' });
  const vcs = await page.getByLabel('Virtual cluster').locator('option').allInnerTexts();
  assert.deepEqual(vcs.sort(), ['default', 'research']);
});

ptest('as admin, edit a user: admin flag, virtual clusters, delete', env, async ({ page }) => {
  await server.user(token, 'dan');
  await page.goto(`${server.url}/admin/users`);
  await page.getByRole('button', { name: 'Edit dan' }).click();
  const d = page.getByRole('dialog', { name: 'Edit dan' });
  await d.getByLabel('Administrator').check();
  await d.getByLabel('research').check();
  await d.getByRole('button', { name: 'Save' }).click();
  await page.getByText('User dan: updated virtual clusters, admin flag.').waitFor();
  const u = (await server.req('GET', '/api/v2/users/dan', { token })).body;
  assert.equal(u.admin, true);
  assert.deepEqual(u.virtualCluster.sort(), ['default', 'research']);
  // an admin cannot be deleted: the server says so, and the page shows it
  await page.getByRole('button', { name: 'Delete dan' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('alert').filter({ hasText: 'Cannot delete dan' }).waitFor();
  await page.getByRole('button', { name: 'Edit dan' }).click();
  await d.getByLabel('Administrator').uncheck();
  await d.getByRole('button', { name: 'Save' }).click();
  await page.getByText('User dan: updated admin flag.').waitFor();
  await page.getByRole('button', { name: 'Delete dan' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
  await page.getByText('User dan deleted.').waitFor();
  assert.equal((await server.req('GET', '/api/v2/users/dan', { token })).status, 400);
});

ptest('groups: create one that grants a VC, see its members, delete it', env, async ({ page }) => {
  await page.goto(`${server.url}/admin/groups`);
  await page.getByRole('button', { name: 'Create group' }).click();
  const d = page.getByRole('dialog', { name: 'Create group' });
  await d.getByLabel('Group name').fill('vision');
  await d.getByLabel('Description').fill('The vision team');
  await d.getByLabel('research').check();
  await d.getByRole('button', { name: 'Create' }).click();
  await page.getByText('Group vision created.').waitFor();
  await page.locator('tr[data-group=vision]').getByText('research').waitFor();
  await page.locator('tr[data-group=admingroup]').getByRole('button', { name: 'Show members' }).click();
  await page.locator('tr[data-group=admingroup]').getByText('admin').first().waitFor();
  await shot(page, 'groups');
  await page.getByRole('button', { name: 'Delete group vision' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
  await page.getByText('Group vision deleted.').waitFor();
});

ptest('profile: application tokens, and a new password keeps you logged in', env, async ({ page }) => {
  const erin = await server.user(token, 'erin');
  const { ctx: c2, page: p } = await open(browser, server, { user: 'erin', token: erin, admin: false });
  try {
    await p.goto(`${server.url}/profile`);
    await p.getByRole('button', { name: 'Create application token' }).click();
    const fresh = p.getByLabel(/New application token/);
    await fresh.waitFor();
    const app = await fresh.inputValue();
    assert.equal((await server.req('GET', '/api/v2/tokens/check', { token: app })).body.application, true);
    await p.locator('ul.tokens li').nth(1).waitFor();
    await shot(p, 'profile');
    // revoke the one that is not this session
    const other = p.locator('ul.tokens li').filter({ hasNot: p.getByText('this session') });
    await other.getByRole('button', { name: /Revoke/ }).click();
    await p.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
    await p.getByText('Token revoked.').waitFor();
    assert.equal((await server.req('GET', '/api/v2/tokens/check', { token: app })).status, 401);
    // password: login sessions end, application tokens stay (docs/user/cli.md), and the page says so
    await p.getByRole('button', { name: 'Create application token' }).click();
    await p.waitForFunction((old) => document.getElementById('fresh-token')?.value !== old, app);
    const app2 = await p.getByLabel(/New application token/).inputValue();
    await p.locator('ul.tokens li').nth(1).waitFor();
    await p.getByLabel('Current password').fill('erin-password');
    await p.getByLabel('New password', { exact: true }).fill('erin-new-pass');
    await p.getByLabel('New password again').fill('erin-new-pass');
    await p.getByRole('button', { name: 'Change password' }).click();
    const toast = p.getByText(/Password changed/);
    await toast.waitFor();
    assert.match(await toast.innerText(), /application tokens still work/);
    assert.equal((await server.req('GET', '/api/v2/tokens/check', { token: app2 })).status, 200, 'application tokens stay valid');
    // the list is read again: the old session is gone, this session is the new one
    const now = decodeURIComponent((await c2.cookies()).find((c) => c.name === 'token').value);
    const handles = (await server.req('GET', '/api/v2/tokens', { token: now })).body.tokens;
    assert.equal(handles.length, 2, 'this session and the application token');
    await p.waitForFunction((n) => document.querySelectorAll('ul.tokens li').length === n, handles.length);
    await p.locator('ul.tokens li').filter({ hasText: 'this session' }).waitFor();
    await p.goto(`${server.url}/jobs`);
    await p.getByRole('heading', { name: 'Jobs' }).waitFor();
    assert.equal((await server.req('GET', '/api/v2/tokens/check', { token: erin })).status, 401, 'old sessions end');
    await server.login('erin', 'erin-new-pass');
  } finally {
    await c2.close();
  }
  void page;
});

ptest('deep links survive a reload, and OpenPAI page addresses still work', env, async ({ page }) => {
  await submitApi(gpuJob('deep-job', { gpu: 1 }));
  await page.goto(`${server.url}/jobs/admin~deep-job?tab=config`);
  await page.getByLabel('Job config YAML').getByText('name: deep-job').waitFor();
  await page.reload();
  await page.getByLabel('Job config YAML').getByText('name: deep-job').waitFor();
  await page.goto(`${server.url}/job-detail.html?username=admin&jobName=deep-job`);
  await page.waitForURL(/\/jobs\/admin~deep-job$/);
  await page.goto(`${server.url}/no/such/page`);
  await page.getByRole('heading', { name: 'Page not found' }).waitFor();
  await shot(page, 'not-found');
  await page.goto(`${server.url}/jobs/admin~no-such-job`);
  await page.getByRole('alert').filter({ hasText: 'not found' }).waitFor();
  await shot(page, 'job-not-found');
});

ptest('keyboard only: skip link, menu, tabs', env, async ({ page }) => {
  await page.goto(`${server.url}/jobs`);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Skip to content');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => document.activeElement.closest('main') !== null);
  assert.ok(focused, 'focus moved into the page');
  // every control has a name
  const unnamed = await page.evaluate(() =>
    [...document.querySelectorAll('input, select, textarea, button')]
      .filter((el) => el.type !== 'hidden' && !el.closest('[aria-hidden=true]'))
      .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.textContent.trim()))
      .map((el) => el.outerHTML.slice(0, 80)),
  );
  assert.deepEqual(unnamed, []);
});

const PAGES = [
  ['home', '/', 'Welcome, admin'],
  ['jobs', '/jobs', 'Jobs'],
  ['job', '/jobs/admin~form-job', 'form-job'],
  ['submit', '/submit', 'Submit job'],
  ['vcs', '/virtual-clusters', 'Virtual clusters'],
  ['cluster', '/cluster', 'Cluster'],
  ['users', '/admin/users', 'Users'],
  ['groups', '/admin/groups', 'Groups'],
  ['profile', '/profile', 'Profile'],
];

for (const [w, h, tag] of [
  [1280, 800, 'wide'],
  [390, 844, 'narrow'],
]) {
  ptest(
    `every page renders at ${w}×${h} without sideways scrolling`,
    env,
    async ({ page }) => {
      if (!(await job('admin~form-job'))?.name) await submitApi(gpuJob('form-job', { gpu: 1 }));
      for (const [name, path, heading] of PAGES) {
        await page.goto(`${server.url}${path}`);
        await page.getByRole('heading', { name: heading, exact: false }).first().waitFor();
        await page.waitForFunction(() => !document.querySelector('.loading'));
        const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(over <= 1, `${name} is ${over}px wider than the ${w}px screen`);
        await shot(page, `page-${name}-${tag}`);
      }
      if (tag === 'narrow') {
        const menu = page.getByRole('button', { name: 'Menu' });
        await menu.click();
        await page.getByRole('link', { name: 'Virtual clusters' }).click();
        await page.waitForURL(/\/virtual-clusters$/);
        await shot(page, 'page-menu-narrow');
      }
    },
    { as: { viewport: { width: w, height: h } } },
  );
}
