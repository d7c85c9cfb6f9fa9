/*
 * The later steps of the browser wallet end-to-end test (wallet_e2e.mjs): step 8 revoke (the next
 * presentation is refused, the card says revoked), the history, copies running out and declining,
 * step 9 lock and reload; then, in a fresh context, the fallback without PRF and the idle lock.
 */
import { BUDGET, ISSUER, PHONE, SECRETS, WALLET, X509_BUDGET, opts } from './wallet_e2e_config.mjs';
import { check, shot, withAuthenticator } from './wallet_e2e_harness.mjs';
import { openBallot, openConsent, share, startBallot, storageDump, text, unlockIfAsked, walletReady } from './wallet_e2e_pages.mjs';

/** Step 8, history, copies running out, step 9, in the resident's tab after steps 1-7. */
export async function revokeAndLockSteps(page) {
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
    // Four presentations (steps 5, 5b, 7, 8), one copy each; the measurements used none.
    if (copies !== '1 unused copy') return `.copies says ${JSON.stringify(copies)}, expected 1 left after 4 presentations`;
    await shot(page, 'card-revoked');
    return { detail: `status revoked after reload, ${copies}` };
  });

  // History: one entry per presentation, with when, to whom, which claims.
  await check('history-lists-presentations', async () => {
    const items = await page.locator('#history li').allTextContents();
    if (items.length !== 4) return `${items.length} history entries, expected 4`;
    // The budget's three and the certificate budget's one (step 5b).
    const to = (url) => items.filter((t) => t.includes(`localhost:${new URL(url).port}`)).length;
    if (to(BUDGET) !== 3 || to(X509_BUDGET) !== 1) return `entries per verifier: ${to(BUDGET)} and ${to(X509_BUDGET)}`;
    if (!items.every((t) => t.includes('Resident of municipality 0363'))) return JSON.stringify(items[0]);
    return { detail: `${items.length} entries` };
  });

  // When the copies run out the wallet does not reuse one: it explains how to get a fresh batch.
  // (One more presentation uses the last copy; the verifier refuses it, revoked.) Then decline.
  await check('copies-run-out-fresh-batch-and-decline', async () => {
    for (let i = 0; i < 1; i++) {
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
}

/** The fallback without PRF and the idle lock, in a fresh browser context of its own. */
export async function withoutPrfSteps(browser) {
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
}
