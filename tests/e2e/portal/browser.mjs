// SPDX-License-Identifier: MIT
// The portal's browser tests: Debian's chromium, headless, driven by
// playwright-core (no browser download), against a real `gantry server`
// serving the built portal (web/dist, or $GANTRY_WEB).
import { test } from 'node:test';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { ADMIN_PASSWORD, Server } from '../lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(here, '../../..');
export const WEB = resolve(process.env.GANTRY_WEB || join(ROOT, 'web/dist'));
// screenshots of every page, and of every failure: git-ignored
export const SHOTS = resolve(process.env.PORTAL_SHOTS || join(ROOT, 'build/portal-shots'));
mkdirSync(SHOTS, { recursive: true });

// c-stack.md §5: what headless chromium needs on these machines
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export function chromiumPath() {
  const list = [process.env.CHROMIUM, '/usr/lib/chromium/chromium', '/usr/bin/chromium'].filter(Boolean);
  const found = list.find((p) => existsSync(p));
  if (!found) throw new Error(`no chromium (tried ${list.join(', ')}): scripts/deps.sh installs Debian's`);
  return found;
}

export function launch() {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: FLAGS });
}

export function portalServer(opts = {}) {
  return new Server({ ...opts, env: { GANTRY_WEB: WEB, ...(opts.env || {}) } });
}

// A test file's server (portalServer(opts), admin logged in) and browser;
// stopPortal undoes it, whatever of it was started.
export async function startPortal(opts = {}) {
  const server = await portalServer(opts).start();
  const token = await server.login();
  const browser = await launch();
  return { server, browser, token };
}

export async function stopPortal({ server, browser }) {
  await browser?.close();
  await server?.stop();
  server?.cleanup();
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A browser context already logged in (the portal's cookies), or not. */
export async function open(browser, server, { user = 'admin', token, admin = true, viewport = { width: 1280, height: 800 } } = {}) {
  const ctx = await browser.newContext({ viewport });
  if (token) {
    await ctx.addCookies(
      [
        ['user', user],
        ['token', token],
        ['admin', String(admin)],
      ].map(([name, value]) => ({ name, value: encodeURIComponent(value), url: server.url, sameSite: 'Strict' })),
    );
  }
  const page = await ctx.newPage();
  page.setDefaultTimeout(15000);
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  // the portal's Content-Security-Policy must not block anything of its own
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text())) page.errors.push(m.text());
  });
  return { ctx, page };
}

export async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/**
 * A browser test: a fresh logged-in page per test (fn gets {page, ctx}); on
 * failure a screenshot FAIL-<name>.png; an uncaught error in the page fails it.
 */
export function ptest(name, getEnv, fn, opts = {}) {
  test(name, { timeout: 90000, ...opts }, async () => {
    const env = getEnv();
    const { ctx, page } = await open(env.browser, env.server, { token: env.token, ...(opts.as || {}) });
    try {
      await fn({ page, ctx, ...env });
      if (page.errors.length) throw new Error(`errors in the page: ${page.errors.join('; ')}`);
    } catch (e) {
      await page
        .screenshot({ path: join(SHOTS, `FAIL-${name.replace(/[^\w.-]+/g, '_').slice(0, 80)}.png`), fullPage: true })
        .catch(() => {});
      throw e;
    } finally {
      await ctx.close();
    }
  });
}

export { ADMIN_PASSWORD };
