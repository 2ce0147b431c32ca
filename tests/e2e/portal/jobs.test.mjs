// SPDX-License-Identifier: MIT
// The job list: who gets a Stop button, a page past the end, the search box's
// debounce.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { CLUSTER, gpuJob } from '../lib.mjs';
import { launch, open, portalServer, ptest, sleep } from './browser.mjs';

let server, browser, token;
const env = () => ({ server, browser, token });

before(async () => {
  server = await portalServer({ config: CLUSTER }).start();
  token = await server.login();
  browser = await launch();
  for (const n of ['list-1', 'list-2', 'list-3']) assert.equal((await server.submit(token, gpuJob(n, { gpu: 1 }))).status, 201);
});
after(async () => {
  await browser?.close();
  await server?.stop();
  server?.cleanup();
});

test("a user who is not an admin gets no Stop button on other users' jobs", async () => {
  const frank = await server.user(token, 'frank');
  assert.equal((await server.submit(frank, gpuJob('franks-job', { gpu: 1 }))).status, 201);
  const { ctx, page } = await open(browser, server, { user: 'frank', token: frank, admin: false });
  try {
    await page.goto(`${server.url}/jobs`);
    await page.locator('tr[data-job="frank~franks-job"]').getByRole('button', { name: 'Stop frank~franks-job' }).waitFor();
    await page.locator('tr[data-job="admin~list-1"]').waitFor();
    assert.equal(await page.locator('tr[data-job="admin~list-1"] button').count(), 0, 'no Stop on admin~list-1');
    // nor through the selection
    await page.getByLabel('Select admin~list-1').check();
    assert.equal(await page.getByRole('button', { name: /^Stop selected/ }).isDisabled(), true);
    assert.deepEqual(page.errors, []);
  } finally {
    await ctx.close();
  }
});

ptest('a page past the end goes to the last page', env, async ({ page }) => {
  await page.goto(`${server.url}/jobs?page=99&keyword=list-`);
  await page.waitForURL((u) => !u.search.includes('page='));
  assert.match(page.url(), /keyword=list-/);
  await page.waitForFunction(() => document.querySelectorAll('tr[data-job]').length === 3);
  await page.getByText('Page 1 of 1').waitFor();
  await page.getByText('1–3 of 3').waitFor();
  assert.equal(await page.getByText('No jobs yet').count(), 0);
});

ptest('the search box: leaving the page within its debounce stays left, a trailing space stays typed', env, async ({ page }) => {
  await page.goto(`${server.url}/jobs`);
  await page.locator('tr[data-job="admin~list-2"]').waitFor();
  await page.getByLabel('Search').pressSequentially('lis');
  await page.getByRole('link', { name: 'list-2', exact: true }).click();
  await page.waitForURL(/\/jobs\/admin~list-2$/);
  await sleep(700);
  assert.match(page.url(), /\/jobs\/admin~list-2$/, 'still on the job');
  await page.goBack();
  await page.waitForURL(/\/jobs$/);
  await page.getByLabel('Search').fill('');
  await page.getByLabel('Search').pressSequentially('list ', { delay: 50 });
  await page.waitForURL(/keyword=list$/);
  await sleep(400);
  assert.equal(await page.getByLabel('Search').inputValue(), 'list ');
  await page.getByLabel('Search').pressSequentially('-3');
  await page.waitForURL(/keyword=list\+-3|keyword=list%20-3/);
});
