/*
 * Test harness of the browser wallet end-to-end test (wallet_e2e.mjs): the ok/FAIL counters and
 * check/must, screenshots, page-error and CSP-violation collection, a tab with a CDP virtual
 * authenticator, and the accessibility checks.
 */
import path from 'node:path';

import { ARTIFACTS, PHONE, STEP_MS, log } from './wallet_e2e_config.mjs';

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

/** Called when the whole run exceeds its time: later check results are no longer reported. */
function markTimedOut() {
  timedOut = true;
}

export {
  passed,
  failed,
  ok,
  fail,
  check,
  Abort,
  must,
  markTimedOut,
  pageErrors,
  cspViolations,
  shots,
  shot,
  withAuthenticator,
  a11yProblems,
  a11y,
};
