/*
 * Steps 1-4 of the browser wallet end-to-end test (wallet_e2e.mjs): enroll at the issuer, create
 * the wallet with a passkey (PRF), receive the credential through the same-device link, open the
 * budget. Each is a `must`: a failure stops the run.
 */
import { BUDGET, ISSUER, WALLET, opts } from './wallet_e2e_config.mjs';
import { a11y, must, shot } from './wallet_e2e_harness.mjs';
import { text, unlockIfAsked, visible, walletReady } from './wallet_e2e_pages.mjs';

/** Steps 1-4 in the resident's tab (`cdp`/`authenticatorId`: its virtual authenticator). */
export async function receiveSteps(page, cdp, authenticatorId) {
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
    // The issuer shows the transaction code next to the offer; the wallet asks for it.
    const txCode = (await text(page.locator('#offer-tx-code'))).trim();
    if (!/^\d{6}$/.test(txCode) || !(await visible(page, '#offer-tx'))) return `no 6-digit transaction code shown beside the offer (${JSON.stringify(txCode)})`;
    await page.locator('#offer-link').click();
    const asked = await unlockIfAsked(page, '#receive');
    await page.locator('#receive-button:not([disabled])').waitFor();
    if (!(await visible(page, '#tx-code-field'))) return 'the wallet does not ask for the transaction code';
    await page.locator('#receive-button').click();
    const empty = await text(page.locator('#status'));
    if (!/transaction code/i.test(empty)) return `receiving without the code: #status says ${JSON.stringify(empty)}`;
    await page.locator('#tx-code').fill(txCode);
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
}
