// SPDX-License-Identifier: MIT
// The job list: who gets a Stop button, a page past the end, the search box's
// debounce.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { CLUSTER, gpuJob } from '../lib.mjs';
import { open, ptest, sleep, startPortal, stopPortal } from './browser.mjs';

let server, browser, token;
const env = () => ({ server, browser, token });

before(async () => {
  ({ server, browser, token } = await startPortal({ config: CLUSTER }));
  for (const n of ['list-1', 'list-2', 'list-3']) assert.equal((await server.submit(token, gpuJob(n, { gpu: 1 }))).status, 201);
});
after(() => stopPortal(env()));

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

ptest('tables fit 1280×800: event messages wrap, the virtual clusters table shows View jobs', env, async ({ page }) => {
  await page.goto(`${server.url}/virtual-clusters`);
  const link = page.locator('tr[data-vc=research]').getByRole('link', { name: 'View jobs' });
  await link.waitFor();
  const fits = await page.evaluate(() => {
    const w = document.querySelector('.table-wrap');
    return { scroll: w.scrollWidth, client: w.clientWidth };
  });
  assert.ok(fits.scroll <= fits.client, `the table is ${fits.scroll}px in a ${fits.client}px box`);
  const box = await link.boundingBox();
  assert.ok(box.x + box.width <= 1280, `View jobs ends at ${box.x + box.width}px`);

  for (const n of ['big-1', 'big-2']) assert.equal((await server.submit(token, gpuJob(n, { gpu: 8, vc: 'research' }))).status, 201);
  await page.goto(`${server.url}/jobs/admin~big-2?tab=events`);
  const cell = page.locator('.tabpanel td.wrap').first();
  await cell.waitFor();
  assert.equal(await cell.evaluate((el) => getComputedStyle(el).whiteSpace), 'normal');
  // a very long message wraps: the table stays as wide as its box
  await cell.evaluate((el) => (el.textContent = 'Completed with exit code 1: '.repeat(200)));
  const t = await page.evaluate(() => {
    const w = document.querySelector('.tabpanel .table-wrap');
    return { scroll: w.scrollWidth, client: w.clientWidth };
  });
  assert.ok(t.scroll <= t.client, `the events table is ${t.scroll}px in a ${t.client}px box`);
});
