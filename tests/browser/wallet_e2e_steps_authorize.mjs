/*
 * Step 10 of the browser wallet end-to-end test (wallet_e2e.mjs), in a second resident's own
 * browser: the authorization code flow (HAIP 1.0 §4). From the wallet page, "Get my residency
 * credential" sends the browser to the issuer, where the resident signs in with the passkey and
 * confirms; back in the wallet with a batch, presented to the budget example: eligible. No offer
 * link, no code typed. The issuer requires a wallet attestation (HAIP 1.0 §4.4.1): the wallet
 * gets one from the issuer's own wallet provider first, in the same sign-in. Then fresh copies
 * with the refresh token (and the attestation), without signing in again.
 */
import { ISSUER, PHONE, WALLET, opts } from './wallet_e2e_config.mjs';
import { a11y, check, shot, withAuthenticator } from './wallet_e2e_harness.mjs';
import { openBallot, openConsent, share, startBallot, text, unlockIfAsked, walletReady } from './wallet_e2e_pages.mjs';

/** Step 10 in a fresh context: Chloe enrolls at the issuer, creates her wallet, signs out.
 *  `then(page)`, if given, runs next in her tab (the petitions steps). */
export async function authorizationCodeSteps(browser, then) {
  const ctx = await browser.newContext(PHONE);
  const { page } = await withAuthenticator(ctx, 'second-resident');
  await check('10-wallet-initiated-authorization-code-flow', async () => {
    await page.goto(`${ISSUER}/enroll`);
    await page.locator('#code').fill(opts.code2);
    await page.locator('#enroll-form button[type="submit"]').click();
    await page.waitForURL((u) => u.pathname === '/me');
    await page.locator('#logout').click();
    await page.waitForURL((u) => u.pathname === '/login');
    await page.goto(`${WALLET}/`);
    await walletReady(page);
    await page.locator('#create-wallet').click();
    await page.locator('#wallet').waitFor({ state: 'visible' });

    // "Get my residency credential": the issuer requires a wallet attestation, so first to its
    // wallet provider, signed out: sign in, confirm the wallet.
    await page.locator('#issuer-url').fill(ISSUER);
    const t0 = Date.now();
    await page.locator('#get-credential').click();
    await page.waitForURL((u) => u.origin === ISSUER && u.pathname === '/wallet-provider');
    const signIn = await text(page.locator('main'));
    if (!/Civic wallet/.test(signIn) || !(await page.locator('#login-button').isVisible())) return `the wallet provider does not ask to sign in: ${signIn.slice(0, 160)}`;
    await page.locator('#login-button').click();
    await page.locator('[data-attest="approve"]').waitFor();
    const vouch = await text(page.locator('#wallet-attestation'));
    if (!vouch.includes(new URL(WALLET).host) || !/does not name you/.test(vouch)) return `the wallet provider does not say what it confirms: ${vouch}`;
    await a11y(page, 'issuer-wallet-provider');
    await page.locator('[data-attest="approve"]').click();

    // Back in the wallet (locked by the navigation): unlock, and on to the authorization page,
    // where the resident is still signed in: only the confirmation.
    await page.waitForURL((u) => u.origin === WALLET);
    await page.locator('#unlock').waitFor({ state: 'visible' });
    await page.locator('#unlock-button').click();
    await page.waitForURL((u) => u.origin === ISSUER && u.pathname === '/authorize');
    await page.locator('[data-authorize="approve"]').waitFor();
    const consent = await text(page.locator('#authorization'));
    if (!consent.includes(new URL(WALLET).host)) return `the confirmation does not say where the credential goes: ${consent}`;
    await shot(page, 'issuer-authorize');
    await a11y(page, 'issuer-authorize');
    await page.locator('[data-authorize="approve"]').click();

    // Back in the wallet (locked by the navigation): unlock, and the batch is there.
    await page.waitForURL((u) => u.origin === WALLET);
    const unlocked = await unlockIfAsked(page, '#wallet');
    await page.locator('#credentials .credential-card').first().waitFor();
    const ms = Date.now() - t0;
    const card = await text(page.locator('.credential-card'));
    const copies = await text(page.locator('.credential-card .copies'));
    const st = await text(page.locator('#status'));
    if (!card.includes('Chloe') || copies !== '5 unused copies' || !/added/i.test(st)) return `card ${JSON.stringify(card.slice(0, 80))}, ${copies}, #status ${JSON.stringify(st)}`;
    if (new URL(page.url()).search) return `the code stayed in the address bar: ${page.url()}`;
    await shot(page, 'authorized-card');

    // Presented to the budget: eligible.
    const { ballot } = await startBallot(page);
    await openConsent(page);
    const outcome = await share(page);
    if (outcome !== 'done') return outcome;
    const body = await openBallot(page, ballot);
    if (!/Checked: you can take part/.test(body)) return `ballot page: ${body.slice(0, 200)}`;

    // Fresh copies with the refresh token, no sign-in: the used copy goes, back to 5.
    await page.goto(`${WALLET}/`);
    await unlockIfAsked(page, '#wallet');
    await page.locator('.credential-card .copies', { hasText: '4 unused copies' }).waitFor();
    await page.locator('.refresh-credential').click();
    await page.locator('#status', { hasText: /Fresh copies/ }).waitFor();
    const refreshed = await text(page.locator('#status'));
    const after = await text(page.locator('.credential-card .copies'));
    if (after !== '5 unused copies' || !/1 used copy deleted/.test(refreshed)) return `after the refresh: ${after}; #status ${JSON.stringify(refreshed)}`;
    if (new URL(page.url()).origin !== WALLET) return `the refresh left the wallet: ${page.url()}`;
    return { detail: `signed in once at the issuer, wallet attested, confirmed, ${unlocked ? 'unlocked, ' : ''}5 copies in ${ms} ms; eligible at the budget; refreshed to 5 copies without a sign-in` };
  });
  if (then) await then(page);
  await ctx.close();
}
