#!/usr/bin/env node
/*
 * The browser wallet end to end, in headless Chromium (playwright-core over CDP) on a phone
 * viewport, against the real issuer, the participatory_budget example (the verifier in-process)
 * and the wallet page (wallet-wasm/web/), each on its own origin. A CDP virtual authenticator
 * (CTAP2, internal, resident keys, user verification, PRF) stands in for the phone's screen lock;
 * one tab is used throughout, so the one authenticator serves the issuer and the wallet.
 *
 *   node tests/browser/wallet_e2e.mjs --issuer URL --code CODE --code2 CODE --code3 CODE \
 *        --admin-token TOKEN --wallet URL --budget URL --x509-budget URL --petitions URL [--artifacts DIR]
 *
 * Normally started by tests/browser/wallet_e2e.sh, which starts the services. The code must be an
 * unused enrollment code of resident D-0001 (Anna de Vries, born 1990, municipality 0363).
 * Steps: 1 enroll at the issuer; 2 create the wallet with a passkey (PRF); 3 receive the
 * credential through the same-device link; 4 open the budget; 5 share through the consent
 * screen; 6 vote; 7 a second vote is refused; 7b a hostile verifier asking for pseudonyms not
 * its own is refused on the consent screen and gets nothing; 5b a certificate verifier
 * (x509_hash, signed with x5c, encrypted answer) is shown as verified, by name; 8 revoke, the next presentation is refused and the
 * card says revoked; 9 lock and reload: nothing readable without the passkey; then the fallback
 * without PRF (a fresh context), accessibility basics, no page errors, no CSP violations.
 *
 * Prints ok/FAIL lines, `wallet_present_ms_chromium: X` (median of 20 answers, vp_token and encryption, in the
 * page, the WASM part of sharing) and "N passed, N failed"; exit 1 on any failure. Screenshots of
 * the main screens go to --artifacts (default tests/artifacts/). Bounded by
 * WALLET_E2E_TIMEOUT_MS (default 120000); the browser is always closed.
 *
 * Layout: wallet_e2e_config.mjs (options, constants, package loader), wallet_e2e_harness.mjs
 * (ok/FAIL counting, screenshots, authenticator, accessibility), wallet_e2e_pages.mjs (page
 * helpers), and the steps: wallet_e2e_steps_receive.mjs (1-4), wallet_e2e_steps_present.mjs (5-7),
 * wallet_e2e_steps_x509.mjs (5b), wallet_e2e_steps_hostile.mjs (7b),
 * wallet_e2e_steps_revoke_lock.mjs (8, 9, the fallback without PRF), wallet_e2e_steps_authorize.mjs (10,
 * the authorization code flow from the wallet page), wallet_e2e_steps_petitions.mjs (P1-P3, the
 * petitions example: propose, co-sign once, forwarded at the threshold), wallet_e2e_steps_language.mjs
 * (L1-L5: the wallet in Dutch for a Dutch browser, in English otherwise). This file runs them in order.
 */
import fs from 'node:fs';
import path from 'node:path';

import { ARTIFACTS, BUDGET, EXECUTABLE, ISSUER, PHONE, STEP_MS, TOTAL_MS, WALLET, load, log } from './wallet_e2e_config.mjs';
import {
  Abort, check, cspViolations, fail, failed, markTimedOut, pageErrors, passed, shots, withAuthenticator,
} from './wallet_e2e_harness.mjs';
import { receiveSteps } from './wallet_e2e_steps_receive.mjs';
import { presentSteps } from './wallet_e2e_steps_present.mjs';
import { hostileSteps } from './wallet_e2e_steps_hostile.mjs';
import { x509Steps } from './wallet_e2e_steps_x509.mjs';
import { revokeAndLockSteps, withoutPrfSteps } from './wallet_e2e_steps_revoke_lock.mjs';
import { authorizationCodeSteps } from './wallet_e2e_steps_authorize.mjs';
import { petitionForwardStep, petitionSteps } from './wallet_e2e_steps_petitions.mjs';
import { dutchSteps } from './wallet_e2e_steps_dutch.mjs';
import { languageSteps } from './wallet_e2e_steps_language.mjs';

async function run(browser) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  for (const f of fs.readdirSync(ARTIFACTS)) if (/^wallet-\d\d-[\w-]+\.png$/.test(f)) fs.rmSync(path.join(ARTIFACTS, f));
  const ctx = await browser.newContext(PHONE);
  const { page, cdp, authenticatorId } = await withAuthenticator(ctx, 'resident');

  await receiveSteps(page, cdp, authenticatorId);
  await languageSteps(browser, page);
  await presentSteps(page);
  await x509Steps(page);
  await hostileSteps(page);
  await revokeAndLockSteps(page);
  await ctx.close();

  await withoutPrfSteps(browser);
  await authorizationCodeSteps(browser, petitionSteps);
  await petitionForwardStep(browser);
  await dutchSteps(browser);

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
    timer = setTimeout(() => { markTimedOut(); reject(new Error(`whole run exceeded ${TOTAL_MS} ms`)); }, TOTAL_MS);
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
