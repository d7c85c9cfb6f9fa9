#!/usr/bin/env node
/*
 * Real-browser test of the issuer's resident pages (/enroll, /me, /login and /static/app.js):
 * headless Chromium driven by playwright-core over CDP, with a WebAuthn virtual authenticator
 * (CTAP2, internal, resident keys, user verification) standing in for the phone's screen lock.
 *
 *   NODE_PATH=$PWD/.tools/node/node_modules node tests/browser/issuer_pages.mjs BASE CODE [NAME]
 *
 * BASE is the issuer's public URL (http://localhost:PORT), CODE an unused enrollment code, NAME
 * the given name of the resident that code belongs to (default "Anna").  Needs /usr/bin/chromium
 * (or CHROMIUM=path) and playwright-core from tests/interop/setup.sh.
 *
 * Prints "ok <check>" / "FAIL <check>: why" on stdout (browser console and page errors go to
 * stderr), then "N passed, N failed".  Exit 0 if all passed, 1 on any failure, 2 on usage.
 * The whole run is bounded by BROWSER_TEST_TIMEOUT_MS (default 60000); the browser is always
 * closed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

// ESM `import` ignores NODE_PATH, so resolve through require (which honours NODE_PATH) and fall
// back to the project-local install in .tools/node (same approach as oid4vci_wallet.mjs).
const resolvers = [
  createRequire(import.meta.url),
  createRequire(path.join(here, '..', '..', '.tools', 'node', 'package.json')),
];
async function load(name) {
  for (const r of resolvers) {
    let resolved;
    try { resolved = r.resolve(name); } catch { continue; }
    return import(pathToFileURL(resolved).href);
  }
  throw new Error(`cannot find npm package ${name}: run tests/interop/setup.sh and set NODE_PATH=.tools/node/node_modules`);
}
function pkgVersion(name) {
  for (const r of resolvers) {
    try { return JSON.parse(fs.readFileSync(r.resolve(`${name}/package.json`), 'utf8')).version; } catch { /* next */ }
  }
  return 'unknown';
}

const log = (msg) => process.stderr.write(`${msg}\n`);
const [BASE_ARG, CODE, NAME = 'Anna'] = process.argv.slice(2);
if (!BASE_ARG || !CODE) {
  log('usage: issuer_pages.mjs BASE CODE [NAME]   (BASE = http://localhost:PORT)');
  process.exit(2);
}
const BASE = BASE_ARG.replace(/\/+$/, '');
const RP_ID = new URL(BASE).hostname;
const EXECUTABLE = process.env.CHROMIUM || '/usr/bin/chromium';
const TOTAL_MS = Number(process.env.BROWSER_TEST_TIMEOUT_MS || 60000);
const STEP_MS = 15000;
const WRONG_CODE = 'ZZZZZ-ZZZZZ-ZZZZZ-ZZZZ2';
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true };

let passed = 0;
let failed = 0;
let timedOut = false; // set when the whole-run deadline fires; later check results are dropped
const ok = (name, detail = '') => { passed += 1; console.log(`ok   ${name}${detail ? ` (${detail})` : ''}`); };
// FAIL lines also go to stderr, which is what services_interop.sh shows for a failed check.
const fail = (name, why) => { failed += 1; console.log(`FAIL ${name}: ${why}`); log(`FAIL ${name}: ${why}`); };
/** Runs one check; a thrown error or a returned string (the reason) is a failure. */
async function check(name, fn) {
  try {
    const r = await fn();
    if (timedOut) return; // the run was already reported as timed out
    if (typeof r === 'string') fail(name, r); else ok(name, r?.detail);
  } catch (e) {
    if (!timedOut) fail(name, (e?.message || String(e)).split('\n')[0]);
  }
}
/** Like check, but a failure stops the flow (later steps depend on it). */
async function must(name, fn) {
  const before = failed;
  await check(name, fn);
  if (failed !== before) throw new Abort(name);
}
class Abort extends Error {}

/** Does `action` and waits for the page to reach `pathname`; fails fast if app.js reports an
 *  error in #status instead (then the message is the page's error text). */
async function expectNavigation(page, pathname, action) {
  const arrived = page.waitForURL((u) => u.pathname === pathname).then(() => null);
  const refused = page.locator('#status.error').waitFor({ state: 'visible' })
    .then(async () => `stayed on ${new URL(page.url()).pathname}, #status: ${JSON.stringify(await page.locator('#status').textContent())}`);
  arrived.catch(() => {}); refused.catch(() => {});
  await action();
  const why = await Promise.race([arrived, refused]);
  if (why) throw new Error(why);
  await page.waitForLoadState('load');
}

/** Accessibility basics of the current page, as a list of problems (empty = fine). */
async function a11yProblems(page) {
  return page.evaluate((screenWidth) => {
    const problems = [];
    const lang = document.documentElement.getAttribute('lang');
    if (!lang || !lang.trim()) problems.push('html has no lang');
    if (!document.title.trim()) problems.push('empty <title>');
    if (document.querySelectorAll('h1').length !== 1) problems.push('not exactly one <h1>');
    for (const el of document.querySelectorAll('input, select, textarea')) {
      if (el.type === 'hidden') continue;
      const labelled = (el.labels && [...el.labels].some((l) => l.textContent.trim()))
        || el.getAttribute('aria-label')?.trim()
        || (el.getAttribute('aria-labelledby') || '').split(/\s+/).some((id) => document.getElementById(id)?.textContent.trim());
      if (!labelled) problems.push(`input without label: ${el.id || el.name || el.outerHTML.slice(0, 60)}`);
    }
    for (const b of document.querySelectorAll('button, a[href]')) {
      if (!(b.textContent.trim() || b.getAttribute('aria-label')?.trim())) problems.push(`unnamed control: ${b.outerHTML.slice(0, 60)}`);
    }
    const live = document.querySelector('[role="status"], [aria-live="polite"], [aria-live="assertive"]');
    if (!live) problems.push('no role=status live region');
    else if (live.getAttribute('role') !== 'status') problems.push('live region has no role=status');
    // With isMobile emulation Chromium widens the layout to fit wide content, so innerWidth
    // grows with the overflow (a page 420px wide on a 390px phone reports innerWidth 421).
    // Compare with the screen width and clientWidth too, or the check could never fail.
    const sw = document.documentElement.scrollWidth;
    const width = Math.min(window.innerWidth, document.documentElement.clientWidth, screenWidth);
    if (sw > width) {
      const wide = [...document.body.querySelectorAll('*')]
        .filter((e) => e.getBoundingClientRect().right > width + 0.5)
        .map((e) => (e.id ? `#${e.id}` : e.tagName.toLowerCase())).slice(0, 5);
      problems.push(`horizontal overflow: scrollWidth ${sw} > ${width} (innerWidth ${window.innerWidth}; widest: ${wide.join(', ')})`);
    }
    return problems;
  }, PHONE.viewport.width);
}
async function a11y(page, label) {
  await check(`a11y-${label}`, async () => {
    const p = await a11yProblems(page);
    return p.length ? p.join('; ') : { detail: await page.evaluate(() => `scrollWidth ${document.documentElement.scrollWidth}/${innerWidth}px, lang=${document.documentElement.lang}`) };
  });
}

/** A page with a CTAP2 platform authenticator that always verifies the user. */
async function pageWithAuthenticator(context, tag) {
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.setDefaultNavigationTimeout(STEP_MS);
  page.on('pageerror', (e) => { pageErrors.push(`${tag}: ${e.message}`); log(`[${tag} pageerror] ${e.message}`); });
  page.on('console', (m) => {
    if (m.type() !== 'error' && m.type() !== 'warning') return;
    log(`[${tag} console.${m.type()}] ${m.text()}`);
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(`${tag}: ${m.text()}`);
  });
  page.on('response', (r) => { if (r.status() >= 400) log(`[${tag} http] ${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`); });
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { page, cdp, authenticatorId };
}
const pageErrors = [];
const cspViolations = [];

async function credentials(cdp, authenticatorId) {
  return (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
}

async function run(browser) {
  // ---- first context: enroll, /me, offer, sign out, sign in ----------------------------------
  const ctx = await browser.newContext(PHONE);
  const { page, cdp, authenticatorId } = await pageWithAuthenticator(ctx, 'resident');

  await must('enroll-page-loads', async () => {
    const res = await page.goto(`${BASE}/enroll`);
    if (!res || res.status() !== 200) return `GET /enroll answered ${res?.status()}`;
    await page.locator('#enroll-form').waitFor();
    // app.js is a module: wait until it has attached its submit handler (it runs after parsing).
    await page.waitForLoadState('load');
    return { detail: await page.title() };
  });
  await a11y(page, 'enroll');

  await must('enroll-with-passkey', async () => {
    await page.locator('#code').fill(CODE);
    await expectNavigation(page, '/me', () => page.locator('#enroll-form button[type="submit"]').click());
    return { detail: new URL(page.url()).pathname };
  });

  await check('me-shows-resident', async () => {
    const text = await page.locator('main').innerText();
    if (!text.includes(NAME)) return `resident name ${JSON.stringify(NAME)} not on /me`;
    const h1 = await page.locator('h1').innerText();
    return { detail: `h1 "${h1}", name ${NAME}` };
  });
  await check('me-one-passkey', async () => {
    const heading = page.getByRole('heading', { name: 'Your passkeys' });
    if ((await heading.count()) !== 1) return 'no "Your passkeys" heading';
    const items = page.locator('section[aria-labelledby="pk"] ul li');
    const n = await items.count();
    if (n !== 1) return `${n} passkeys listed, expected 1`;
    return { detail: JSON.stringify((await items.first().innerText()).replace(/\s+/g, ' ').trim()) };
  });
  await a11y(page, 'me');

  let signCountAfterEnroll = 0;
  await check('authenticator-resident-credential', async () => {
    const creds = await credentials(cdp, authenticatorId);
    if (creds.length !== 1) return `${creds.length} credentials on the virtual authenticator, expected 1`;
    const [c] = creds;
    if (c.isResidentCredential !== true) return 'credential is not resident (discoverable)';
    if (c.rpId !== RP_ID) return `rpId ${c.rpId}, expected ${RP_ID}`;
    if (!c.userHandle) return 'no user handle stored';
    signCountAfterEnroll = c.signCount;
    return { detail: `rpId ${c.rpId}, signCount ${c.signCount}` };
  });

  await check('offer-dialog', async () => {
    await page.locator('#offer-button').click();
    await page.locator('#offer').waitFor({ state: 'visible' });
    const svg = await page.locator('#offer-qr svg').count();
    if (svg < 1) return '#offer-qr holds no <svg>';
    const href = await page.locator('#offer-link').getAttribute('href');
    if (!/^(openid-credential-offer:\/\/|https?:\/\/)/.test(href || '')) return `#offer-link href ${JSON.stringify(href)}`;
    if (!href.includes('credential_offer_uri')) return `#offer-link has no credential_offer_uri: ${href}`;
    const status = (await page.locator('#status').textContent()) || '';
    const box = await page.locator('#offer-qr svg').boundingBox();
    if (!box || box.width < 100) return `QR code rendered ${box ? Math.round(box.width) : 0}px wide`;
    if (box.x + box.width > PHONE.viewport.width) return 'QR code wider than the screen';
    const tx = await page.locator('#offer-tx').isVisible();
    return { detail: `${href.split('?')[0]}…, QR ${Math.round(box.width)}px, tx_code ${tx ? 'shown' : 'none'}, status "${status}"` };
  });
  await a11y(page, 'me-offer');

  await must('logout', async () => {
    await expectNavigation(page, '/login', () => page.locator('#logout').click());
    return { detail: new URL(page.url()).pathname };
  });
  await a11y(page, 'login');
  await check('me-needs-session-after-logout', async () => {
    const res = await page.request.get(`${BASE}/me`, { maxRedirects: 0 });
    if (res.status() !== 303 && res.status() !== 302 && res.status() !== 307) return `GET /me answered ${res.status()} after logout`;
    const loc = res.headers().location;
    return loc === '/login' ? { detail: `${res.status()} → ${loc}` } : `redirects to ${loc}`;
  });

  await must('login-with-discoverable-passkey', async () => {
    await expectNavigation(page, '/me', () => page.locator('#login-button').click());
    const text = await page.locator('main').innerText();
    if (!text.includes(NAME)) return `signed in, but ${NAME} not on /me`;
    return { detail: 'back on /me' };
  });
  await check('authenticator-used-for-login', async () => {
    const creds = await credentials(cdp, authenticatorId);
    if (creds.length !== 1) return `${creds.length} credentials, expected still 1`;
    if (!(creds[0].signCount > signCountAfterEnroll)) return `signCount ${creds[0].signCount} did not grow`;
    return { detail: `signCount ${signCountAfterEnroll} → ${creds[0].signCount}` };
  });
  await ctx.close();

  // ---- second, fresh context: a wrong code is refused on the page ----------------------------
  const ctx2 = await browser.newContext(PHONE);
  const neg = await pageWithAuthenticator(ctx2, 'wrong-code');
  await check('wrong-code-refused', async () => {
    const p = neg.page;
    await p.goto(`${BASE}/enroll`);
    await p.waitForLoadState('load');
    let navigations = 0;
    p.on('framenavigated', (f) => { if (f === p.mainFrame()) navigations += 1; });
    await p.locator('#code').fill(WRONG_CODE);
    await p.locator('#enroll-form button[type="submit"]').click();
    const status = p.locator('#status.error');
    // Either the error shows, or (the bug we look for) the page moves on to /me.
    await Promise.race([
      status.waitFor({ state: 'visible' }),
      p.waitForURL((u) => u.pathname !== '/enroll').then(() => { throw new Error(`wrong code accepted: navigated to ${p.url()}`); }),
    ]);
    const text = ((await status.textContent()) || '').trim();
    if (!text) return '#status.error is empty';
    await p.waitForTimeout(300); // a late location.assign would show up here
    if (navigations !== 0 || new URL(p.url()).pathname !== '/enroll') return `navigated to ${p.url()}`;
    const creds = await credentials(neg.cdp, neg.authenticatorId);
    if (creds.length !== 0) return `${creds.length} credentials created for a wrong code`;
    const cookies = await ctx2.cookies(BASE);
    if (cookies.some((c) => c.name === 'civic_session')) return 'a session cookie was set';
    return { detail: JSON.stringify(text) };
  });
  await a11y(neg.page, 'enroll-error');
  await ctx2.close();

  await check('no-page-errors', () => (pageErrors.length ? pageErrors.join('; ') : { detail: 'no uncaught exceptions' }));
  await check('no-csp-violations', () => (cspViolations.length ? cspViolations.join('; ') : { detail: 'none reported' }));
}

async function main() {
  const pw = await load('playwright-core');
  const { chromium } = pw.chromium ? pw : pw.default; // CommonJS: named exports are on default
  log(`playwright-core ${pkgVersion('playwright-core')}, ${EXECUTABLE}, base ${BASE}`);
  // launch() gives the browser a fresh temporary profile (user-data-dir) and deletes it on close;
  // each newContext() is a further isolated, incognito-like context.
  const browser = await chromium.launch({
    executablePath: EXECUTABLE,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: STEP_MS,
  });
  log(`browser ${browser.version()}`);
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => { timedOut = true; reject(new Error(`whole run exceeded ${TOTAL_MS} ms`)); }, TOTAL_MS);
  });
  try {
    await Promise.race([run(browser), deadline]);
  } catch (e) {
    if (!(e instanceof Abort)) fail('run', (e?.message || String(e)).split('\n')[0]);
  } finally {
    clearTimeout(timer);
    await Promise.race([browser.close(), new Promise((r) => setTimeout(r, 5000))]).catch(() => {});
  }
}

const hardStop = setTimeout(() => { fail('hard-timeout', 'the browser did not close'); process.exit(1); }, TOTAL_MS + 15000);
hardStop.unref();
try {
  await main();
} catch (e) {
  fail('launch', (e?.message || String(e)).split('\n')[0]);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
