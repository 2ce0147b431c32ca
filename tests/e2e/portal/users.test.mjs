// SPDX-License-Identifier: MIT
// Email fields: a stored email the browser's own check would refuse
// (type=email) still lets the user and the admin save; the server validates.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { CLUSTER } from '../lib.mjs';
import { open, ptest, startPortal, stopPortal } from './browser.mjs';

let server, browser, token;
const env = () => ({ server, browser, token });

before(async () => ({ server, browser, token } = await startPortal({ config: CLUSTER })));
after(() => stopPortal(env()));

ptest('a stored email the browser would refuse does not block saving', env, async ({ page }) => {
  const gina = await server.user(token, 'gina');
  const odd = 'jürgen@example.org';
  assert.equal((await server.req('PUT', '/api/v2/users/gina/email', { token, body: { email: odd } })).status, 201);
  // the admin's edit dialog
  await page.goto(`${server.url}/admin/users`);
  await page.getByRole('button', { name: 'Edit gina' }).click();
  const d = page.getByRole('dialog', { name: 'Edit gina' });
  assert.equal(await d.getByLabel('Email').inputValue(), odd);
  await d.getByLabel('research').check();
  await d.getByRole('button', { name: 'Save' }).click();
  await page.getByText(/User gina: updated/).waitFor();
  // the user's own profile
  const { ctx, page: p } = await open(browser, server, { user: 'gina', token: gina, admin: false });
  try {
    await p.goto(`${server.url}/profile`);
    const email = p.getByLabel('Email');
    await email.waitFor();
    assert.equal(await email.inputValue(), odd);
    await email.fill(`${odd}.de`);
    await p.getByRole('button', { name: 'Save' }).click();
    await p.getByText('Email saved.').waitFor();
    assert.equal((await server.req('GET', '/api/v2/users/gina', { token })).body.email, `${odd}.de`);
  } finally {
    await ctx.close();
  }
});
