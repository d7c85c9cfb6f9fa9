/*
 * Petitions steps of the browser wallet end-to-end test (wallet_e2e.mjs), against the petitions
 * example (examples/src/petitions.rs) with a threshold of 2 signatures:
 *   P1 (Chloe's tab, after step 10) she checks in through the wallet, submits a proposal and
 *      co-signs it: 1 of 2;
 *   P2 a second signature, with another copy of her credential through a fresh check, is
 *      refused (409): the pseudonym is the same for every copy;
 *   P3 a third resident (Daan, D-0004) on his own phone enrolls, creates his wallet, receives
 *      his credential and co-signs: 2 of 2, the proposal is forwarded to the council, and the
 *      public page and the council's feed say so.
 * (Anna's wallet is not used: steps 8 and 9 count her five copies.)
 */
import { ISSUER, PETITIONS, PHONE, WALLET, opts } from './wallet_e2e_config.mjs';
import { a11y, check, shot, withAuthenticator } from './wallet_e2e_harness.mjs';
import { openBallot, openConsent, share, text, unlockIfAsked, walletReady } from './wallet_e2e_pages.mjs';

const TITLE = 'Drinking fountains in every park';
const TEXT = 'Put a drinking fountain in each of the twelve parks before next summer.';

/** Starts a check on the petitions page and shares through the wallet; returns the check page's
 *  text, with `page` on it. */
async function checkIn(page) {
  await page.goto(`${PETITIONS}/`);
  await page.getByRole('button', { name: 'Propose or co-sign with my residency credential' }).click();
  await page.locator('#wallet-link').waitFor();
  const link = await page.locator('#wallet-link').getAttribute('href');
  if (!link?.startsWith(`${WALLET}/present?`)) throw new Error(`#wallet-link is ${link}`);
  const next = `${PETITIONS}${await page.locator('#check-status').getAttribute('data-next')}`;
  const c = await openConsent(page);
  if (c.items.length !== 3 || !c.items.includes('16 or older')) throw new Error(`consent items ${JSON.stringify(c.items)}`);
  const outcome = await share(page);
  if (outcome !== 'done') throw new Error(outcome);
  const body = await openBallot(page, next);
  if (!/Checked: you can take part/.test(body)) throw new Error(`check page: ${body.slice(0, 200)}`);
  return body;
}

/** The proposal's list item on the current page. */
const proposal = (page) => page.locator('li.proposal', { has: page.locator('h3', { hasText: TITLE }) });

/** Presses the Sign button of the proposal; returns the answer's status and the page's text. */
async function signIt(page) {
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/sign')),
    proposal(page).getByRole('button', { name: `Sign: ${TITLE}` }).click(),
  ]);
  await page.waitForLoadState('load');
  return { status: res.status(), body: await text(page.locator('main')) };
}

/** P1 and P2 in a resident's tab (her wallet holds copies of her credential). */
export async function petitionSteps(page) {
  await check('P1-propose-and-cosign', async () => {
    await checkIn(page);
    await page.locator('#title').fill(TITLE);
    await page.locator('#text').fill(TEXT);
    await page.getByRole('button', { name: 'Submit the proposal' }).click();
    await page.waitForLoadState('load');
    const published = await text(page.locator('main'));
    if (!/is published/.test(published)) return `after submitting: ${published.slice(0, 200)}`;
    await page.getByRole('link', { name: 'Back to the proposals' }).click();
    await a11y(page, 'petitions-resident');
    const signed = await signIt(page);
    if (signed.status !== 200 || !/Your signature is counted: 1 of 2\./.test(signed.body)) return `signing: ${signed.status} ${signed.body.slice(0, 200)}`;
    await shot(page, 'petition-signed');
    return { detail: 'proposal submitted; signed: 1 of 2' };
  });

  await check('P2-second-signature-from-another-copy-refused', async () => {
    await checkIn(page);
    // The page offers to withdraw, not to sign again: the same pseudonym signed already.
    if (!(await proposal(page).getByRole('button', { name: /Withdraw my signature/ }).count())) return 'the check page offers no withdrawal';
    // Post the sign form anyway, as a second device would that had the page open before.
    const res = await page.evaluate(async () => {
      const form = document.querySelector('form[action$="/withdraw"]');
      const action = form.getAttribute('action').replace(/\/withdraw$/, '/sign');
      const r = await fetch(action, { method: 'POST', body: new URLSearchParams(new FormData(form)), credentials: 'same-origin' });
      return { status: r.status, html: await r.text() };
    });
    if (res.status !== 409 || !/already signed/.test(res.html)) return `a second signature answered ${res.status}`;
    await page.goto(`${PETITIONS}/`);
    const count = await text(proposal(page).locator('.signatures'));
    if (count !== '1') return `the proposal shows ${count} signatures`;
    await shot(page, 'petition-second-signature-refused');
    return { detail: '409 "already signed"; still 1 of 2' };
  });
}

/** P3 in a fresh context: Daan enrolls, makes his wallet, receives his credential, co-signs. */
export async function petitionForwardStep(browser) {
  const ctx = await browser.newContext(PHONE);
  const { page } = await withAuthenticator(ctx, 'third-resident');
  await check('P3-threshold-forwards-the-proposal', async () => {
    await page.goto(`${ISSUER}/enroll`);
    await page.locator('#code').fill(opts.code3);
    await page.locator('#enroll-form button[type="submit"]').click();
    await page.waitForURL((u) => u.pathname === '/me');
    await page.goto(`${WALLET}/`);
    await walletReady(page);
    await page.locator('#create-wallet').click();
    await page.locator('#wallet').waitFor({ state: 'visible' });
    await page.goto(`${ISSUER}/me`);
    await page.getByRole('button', { name: 'Add residency credential to my wallet' }).click();
    await page.locator('#offer').waitFor({ state: 'visible' });
    const txCode = (await text(page.locator('#offer-tx-code'))).trim();
    await page.locator('#offer-link').click();
    await unlockIfAsked(page, '#receive');
    await page.locator('#tx-code').fill(txCode);
    await page.locator('#receive-button:not([disabled])').click();
    await page.locator('#credentials .credential-card', { hasText: 'Daan' }).waitFor();
    await checkIn(page);
    const signed = await signIt(page);
    if (signed.status !== 200 || !/2 of 2\. Your signature reached the threshold: the proposal is forwarded to the council\./.test(signed.body)) {
      return `signing: ${signed.status} ${signed.body.slice(0, 200)}`;
    }
    await page.goto(`${PETITIONS}/`);
    const item = await text(proposal(page));
    if (!/2 of 2 signatures Forwarded to the council/.test(item)) return `the public page shows ${JSON.stringify(item)}`;
    await shot(page, 'petition-forwarded');
    const feed = await (await page.request.get(`${PETITIONS}/forwarded.json`)).json();
    const f = feed.forwarded?.find((x) => x.title === TITLE);
    if (!f || f.signatures !== 2) return `the council's feed: ${JSON.stringify(feed)}`;
    return { detail: 'Daan enrolled and received on his phone; 2 of 2: forwarded; the public page and /forwarded.json show it' };
  });
  await ctx.close();
}
