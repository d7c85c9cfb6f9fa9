#!/usr/bin/env node
/*
 * The browser wallet end to end, in headless Chromium (playwright-core over CDP) on a phone
 * viewport, against the real issuer, the participatory_budget example (the verifier in-process)
 * and the wallet page (wallet-wasm/web/), each on its own origin. A CDP virtual authenticator
 * (CTAP2, internal, resident keys, user verification, PRF) stands in for the phone's screen lock;
 * one tab is used throughout, so the one authenticator serves the issuer and the wallet.
 *
 *   node tests/browser/wallet_e2e.mjs --issuer URL --code CODE --admin-token TOKEN \
 *        --wallet URL --budget URL [--artifacts DIR]
 *
 * Normally started by tests/browser/wallet_e2e.sh, which starts the services. The code must be an
 * unused enrollment code of resident D-0001 (Anna de Vries, born 1990, municipality 0363).
 * Steps: 1 enroll at the issuer; 2 create the wallet with a passkey (PRF); 3 receive the
 * credential through the same-device link; 4 open the budget; 5 share through the consent
 * screen; 6 vote; 7 a second vote is refused; 8 revoke, the next presentation is refused and the
 * card says revoked; 9 lock and reload: nothing readable without the passkey; then the fallback
 * without PRF (a fresh context), accessibility basics, no page errors, no CSP violations.
 *
 * Prints ok/FAIL lines, `wallet_present_ms_chromium: X` (median of 20 vp_token creations in the
 * page, the WASM part of sharing) and "N passed, N failed"; exit 1 on any failure. Screenshots of
 * the main screens go to --artifacts (default tests/artifacts/). Bounded by
 * WALLET_E2E_TIMEOUT_MS (default 120000); the browser is always closed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(here, '..', '..');

// ESM `import` ignores NODE_PATH: resolve through require (which honours it), then .tools/node.
const resolvers = [createRequire(import.meta.url), createRequire(path.join(ROOT, '.tools', 'node', 'package.json'))];
async function load(name) {
  for (const r of resolvers) {
    let resolved;
    try { resolved = r.resolve(name); } catch { continue; }
    return import(pathToFileURL(resolved).href);
  }
  throw new Error(`cannot find npm package ${name}: run tests/interop/setup.sh and set NODE_PATH=.tools/node/node_modules`);
}

const log = (msg) => process.stderr.write(`${msg}\n`);
const { values: opts } = parseArgs({
  options: {
    issuer: { type: 'string' }, code: { type: 'string' }, 'admin-token': { type: 'string' },
    wallet: { type: 'string' }, budget: { type: 'string' }, artifacts: { type: 'string' },
    resident: { type: 'string', default: 'D-0001' },
  },
});
if (!opts.issuer || !opts.code || !opts['admin-token'] || !opts.wallet || !opts.budget) {
  log('usage: wallet_e2e.mjs --issuer URL --code CODE --admin-token TOKEN --wallet URL --budget URL [--artifacts DIR]');
  process.exit(2);
}
const trim = (u) => u.replace(/\/+$/, '');
const ISSUER = trim(opts.issuer);
const WALLET = trim(opts.wallet);
const BUDGET = trim(opts.budget);
const ARTIFACTS = path.resolve(opts.artifacts ?? path.join(ROOT, 'tests', 'artifacts'));
const EXECUTABLE = process.env.CHROMIUM || '/usr/bin/chromium';
const TOTAL_MS = Number(process.env.WALLET_E2E_TIMEOUT_MS || 120000);
const STEP_MS = 20000;
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
const PLATFORM_HOST = 'budget.teststad.example';
const SECRETS = ['Anna', 'de Vries', 'Dam 1', '1990-04-12', '1012 JS'];

let passed = 0;
let failed = 0;
let timedOut = false;
const ok = (name, detail = '') => { passed += 1; console.log(`ok   ${name}${detail ? ` (${detail})` : ''}`); };
const fail = (name, why) => { failed += 1; console.log(`FAIL ${name}: ${why}`); log(`FAIL ${name}: ${why}`); };
async function check(name, fn) {
  try {
    const r = await fn();
    if (timedOut) return;
    if (typeof r === 'string') fail(name, r); else ok(name, r?.detail);
  } catch (e) {
    if (!timedOut) fail(name, (e?.message || String(e)).split('\n')[0]);
  }
}
class Abort extends Error {}
async function must(name, fn) {
  const before = failed;
  await check(name, fn);
  if (failed !== before) throw new Abort(name);
}

const pageErrors = [];
const cspViolations = [];
const shots = [];
let shotNo = 0;
async function shot(page, name) {
  shotNo += 1;
  const file = path.join(ARTIFACTS, `wallet-${String(shotNo).padStart(2, '0')}-${name}.png`);
  try {
    await page.screenshot({ path: file, fullPage: true });
    shots.push(path.relative(process.cwd(), file));
  } catch (e) {
    log(`screenshot ${name}: ${e.message}`);
  }
}

async function withAuthenticator(context, tag, { prf = true } = {}) {
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.setDefaultNavigationTimeout(STEP_MS);
  page.on('pageerror', (e) => { pageErrors.push(`${tag}: ${e.message}`); log(`[${tag} pageerror] ${e.message}`); });
  page.on('console', (m) => {
    if (m.type() !== 'error' && m.type() !== 'warning') return;
    log(`[${tag} console.${m.type()}] ${m.text()}`);
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(`${tag}: ${m.text()}`);
  });
  page.on('response', (r) => { if (r.status() >= 400) log(`[${tag} http] ${r.status()} ${r.request().method()} ${r.url().split('?')[0]}`); });
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
      isUserVerified: true, automaticPresenceSimulation: true, hasPrf: prf,
    },
  });
  return { page, cdp, authenticatorId };
}

/** Accessibility basics of the current page (same rules as issuer_pages.mjs). */
async function a11yProblems(page) {
  return page.evaluate((screenWidth) => {
    const problems = [];
    if (!document.documentElement.getAttribute('lang')?.trim()) problems.push('html has no lang');
    if (!document.title.trim()) problems.push('empty <title>');
    if (document.querySelectorAll('h1').length !== 1) problems.push('not exactly one <h1>');
    const visible = (e) => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length);
    for (const e of document.querySelectorAll('input, select, textarea')) {
      if (e.type === 'hidden') continue;
      const labelled = (e.labels && [...e.labels].some((l) => l.textContent.trim())) || e.getAttribute('aria-label')?.trim()
        || (e.getAttribute('aria-labelledby') || '').split(/\s+/).some((id) => document.getElementById(id)?.textContent.trim());
      if (!labelled) problems.push(`input without label: ${e.id || e.name}`);
    }
    for (const b of document.querySelectorAll('button, a[href]')) {
      if (!(b.textContent.trim() || b.getAttribute('aria-label')?.trim())) problems.push(`unnamed control: ${b.outerHTML.slice(0, 60)}`);
      if (b.tagName === 'BUTTON' && visible(b)) {
        const r = b.getBoundingClientRect();
        if (r.height < 40) problems.push(`small touch target: ${b.id || b.textContent.trim()} ${Math.round(r.height)}px`);
      }
    }
    const live = document.querySelector('[role="status"]');
    if (!live) problems.push('no role=status live region');
    const sw = document.documentElement.scrollWidth;
    const width = Math.min(window.innerWidth, document.documentElement.clientWidth, screenWidth);
    if (sw > width) {
      const wide = [...document.body.querySelectorAll('*')].filter((x) => x.getBoundingClientRect().right > width + 0.5)
        .map((x) => (x.id ? `#${x.id}` : x.tagName.toLowerCase())).slice(0, 5);
      problems.push(`horizontal overflow: ${sw} > ${width} (${wide.join(', ')})`);
    }
    // A visible focus style: tab to the first button and look at its outline.
    const btn = [...document.querySelectorAll('button')].find(visible);
    if (btn) {
      btn.focus({ focusVisible: true });
      const cs = getComputedStyle(btn);
      if (document.activeElement === btn && cs.outlineStyle === 'none' && cs.boxShadow === 'none') problems.push('no visible focus style');
      btn.blur();
    }
    return problems;
  }, PHONE.viewport.width);
}
async function a11y(page, label) {
  await check(`a11y-wallet-${label}`, async () => {
    const p = await a11yProblems(page);
    return p.length ? p.join('; ') : { detail: 'lang, labels, role=status, names, no overflow' };
  });
}

const text = async (loc) => ((await loc.textContent()) ?? '').replace(/\s+/g, ' ').trim();
const visible = (page, sel) => page.locator(sel).isVisible();

/** Waits until the wallet page has started (app.js sets html[data-ready]). */
async function walletReady(page) {
  await page.waitForURL((u) => u.origin === WALLET);
  await page.locator('html[data-ready="true"]').waitFor({ state: 'attached' });
}

/** On the wallet page: unlocks with the passkey when the page asks, then waits for `target`. */
async function unlockIfAsked(page, target) {
  await walletReady(page);
  const which = await Promise.race([
    page.locator('#unlock').waitFor({ state: 'visible' }).then(() => 'unlock'),
    page.locator(target).waitFor({ state: 'visible' }).then(() => 'target'),
  ]);
  if (which === 'unlock') {
    await page.locator('#unlock-button').click();
    await page.locator(target).waitFor({ state: 'visible' });
  }
  return which === 'unlock';
}

/** Starts a ballot check on the budget page; returns the same-device link and the ballot URL. */
async function startBallot(page) {
  await page.goto(`${BUDGET}/`);
  await page.getByRole('button', { name: 'Vote with my residency credential' }).click();
  await page.locator('#wallet-link').waitFor();
  const link = await page.locator('#wallet-link').getAttribute('href');
  const next = await page.locator('#check-status').getAttribute('data-next');
  if (!link?.startsWith(`${WALLET}/present?`)) throw new Error(`#wallet-link is ${link}, not the wallet's /present`);
  return { link, ballot: `${BUDGET}${next}` };
}

/** Follows the same-device link to the wallet and waits for the consent screen. */
async function openConsent(page) {
  await page.locator('#wallet-link').click();
  const unlocked = await unlockIfAsked(page, '#consent');
  return {
    unlocked,
    verifier: await text(page.locator('#consent-verifier')),
    items: await page.locator('#consent-items li').allTextContents(),
    missingShown: await visible(page, '#consent-missing'),
  };
}

/** Presses Share; returns 'done' (#present-done) or the wallet's error text. */
async function share(page) {
  await page.locator('#share').click();
  return Promise.race([
    page.locator('#present-done').waitFor({ state: 'visible' }).then(() => 'done'),
    page.locator('#status.error').waitFor({ state: 'visible' }).then(async () => `error: ${await text(page.locator('#status'))}`),
  ]);
}

/** Opens the ballot page, retrying while the check is still pending. */
async function openBallot(page, url) {
  for (let i = 0; i < 10; i++) {
    await page.goto(url);
    const body = await text(page.locator('main'));
    if (!/Waiting for your wallet/.test(body)) return body;
    await page.waitForTimeout(500);
  }
  return text(page.locator('main'));
}

async function storageDump(page) {
  return page.evaluate(async () => {
    const dbs = indexedDB.databases ? await indexedDB.databases() : [{ name: 'civic-wallet' }];
    const out = { indexedDB: {}, localStorage: { ...localStorage }, sessionStorage: { ...sessionStorage }, keys: [] };
    for (const { name } of dbs) {
      const db = await new Promise((res, rej) => { const r = indexedDB.open(name); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
      for (const store of db.objectStoreNames) {
        const tx = db.transaction(store, 'readonly');
        const os = tx.objectStore(store);
        const [keys, values] = await Promise.all([os.getAllKeys(), os.getAll()].map((req) => new Promise((res) => { req.onsuccess = () => res(req.result); })));
        keys.forEach((k, i) => {
          const v = values[i];
          if (v instanceof CryptoKey) out.keys.push({ name: `${name}/${store}/${k}`, extractable: v.extractable, algorithm: v.algorithm.name });
          out.indexedDB[`${name}/${store}/${String(k)}`] = v instanceof CryptoKey ? `[CryptoKey ${v.algorithm.name}, extractable ${v.extractable}]` : v;
        });
      }
      db.close();
    }
    return out;
  });
}

async function run(browser) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  for (const f of fs.readdirSync(ARTIFACTS)) if (/^wallet-\d\d-[\w-]+\.png$/.test(f)) fs.rmSync(path.join(ARTIFACTS, f));
  const ctx = await browser.newContext(PHONE);
  const { page, cdp, authenticatorId } = await withAuthenticator(ctx, 'resident');

  // 1. Enroll at the issuer with the code and a passkey.
  await must('1-enroll-at-issuer', async () => {
    await page.goto(`${ISSUER}/enroll`);
    await page.waitForLoadState('load');
    await page.locator('#code').fill(opts.code);
    await page.locator('#enroll-form button[type="submit"]').click();
    await page.waitForURL((u) => u.pathname === '/me');
    const main = await text(page.locator('main'));
    if (!main.includes('Anna')) return 'enrolled, but /me does not show Anna';
    return { detail: 'passkey enrolled, on /me' };
  });

  // 2. Create the wallet with its own passkey (PRF).
  await must('2-create-wallet-with-passkey', async () => {
    const t0 = Date.now();
    await page.goto(`${WALLET}/`);
    await walletReady(page);
    await page.locator('#setup').waitFor({ state: 'visible' });
    let wasm = 0;
    const countWasm = (r) => { if (r.url().endsWith('.wasm')) wasm += 1; };
    page.on('request', countWasm);
    await page.waitForTimeout(200);
    if (wasm !== 0) return 'the WASM is loaded before it is needed';
    await shot(page, 'setup');
    await a11y(page, 'setup');
    await page.locator('#create-wallet').click();
    await page.locator('#wallet').waitFor({ state: 'visible' });
    const protection = await text(page.locator('#protection'));
    const cls = await page.locator('#protection').getAttribute('class');
    if (!/passkey/i.test(protection) || !/PRF/.test(protection) || !/\bok\b/.test(cls ?? '')) return `#protection: ${JSON.stringify(protection)} (${cls})`;
    const creds = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
    if (creds.length !== 2 || !creds.every((c) => c.isResidentCredential)) return `${creds.length} credentials on the authenticator, expected 2 resident ones`;
    page.off('request', countWasm);
    if (wasm !== 1) return `the WASM was fetched ${wasm} times for one page`;
    await shot(page, 'empty-wallet');
    return { detail: `${JSON.stringify(protection.split(':')[0])}, WASM loaded once on demand, ${Date.now() - t0} ms` };
  });

  // 3. Receive through the issuer's same-device link.
  await must('3-receive-same-device', async () => {
    await page.goto(`${ISSUER}/me`);
    await page.getByRole('button', { name: 'Add residency credential to my wallet' }).click();
    await page.locator('#offer').waitFor({ state: 'visible' });
    const href = await page.locator('#offer-link').getAttribute('href');
    if (!href?.startsWith(`${WALLET}/receive?credential_offer_uri=`)) return `#offer-link is ${href}, not the wallet's /receive`;
    await page.locator('#offer-link').click();
    const asked = await unlockIfAsked(page, '#receive');
    await page.locator('#receive-button:not([disabled])').waitFor();
    if (await visible(page, '#tx-code-field')) return 'asks for a tx_code the issuer did not set';
    await shot(page, 'receive');
    await a11y(page, 'receive');
    const t0 = Date.now();
    await page.locator('#receive-button').click();
    await page.locator('#credentials .credential-card').first().waitFor();
    await page.locator('#credentials .credential-card .status', { hasText: /^valid$/ }).waitFor();
    const ms = Date.now() - t0;
    const cards = await page.locator('#credentials .credential-card').count();
    const copies = await text(page.locator('.credential-card .copies'));
    const st = await text(page.locator('#status'));
    const card = await text(page.locator('.credential-card'));
    if (cards !== 1) return `${cards} cards`;
    if (copies !== '5 unused copies') return `.copies says ${JSON.stringify(copies)}`;
    if (!/added/i.test(st)) return `#status says ${JSON.stringify(st)}`;
    for (const want of ['Anna', 'Municipality code', '0363', `localhost:${new URL(ISSUER).port}`, 'Valid until']) {
      if (!card.includes(want)) return `the card does not show ${JSON.stringify(want)}`;
    }
    if (new URL(page.url()).search) return `the offer link stayed in the address bar: ${page.url()}`;
    await shot(page, 'credential-card');
    await a11y(page, 'credentials');
    return { detail: `${asked ? 'unlocked, ' : ''}1 card, status valid, 5 copies, ${ms} ms` };
  });

  // 4. Open the budget example.
  await must('4-open-budget', async () => {
    const res = await page.goto(`${BUDGET}/`);
    if (res?.status() !== 200) return `GET / answered ${res?.status()}`;
    const h1 = await text(page.locator('h1'));
    await shot(page, 'budget');
    return { detail: h1 };
  });

  // 5. Share through the consent screen.
  let ballot;
  let benchMs = null;
  await must('5-consent-and-share', async () => {
    const started = await startBallot(page);
    ballot = started.ballot;
    const c = await openConsent(page);
    const want = ['Resident of municipality 0363', '16 or older', `Your pseudonym for ${PLATFORM_HOST}`];
    const missing = want.filter((w) => !c.items.includes(w));
    if (missing.length) return `consent items ${JSON.stringify(c.items)} lack ${JSON.stringify(missing)}`;
    if (c.items.length !== 3) return `${c.items.length} consent items: ${JSON.stringify(c.items)}`;
    if (!c.verifier.startsWith(`redirect_uri:${BUDGET}/v1/response/`)) return `#consent-verifier is ${JSON.stringify(c.verifier)}`;
    if (c.missingShown) return '#consent-missing shown though nothing is missing';
    await shot(page, 'consent');
    await a11y(page, 'consent');
    // Measure before sharing: 20 vp_token creations with a stored copy, nothing posted.
    const bench = await page.evaluate(() => window.__civicWalletBench(20));
    benchMs = bench.median_ms;
    const outcome = await share(page);
    if (outcome !== 'done') return outcome;
    const done = await text(page.locator('#present-done'));
    if (!done.includes('Shared. You can return to the platform.')) return `#present-done says ${JSON.stringify(done)}`;
    await shot(page, 'shared');
    return { detail: `${c.items.join(' / ')}; verifier ${c.verifier.slice(0, 40)}…` };
  });
  if (benchMs !== null) console.log(`wallet_present_ms_chromium: ${benchMs.toFixed(2)}`);

  // 6. Vote. The resident presses "Cast my vote" (a plain form POST).
  let formBug = null;
  await must('6-vote', async () => {
    const body = await openBallot(page, ballot);
    if (!/Checked: you can take part/.test(body)) return `ballot page: ${body.slice(0, 200)}`;
    await page.locator('#p-trees').check();
    const [req] = await Promise.all([
      page.waitForRequest((r) => r.method() === 'POST' && r.url().includes('/vote')),
      page.getByRole('button', { name: 'Cast my vote' }).click(),
    ]);
    await page.waitForLoadState('load');
    let after = await text(page.locator('main'));
    let how = 'form';
    const origin = await req.headerValue('origin');
    if (/sent from another site/.test(after) && origin === 'null') {
      // Known bug in examples/src/lib.rs: its pages send `Referrer-Policy: no-referrer`, so
      // Chromium sends `Origin: null` with a form POST, and the app's own Origin check refuses it.
      formBug = ('the ballot refuses its own form: the page sends Referrer-Policy: no-referrer, so '
        + 'Chromium posts Origin: null and Checks::same_origin answers 403 "This form was sent from another site" '
        + '(examples/src/lib.rs; fix: Referrer-Policy same-origin or strict-origin-when-cross-origin)');
      await shot(page, 'vote-form-refused');
      // Vote the way the server accepts (a same-origin fetch carries the real Origin) so the
      // later steps still run.
      await page.goto(ballot);
      const res = await page.evaluate(async (action) => {
        const r = await fetch(action, { method: 'POST', body: new URLSearchParams({ project: 'trees' }), credentials: 'same-origin' });
        return { status: r.status, html: await r.text() };
      }, new URL(await page.locator('form[action$="/vote"]').getAttribute('action'), ballot).href);
      after = res.html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
      how = `fetch, ${res.status}`;
    } else if (origin !== null && origin !== BUDGET) {
      return `the vote was posted with Origin ${origin}`;
    }
    if (!/Your vote for 200 street trees is counted/.test(after)) return `after voting: ${after.slice(0, 200)}`;
    await shot(page, 'voted');
    return { detail: `vote counted (${how})` };
  });
  await check('6-vote-form-in-browser', () => formBug ?? { detail: `the form POST carried Origin ${BUDGET}` });

  // 7. A second vote (a fresh check, another copy of the credential) is refused.
  await check('7-second-vote-refused', async () => {
    const started = await startBallot(page);
    // This time as a pasted openid4vp:// link (the same request as the same-device link).
    const pasted = `openid4vp://${started.link.slice(started.link.indexOf('?'))}`;
    await page.goto(`${WALLET}/`);
    await walletReady(page);
    await page.locator('#paste-link').fill(pasted);
    await page.locator('#open-link').click();
    await unlockIfAsked(page, '#consent');
    const items = await page.locator('#consent-items li').count();
    if (items !== 3) return `pasted link: ${items} consent items`;
    const outcome = await share(page);
    if (outcome !== 'done') return `sharing again: ${outcome}`;
    const body = await openBallot(page, started.ballot);
    if (/already voted/i.test(body) && !(await page.locator('input[name="project"]').count())) {
      await shot(page, 'second-vote-refused');
      return { detail: 'pasted openid4vp:// link; the ballot page says "You have already voted"' };
    }
    if (!(await page.locator('input[name="project"]').count())) return `ballot page: ${body.slice(0, 200)}`;
    await page.locator('#p-bikes').check();
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url().includes('/vote')),
      page.getByRole('button', { name: 'Cast my vote' }).click(),
    ]);
    if (res.status() !== 409) return `second vote answered ${res.status()}`;
    await shot(page, 'second-vote-refused');
    return { detail: '409 Conflict' };
  });

  // 8. Revoke at the issuer: the next presentation is refused, and the card says revoked.
  await check('8-revoked-presentation-refused', async () => {
    const res = await fetch(`${ISSUER}/admin/api/residents/${encodeURIComponent(opts.resident)}/revoke`, {
      method: 'POST', headers: { authorization: `Bearer ${opts['admin-token']}` },
    });
    if (!res.ok) return `revoke answered ${res.status}: ${(await res.text()).slice(0, 200)}`;
    await page.waitForTimeout(1500); // the issuer's status list ttl is 1 s
    const started = await startBallot(page);
    await openConsent(page);
    const outcome = await share(page);
    await shot(page, 'revoked-share');
    const body = await openBallot(page, started.ballot);
    if (!/revoked|not open to you/i.test(body)) return `ballot page after a revoked presentation: ${body.slice(0, 200)} (wallet: ${outcome})`;
    await shot(page, 'revoked-budget');
    return { detail: `wallet: ${outcome.slice(0, 90)}; budget: ${body.match(/[^.]*(revoked|not open to you)[^.]*\./i)?.[0]?.trim()}` };
  });
  await check('8-card-shows-revoked', async () => {
    await page.goto(`${WALLET}/`);
    await unlockIfAsked(page, '#wallet');
    await page.locator('.credential-card .status', { hasText: /^revoked$/ }).waitFor();
    const copies = await text(page.locator('.credential-card .copies'));
    // Three presentations (steps 5, 7, 8), one copy each; the measurement used none.
    if (copies !== '2 unused copies') return `.copies says ${JSON.stringify(copies)}, expected 2 left after 3 presentations`;
    await shot(page, 'card-revoked');
    return { detail: `status revoked after reload, ${copies}` };
  });

  // History: one entry per presentation, with when, to whom, which claims.
  await check('history-lists-presentations', async () => {
    const items = await page.locator('#history li').allTextContents();
    if (items.length !== 3) return `${items.length} history entries, expected 3`;
    if (!items.every((t) => t.includes(`localhost:${new URL(BUDGET).port}`) && t.includes('Resident of municipality 0363'))) return JSON.stringify(items[0]);
    return { detail: `${items.length} entries` };
  });

  // When the copies run out the wallet does not reuse one: it explains how to get a fresh batch.
  // (Two more presentations use the last copies; the verifier refuses them, revoked.) Then decline.
  await check('copies-run-out-fresh-batch-and-decline', async () => {
    for (let i = 0; i < 2; i++) {
      await startBallot(page);
      await openConsent(page);
      await share(page);
    }
    const started = await startBallot(page);
    await openConsent(page);
    const st = await text(page.locator('#status'));
    if (!(await page.locator('#share').isDisabled())) return '#share is enabled with no unused copy left';
    if (!/fresh batch/.test(st) || !/Add residency credential to my wallet/.test(st)) return `#status: ${JSON.stringify(st)}`;
    await shot(page, 'copies-used-up');
    await page.locator('#decline').click();
    await page.locator('#status', { hasText: 'Declined' }).waitFor();
    const body = await openBallot(page, started.ballot);
    if (!/declined/i.test(body)) return `ballot page after declining: ${body.slice(0, 160)}`;
    return { detail: 'share disabled, #status explains the fresh batch; decline reached the platform' };
  });

  // 9. Lock, reload: nothing readable without the passkey.
  await check('9-locked-nothing-readable', async () => {
    await page.goto(`${WALLET}/`);
    await unlockIfAsked(page, '#wallet');
    await page.locator('.credential-card').first().waitFor();
    await page.locator('#lock-button').click();
    await page.locator('#unlock').waitFor({ state: 'visible' });
    if (await page.locator('.credential-card').count()) return 'cards still in the page after locking';
    await page.reload();
    await walletReady(page);
    await page.locator('#unlock').waitFor({ state: 'visible' });
    const html = await page.content();
    if (await page.locator('.credential-card').count()) return 'cards shown without unlocking';
    const dump = await storageDump(page);
    const all = JSON.stringify(dump);
    const leaks = SECRETS.filter((s) => all.includes(s) || html.includes(s));
    if (leaks.length) return `readable without the passkey: ${leaks.join(', ')}`;
    if (/eyJ[\w-]*\.[\w-]*\.[\w-]*~/.test(all) || /~WyJ/.test(all)) return 'an SD-JWT is stored in the clear';
    if (!dump.indexedDB['civic-wallet/kv/vault']?.data) return 'no encrypted vault found in IndexedDB';
    const meta = dump.indexedDB['civic-wallet/kv/meta'];
    if (meta?.protection !== 'prf') return `meta says protection ${meta?.protection}`;
    if (dump.keys.some((k) => k.extractable)) return 'an extractable CryptoKey is stored';
    await shot(page, 'locked');
    return { detail: `IndexedDB: ${Object.keys(dump.indexedDB).join(', ')}; localStorage ${Object.keys(dump.localStorage).length} keys` };
  });
  await ctx.close();

  // Where PRF is missing: the fallback key, and the page says the wallet is less protected.
  const ctx2 = await browser.newContext(PHONE);
  const noPrf = await withAuthenticator(ctx2, 'no-prf', { prf: false });
  await ctx2.clock.install(); // a fake clock, to see the idle lock without waiting 5 minutes
  await check('fallback-without-prf-warns', async () => {
    const p = noPrf.page;
    await p.goto(`${WALLET}/`);
    await walletReady(p);
    await p.locator('#create-wallet').click();
    await p.locator('#wallet').waitFor({ state: 'visible' });
    const protection = await text(p.locator('#protection'));
    const cls = await p.locator('#protection').getAttribute('class');
    if (!/less protected/i.test(protection) || !/warning/.test(cls ?? '')) return `#protection: ${JSON.stringify(protection)}`;
    const dump = await storageDump(p);
    const key = dump.keys.find((k) => k.name.endsWith('/device-key'));
    if (!key || key.extractable || key.algorithm !== 'AES-GCM') return `device key: ${JSON.stringify(dump.keys)}`;
    await shot(p, 'fallback-warning');
    await p.locator('#lock-button').click();
    await p.locator('#unlock-button').click();
    await p.locator('#wallet').waitFor({ state: 'visible' });
    return { detail: `${JSON.stringify(protection.split(':')[0])}; non-extractable AES-GCM key in IndexedDB; unlocks again` };
  });
  await check('auto-lock-after-idle', async () => {
    const p = noPrf.page;
    await p.clock.fastForward('04:00');
    if (!(await p.locator('#wallet').isVisible())) return 'locked before the idle time (5 min) was up';
    await p.clock.fastForward('01:10');
    await p.locator('#unlock').waitFor({ state: 'visible' });
    if (await p.locator('#credentials li, #history li').count()) return 'decrypted entries left in the page';
    return { detail: 'open after 4 idle minutes, locked after 5 (default)' };
  });
  await ctx2.close();

  await check('no-page-errors', () => (pageErrors.length ? pageErrors.join('; ') : { detail: 'no uncaught exceptions' }));
  await check('no-csp-violations', () => (cspViolations.length ? cspViolations.join('; ') : { detail: 'none reported' }));
}

async function main() {
  const pw = await load('playwright-core');
  const { chromium } = pw.chromium ? pw : pw.default;
  const browser = await chromium.launch({
    executablePath: EXECUTABLE,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: STEP_MS,
  });
  log(`browser ${browser.version()}; issuer ${ISSUER}, wallet ${WALLET}, budget ${BUDGET}`);
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
const t0 = Date.now();
try {
  await main();
} catch (e) {
  fail('launch', (e?.message || String(e)).split('\n')[0]);
}
if (shots.length) console.log(`screenshots: ${shots.join(' ')}`);
console.log(`wallet_e2e_seconds: ${((Date.now() - t0) / 1000).toFixed(1)}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
