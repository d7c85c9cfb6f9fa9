/*
 * Page helpers of the browser wallet end-to-end test (wallet_e2e.mjs): reading text, waiting for
 * and unlocking the wallet page, the budget's ballot and the consent screen, sharing, and a dump
 * of the wallet's browser storage.
 */
import { BUDGET, WALLET } from './wallet_e2e_config.mjs';

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

/** Starts a ballot check on the budget page (at `budget`); returns the same-device link and the
 *  ballot URL. */
async function startBallot(page, budget = BUDGET) {
  await page.goto(`${budget}/`);
  await page.getByRole('button', { name: 'Vote with my residency credential' }).click();
  await page.locator('#wallet-link').waitFor();
  const link = await page.locator('#wallet-link').getAttribute('href');
  const next = await page.locator('#check-status').getAttribute('data-next');
  if (!link?.startsWith(`${WALLET}/present?`)) throw new Error(`#wallet-link is ${link}, not the wallet's /present`);
  return { link, ballot: `${budget}${next}` };
}

/** Follows the same-device link to the wallet and waits for the consent screen. */
async function openConsent(page) {
  await page.locator('#wallet-link').click();
  const unlocked = await unlockIfAsked(page, '#consent');
  return {
    unlocked,
    verifier: await text(page.locator('#consent-verifier')),
    host: await text(page.locator('#consent-host')),
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

export {
  text,
  visible,
  walletReady,
  unlockIfAsked,
  startBallot,
  openConsent,
  share,
  openBallot,
  storageDump,
};
