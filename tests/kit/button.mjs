#!/usr/bin/env node
/*
 * The kit's button (kit/button/civic-verify.js) in headless Chromium (npm playwright-core), on
 * the demo page the example back ends serve, with a wallet we did not write answering out of
 * band (tests/interop/js/oid4vp_wallet.mjs on npm @openid4vc/openid4vp).
 *
 *   NODE_PATH=$PWD/.tools/node/node_modules node tests/kit/button.mjs --en URL --nl URL \
 *     --expiry URL --broken URL --wallet WALLET.json [--index N] [--artifacts DIR]
 *
 * --en: a back end (an English browser verifies there); --nl: another (a Dutch browser, keyboard
 * only, declines); --expiry: one whose verifier lets sessions expire after 2 s; --broken: one
 * holding a wrong API key. With --artifacts, screenshots are written there.
 * Prints "ok <check>" / "FAIL <check>: why", then "N passed, N failed"; exit 1 on any failure.
 * The whole run is bounded by BROWSER_TEST_TIMEOUT_MS (default 90000); the browser is always
 * closed.
 */
import { execFileSync, execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { load } from '../interop/js/npm_load.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values: A } = parseArgs({
  options: {
    en: { type: 'string' }, nl: { type: 'string' }, expiry: { type: 'string' }, broken: { type: 'string' },
    wallet: { type: 'string' }, 'child-wallet': { type: 'string' }, 'wallet-python': { type: 'string' }, index: { type: 'string', default: '0' }, artifacts: { type: 'string' },
  },
});
for (const k of ['en', 'nl', 'expiry', 'broken', 'wallet', 'child-wallet', 'wallet-python']) {
  if (!A[k]) { process.stderr.write(`usage: button.mjs --en URL --nl URL --expiry URL --broken URL --wallet FILE --child-wallet FILE --wallet-python PY [--index N]\n`); process.exit(2); }
}
const EXECUTABLE = process.env.CHROMIUM || '/usr/bin/chromium';
const TOTAL_MS = Number(process.env.BROWSER_TEST_TIMEOUT_MS || 90000);
const STEP_MS = 20000;
const log = (m) => process.stderr.write(`${m}\n`);

let passed = 0;
let failed = 0;
let timedOut = false;
async function check(name, fn) {
  try {
    const r = await fn();
    if (timedOut) return false;
    if (typeof r === 'string') throw new Error(r);
    passed += 1;
    console.log(`ok   button-${name}${r?.detail ? ` (${r.detail})` : ''}`);
    return true;
  } catch (e) {
    if (timedOut) return false;
    failed += 1;
    const why = (e?.message || String(e)).split('\n')[0];
    console.log(`FAIL button-${name}: ${why}`);
    log(`FAIL button-${name}: ${why}`);
    return false;
  }
}
class Abort extends Error {}
async function must(name, fn) { if (!(await check(name, fn))) throw new Abort(name); }

/** A wallet we did not write answers `link` (accepts or, with decline, refuses): the npm one,
 *  or with python the PyPI sd-jwt holder (it also reads requests by reference, as in the QR). */
function wallet(link, decline, python = false, file = A.wallet) {
  const script = python ? 'tests/interop/python/vp_holder.py' : 'tests/interop/js/oid4vp_wallet.mjs';
  const args = [path.join(ROOT, script), '--request', link, '--wallet', file, '--index', A.index];
  if (decline) args.push('--decline');
  return new Promise((resolve, reject) => {
    execFile(python ? A['wallet-python'] : 'node', args, { timeout: 60000 }, (err, stdout, stderr) => (err ? reject(new Error(`wallet: ${stderr.trim().split('\n').pop()}`)) : resolve(stdout.trim())));
  });
}

const cspViolations = [];
const pageErrors = [];
async function openPage(browser, locale, tag, timezoneId) {
  const context = await browser.newContext({ locale, timezoneId, viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.on('pageerror', (e) => { pageErrors.push(`${tag}: ${e.message}`); log(`[${tag} pageerror] ${e.message}`); });
  page.on('console', (m) => {
    if (m.type() !== 'error' && m.type() !== 'warning') return;
    log(`[${tag} console.${m.type()}] ${m.text().slice(0, 160)}`);
    if (/Content Security Policy/i.test(m.text()) && tag !== 'hostile') cspViolations.push(`${tag}: ${m.text()}`);
  });
  return { context, page };
}
/** Loads the demo page and records every `civic-verify:result` event in window.__events. */
async function loadDemo(page, base) {
  const res = await page.goto(`${base}/`);
  if (!res || res.status() !== 200) throw new Error(`GET / answered ${res?.status()}`);
  await page.locator('#civic button').waitFor();
  await page.evaluate(() => {
    window.__events = [];
    document.getElementById('civic').addEventListener('civic-verify:result', (e) => window.__events.push(e.detail));
  });
  return res;
}
const stateIs = (page, state) => page.locator(`#civic[data-state="${state}"]`).waitFor({ timeout: STEP_MS });
const statusText = (page) => page.locator('#civic [role="status"]').innerText();
const activeClass = (page) => page.evaluate(() => document.activeElement?.className || document.activeElement?.tagName);
const events = (page) => page.evaluate(() => window.__events);
async function shot(page, name) {
  if (A.artifacts) { fs.mkdirSync(A.artifacts, { recursive: true }); await page.screenshot({ path: path.join(A.artifacts, `kit-button-${name}.png`), fullPage: true }); }
}

/** The QR code the page shows, rendered (rsvg-convert) and decoded (zbarimg). */
async function decodeQr(page) {
  const svg = await page.locator('#civic .civic-verify__qr svg').evaluate((e) => new XMLSerializer().serializeToString(e));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-qr-'));
  try {
    fs.writeFileSync(path.join(dir, 'qr.svg'), svg);
    execFileSync('rsvg-convert', ['-w', '900', '-b', 'white', '-o', path.join(dir, 'qr.png'), path.join(dir, 'qr.svg')]);
    return execFileSync('zbarimg', ['--quiet', '--raw', path.join(dir, 'qr.png')], { encoding: 'utf8' }).trim();
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
}

async function english(browser) {
  const { context, page } = await openPage(browser, 'en-US', 'en', 'Pacific/Kiritimati');
  try {
    await must('page-loads-under-strict-csp', async () => {
      const res = await loadDemo(page, A.en);
      const csp = res.headers()['content-security-policy'] || '';
      if (!/script-src 'self'/.test(csp) || !/style-src 'self'/.test(csp) || /unsafe-inline|unsafe-eval/.test(csp)) return `CSP ${JSON.stringify(csp)}`;
      return { detail: csp.split(';').slice(0, 3).join(';') };
    });
    await check('english-and-accessible', async () => {
      const b = page.getByRole('button', { name: 'Verify as a resident of Teststad' });
      if ((await b.count()) !== 1) return 'no <button> named "Verify as a resident of Teststad"';
      if ((await b.evaluate((e) => e.tagName)) !== 'BUTTON') return 'not a real <button>';
      const live = page.locator('#civic [role="status"]');
      if ((await live.getAttribute('aria-live')) !== 'polite') return 'status is not aria-live=polite';
      return { detail: `lang=${await page.evaluate(() => document.documentElement.lang)}` };
    });
    let link = '';
    let started = null;
    await must('click-shows-link-and-qr', async () => {
      const answer = page.waitForResponse((r) => new URL(r.url()).pathname === '/civic/start');
      await page.getByRole('button', { name: 'Verify as a resident of Teststad' }).click();
      started = await (await answer).json();
      const a = page.getByRole('link', { name: 'Open my wallet on this device' });
      await a.waitFor();
      link = await a.getAttribute('href');
      if (!link?.startsWith('openid4vp://')) return `link ${link}`;
      if ((await page.locator('#civic .civic-verify__qr svg path').count()) < 1) return 'no QR code';
      if ((await activeClass(page)) !== 'civic-verify__link') return `focus on ${await activeClass(page)}, not the link`;
      return { detail: `${link.slice(0, 40)}…, focus on the link` };
    });
    // The QR code holds the short link by reference to the same session (the same-device link
    // may carry the request by value); a phone's wallet scans it: here the PyPI holder.
    let qr = '';
    await check('qr-code-decodes-to-this-session', async () => {
      qr = await decodeQr(page);
      const q = new URL(qr);
      const l = new URL(link);
      const uri = q.searchParams.get('request_uri') || '';
      if (q.protocol !== 'openid4vp:' || q.searchParams.get('client_id') !== l.searchParams.get('client_id')) return `QR ${qr.slice(0, 80)}`;
      return uri.endsWith(`/v1/request/${started.id}`) ? { detail: `zbarimg: ${qr.length} characters, request_uri of session ${started.id.slice(0, 8)}…` } : `request_uri ${uri}`;
    });
    await shot(page, 'en-waiting');
    await must('wallet-scans-qr-and-answers', async () => { await wallet(qr || link, false, Boolean(qr)); });
    await check('reports-verified', async () => {
      await stateIs(page, 'verified');
      const text = await statusText(page);
      if (text !== 'Verified: you are a resident of Teststad.') return `status ${JSON.stringify(text)}`;
      if ((await activeClass(page)) !== 'civic-verify__status') return 'focus not moved to the status';
      return { detail: text };
    });
    await check('event-carries-result', async () => {
      const ev = await events(page);
      const d = ev[0];
      if (ev.length !== 1 || d.status !== 'complete' || d.eligible !== true || !d.pseudonym || !d.id) return `events ${JSON.stringify(ev)}`;
      const shown = await page.locator('#result').innerText();
      if (!shown.includes('"eligible": true')) return 'the demo page did not receive it';
      if (/Anna|de Vries|1990-04-12/.test(shown)) return 'personal data on the page';
      return { detail: `pseudonym ${d.pseudonym.slice(0, 8)}…` };
    });
    await shot(page, 'en-verified');
    await check('too-young-not-eligible-message', async () => {
      await loadDemo(page, A.en);
      await page.locator('#civic button').click();
      const a = page.getByRole('link', { name: 'Open my wallet on this device' });
      await a.waitFor();
      await wallet(await a.getAttribute('href'), false, false, A['child-wallet']);
      await stateIs(page, 'notEligible');
      const text = await statusText(page);
      const ev = await events(page);
      if (text !== 'Your credential does not meet the conditions of this check.') return `status ${JSON.stringify(text)}`;
      return ev.length === 1 && ev[0].status === 'complete' && ev[0].eligible === false && ev[0].pseudonym === null ? { detail: text } : `events ${JSON.stringify(ev)}`;
    });
  } finally { await context.close(); }
}

/** The QR code is copied element by element: nothing of a hostile SVG can run or load. On a blank
 *  page without any CSP, so that only the copying protects it; as a control, the same SVG put in
 *  with innerHTML does run there. */
async function hostileSvg(browser) {
  const { context, page } = await openPage(browser, 'en-US', 'hostile');
  const dialogs = [];
  const requests = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  page.on('request', (r) => { if (r.url().includes('127.0.0.1:9/')) requests.push(r.url()); });
  const hostile = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" onload="alert(1)" width="10">'
    + '<script>window.__pwned = 1</script><rect x="0" y="0" width="5" height="5" onclick="alert(2)" style="fill:red"/>'
    + '<a href="javascript:alert(3)"><path d="M0 0h1v1H0z"/></a><image href="http://127.0.0.1:9/x.png"/>'
    + '<foreignObject><div xmlns="http://www.w3.org/1999/xhtml"><img src="http://127.0.0.1:9/y.png" onerror="alert(4)"/></div></foreignObject>'
    + '<use xlink:href="#x"/><g><path d="M1 1h1v1H1z" fill="#000"/></g></svg>';
  try {
    await page.setContent('<!doctype html><html lang="en"><body><div id="safe"></div><div id="raw"></div></body></html>');
    await page.addScriptTag({ path: path.join(ROOT, 'kit/button/civic-verify.js') });
    await check('hostile-qr-svg-defused', async () => {
      const out = await page.evaluate((h) => {
        const svg = window.CivicVerify.safeSvg(h);
        if (svg) document.getElementById('safe').appendChild(svg);
        return { html: svg ? svg.outerHTML : null, notSvg: String(window.CivicVerify.safeSvg('<html><script>1</script></html>')) };
      }, hostile);
      await page.waitForTimeout(300);
      if (dialogs.length || requests.length || await page.evaluate(() => window.__pwned)) return `something ran: ${[...dialogs, ...requests].join(', ')}`;
      if (!out.html || out.notSvg !== 'null') return `safeSvg ${JSON.stringify(out)}`;
      if (/script|onload|onclick|onerror|style|href|image|foreignObject|use|<a|img/i.test(out.html)) return `kept ${out.html}`;
      if (!/<rect[^>]*width="5"/.test(out.html) || !/<g><path d="M1 1h1v1H1z" fill="#000">/.test(out.html)) return `lost the geometry: ${out.html}`;
      // The control: the same markup inserted as such does run (so the check above could fail).
      await page.evaluate((h) => { document.getElementById('raw').innerHTML = h; }, hostile);
      await page.waitForTimeout(300);
      return dialogs.length || requests.length ? { detail: `${out.html.length} characters kept; inserted as markup it ran: ${dialogs.length} alert(s), ${requests.length} request(s)` } : 'the control did not run: the check proves nothing';
    });
  } finally { await context.close(); }
}

async function dutch(browser) {
  const { context, page } = await openPage(browser, 'nl-NL', 'nl', 'Europe/Amsterdam');
  try {
    await must('dutch-strings-for-nl-NL', async () => {
      await loadDemo(page, A.nl);
      const b = await page.locator('#civic button').innerText();
      if (b !== 'Bevestig dat u inwoner bent van Teststad') return `button ${JSON.stringify(b)}`;
      const lang = await page.evaluate(() => document.documentElement.lang);
      const h1 = await page.locator('h1').innerText();
      return lang === 'nl' && h1 === 'Praat mee in Teststad' ? { detail: b } : `lang ${lang}, h1 ${h1}`;
    });
    await shot(page, 'nl-start');
    let link = '';
    await must('keyboard-tab-enter-starts', async () => {
      await page.keyboard.press('Tab');
      if ((await activeClass(page)) !== 'civic-verify__button') return `Tab focused ${await activeClass(page)}`;
      await page.keyboard.press('Enter');
      const a = page.getByRole('link', { name: 'Open mijn wallet op dit apparaat' });
      await a.waitFor();
      link = await a.getAttribute('href');
      const text = await statusText(page);
      return text.startsWith('Scan deze QR-code') ? { detail: text } : `status ${JSON.stringify(text)}`;
    });
    await must('wallet-declines-out-of-band', async () => { await wallet(link, true); });
    await check('declined-message-in-dutch', async () => {
      await stateIs(page, 'declined');
      const text = await statusText(page);
      if (text !== 'U heeft het verzoek in uw wallet geweigerd.') return `status ${JSON.stringify(text)}`;
      const retry = await page.locator('#civic button').innerText();
      if (retry !== 'Opnieuw proberen' || (await activeClass(page)) !== 'civic-verify__button') return `retry ${retry}, focus ${await activeClass(page)}`;
      const ev = await events(page);
      return ev.length === 1 && ev[0].status === 'declined' && ev[0].eligible === false ? { detail: text } : `events ${JSON.stringify(ev)}`;
    });
    await shot(page, 'nl-declined');
    await check('keyboard-space-retries', async () => {
      await page.keyboard.press('Space');
      const a = page.getByRole('link', { name: 'Open mijn wallet op dit apparaat' });
      await a.waitFor();
      const again = await a.getAttribute('href');
      return again && again !== link ? { detail: 'a new session' } : 'no new session';
    });
  } finally { await context.close(); }
}

async function expiry(browser) {
  const { context, page } = await openPage(browser, 'en-GB', 'expiry', 'America/Los_Angeles');
  try {
    await loadDemo(page, A.expiry);
    await check('expired-session-message', async () => {
      await page.locator('#civic button').click();
      await page.getByRole('link', { name: 'Open my wallet on this device' }).waitFor();
      await stateIs(page, 'expired');
      const text = await statusText(page);
      if (text !== 'The request expired before your wallet answered. Please try again.') return `status ${JSON.stringify(text)}`;
      const ev = await events(page);
      if (ev.length !== 1 || ev[0].status !== 'expired') return `events ${JSON.stringify(ev)}`;
      return (await page.locator('#civic .civic-verify__link').isVisible()) ? 'the stale link is still shown' : { detail: text };
    });
  } finally { await context.close(); }
  const broken = await openPage(browser, 'en-US', 'broken');
  try {
    await loadDemo(broken.page, A.broken);
    await check('backend-error-message', async () => {
      await broken.page.locator('#civic button').click();
      await stateIs(broken.page, 'error');
      const text = await statusText(broken.page);
      return text.startsWith('The check could not be started') ? { detail: text } : `status ${JSON.stringify(text)}`;
    });
  } finally { await broken.context.close(); }
}

try {
  const pw = await load('playwright-core');
  const { chromium } = pw.chromium ? pw : pw.default;
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
    await Promise.race([(async () => {
      for (const part of [english, hostileSvg, dutch, expiry]) {
        try { await part(browser); } catch (e) { if (!(e instanceof Abort)) throw e; }
      }
      await check('no-csp-violations-or-page-errors', async () => (cspViolations.length || pageErrors.length ? [...cspViolations, ...pageErrors].join('; ') : undefined));
    })(), deadline]);
  } catch (e) {
    failed += 1;
    console.log(`FAIL button-run: ${(e?.message || String(e)).split('\n')[0]}`);
  } finally {
    clearTimeout(timer);
    await browser.close();
  }
} catch (e) {
  failed += 1;
  console.log(`FAIL button-launch: ${(e?.message || String(e)).split('\n')[0]}`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
