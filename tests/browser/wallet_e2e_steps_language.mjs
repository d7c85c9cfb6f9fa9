/*
 * Languages of the wallet page (issue 17 item 4) in the browser wallet end-to-end test
 * (wallet_e2e.mjs). A Dutch browser (locale nl-NL, a fresh context with its own authenticator)
 * gets the wallet in Dutch: the setup screen, the credential card (received through an offer
 * link the resident's tab fetched at the issuer), the budget's consent screen, and the history
 * after declining; no English message of the catalogue is left on those screens, and the
 * language setting switches to English and back. Browsers asking for English (en-GB) or for a
 * language without a catalogue (de-DE) get English. Screenshots: wallet-NN-nl-*.png.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { ISSUER, PHONE, PLATFORM_HOST, ROOT, WALLET } from './wallet_e2e_config.mjs';
import { a11y, check, shot, withAuthenticator } from './wallet_e2e_harness.mjs';
import { startBallot, text, unlockIfAsked, visible, walletReady } from './wallet_e2e_pages.mjs';

const { MESSAGES } = await import(pathToFileURL(path.join(ROOT, 'wallet-wasm', 'web', 'messages.js')).href);
const nl = MESSAGES.nl;
const forms = (m) => (typeof m === 'string' ? [m] : Object.values(m));
// Pieces of English messages (between placeholders) that no Dutch message has: none may show
// on a Dutch screen.
const dutchText = Object.values(nl).flatMap(forms).join('\n');
const ENGLISH = [...new Set(Object.values(MESSAGES.en).flatMap(forms)
  .flatMap((m) => m.split(/\{\w+\}/)).map((s) => s.trim()).filter((s) => s.length >= 12 && !dutchText.includes(s)))];

/** The catalogue's English pieces shown on the page (its text, title and aria-labels). */
async function englishShown(page) {
  const shown = await page.evaluate(() => [document.title, document.body.innerText,
    ...[...document.querySelectorAll('[aria-label]')].map((e) => e.getAttribute('aria-label'))].join('\n').replace(/[ \t]+/g, ' '));
  return ENGLISH.filter((s) => shown.includes(s));
}

/** Fixed texts (data-i18n) that are not the Dutch message (the few set per state excepted). */
async function notDutch(page) {
  const fixed = await page.evaluate(() => [...document.querySelectorAll('[data-i18n]')]
    .filter((e) => !['setup-intro', 'unlock-why', 'tx-code-help'].includes(e.id))
    .map((e) => [e.dataset.i18n, e.textContent.replace(/\s+/g, ' ').trim()]));
  return fixed.filter(([key, shown]) => shown !== nl[key]).map(([key]) => key);
}

async function dutchScreen(page, what) {
  const english = await englishShown(page);
  if (english.length) return `${what}: English on a Dutch screen: ${JSON.stringify(english.slice(0, 3))}`;
  return null;
}

/** The language steps; `resident`: the resident's tab (enrolled at the issuer, steps 1-4). */
export async function languageSteps(browser, resident) {
  for (const locale of ['en-GB', 'de-DE']) {
    await check(`L1-${locale}-browser-gets-english`, async () => {
      const ctx = await browser.newContext({ ...PHONE, locale });
      try {
        const { page } = await withAuthenticator(ctx, `lang-${locale}`);
        await page.goto(`${WALLET}/`);
        await walletReady(page);
        await page.locator('#setup').waitFor({ state: 'visible' });
        const lang = await page.locator('html').getAttribute('lang');
        const h1 = await text(page.locator('h1'));
        const button = await text(page.locator('#create-wallet'));
        if (lang !== 'en' || h1 !== 'Your civic wallet' || button !== 'Create my wallet with a passkey') return `lang ${lang}, h1 ${JSON.stringify(h1)}, button ${JSON.stringify(button)}`;
        return { detail: `lang=en, "${h1}"` };
      } finally {
        await ctx.close();
      }
    });
  }

  const ctx = await browser.newContext({ ...PHONE, locale: 'nl-NL' });
  try {
    const { page } = await withAuthenticator(ctx, 'dutch');

    await check('L2-dutch-browser-setup-in-dutch', async () => {
      await page.goto(`${WALLET}/`);
      await walletReady(page);
      await page.locator('#setup').waitFor({ state: 'visible' });
      const lang = await page.locator('html').getAttribute('lang');
      const title = await page.title();
      const h1 = await text(page.locator('h1'));
      const button = await text(page.locator('#create-wallet'));
      if (lang !== 'nl' || title !== 'Burgerwallet' || h1 !== 'Je burgerwallet' || button !== 'Mijn wallet maken met een passkey') {
        return `lang ${lang}, title ${JSON.stringify(title)}, h1 ${JSON.stringify(h1)}, button ${JSON.stringify(button)}`;
      }
      const off = await notDutch(page);
      if (off.length) return `fixed texts not in Dutch: ${off.join(', ')}`;
      const english = await dutchScreen(page, 'setup');
      if (english) return english;
      await shot(page, 'nl-setup');
      await a11y(page, 'nl-setup');
      return { detail: `lang=nl, "${h1}", "${button}"` };
    });

    await check('L3-dutch-receive-and-card', async () => {
      // The resident's tab asks the issuer for an offer; the Dutch wallet redeems it.
      await resident.goto(`${ISSUER}/me`);
      await resident.getByRole('button', { name: 'Add residency credential to my wallet' }).click();
      await resident.locator('#offer').waitFor({ state: 'visible' });
      const href = await resident.locator('#offer-link').getAttribute('href');
      const txCode = (await text(resident.locator('#offer-tx-code'))).trim();
      if (!href?.startsWith(`${WALLET}/receive?`) || !/^\d{6}$/.test(txCode)) return `offer ${href}, code ${JSON.stringify(txCode)}`;
      await page.goto(href);
      await walletReady(page);
      await page.locator('#setup').waitFor({ state: 'visible' });
      const first = await text(page.locator('#status'));
      if (first !== nl['start.createFirst']) return `#status with an offer and no wallet: ${JSON.stringify(first)}`;
      await page.locator('#create-wallet').click();
      await page.locator('#receive-button:not([disabled])').waitFor();
      const from = await text(page.locator('#receive-from'));
      if (!from.endsWith('biedt je een inwonersbewijs aan.')) return `#receive-from: ${JSON.stringify(from)}`;
      await page.locator('#receive-button').click();
      const noCode = await text(page.locator('#status'));
      if (noCode !== nl['receive.codeFirst']) return `receiving without the code: ${JSON.stringify(noCode)}`;
      const english = await dutchScreen(page, 'receive');
      if (english) return english;
      await page.locator('#tx-code').fill(txCode);
      await page.locator('#receive-button').click();
      await page.locator('#credentials .credential-card .status', { hasText: /^geldig$/ }).waitFor();
      const card = await text(page.locator('.credential-card'));
      const heading = await text(page.locator('.credential-card h3'));
      const copies = await text(page.locator('.credential-card .copies'));
      const st = await text(page.locator('#status'));
      const protection = await text(page.locator('#protection'));
      if (heading !== 'Inwonersbewijs' || copies !== '5 ongebruikte kopieën') return `card ${JSON.stringify(heading)}, ${JSON.stringify(copies)}`;
      for (const want of ['Uitgegeven door localhost', 'Geldig tot', 'Status: geldig', 'Voornaam', 'Anna', 'Gemeentecode', '0363', '16 jaar of ouder', 'ja', 'Pseudoniemen voor']) {
        if (!card.includes(want)) return `the card does not show ${JSON.stringify(want)}: ${card.slice(0, 200)}`;
      }
      if (!st.startsWith('Toegevoegd: inwonersbewijs van localhost') || !st.endsWith('met 5 kopieën voor eenmalig gebruik.')) return `#status: ${JSON.stringify(st)}`;
      if (!protection.startsWith('Beveiligd met je passkey')) return `#protection: ${JSON.stringify(protection)}`;
      const english2 = await dutchScreen(page, 'card');
      if (english2) return english2;
      await shot(page, 'nl-credential-card');
      await a11y(page, 'nl-credentials');
      return { detail: `"${heading}", "${copies}", ${card.match(/Geldig tot [^S]*/)?.[0]?.trim()}` };
    });

    await check('L4-dutch-consent-and-decline', async () => {
      // The budget's request, started in the resident's tab, opened by the Dutch wallet.
      const { link } = await startBallot(resident);
      await page.goto(link);
      await unlockIfAsked(page, '#consent');
      await page.locator('#status').filter({ hasText: nl['consent.check'] }).waitFor();
      const title = await text(page.locator('#consent-title'));
      const items = await page.locator('#consent-items li').allTextContents();
      const host = await text(page.locator('#consent-host'));
      const copies = await text(page.locator('#consent-copies'));
      const buttons = [await text(page.locator('#share')), await text(page.locator('#decline'))];
      const want = ['Inwoner van gemeente 0363', '16 jaar of ouder', `Je pseudoniem voor ${PLATFORM_HOST}`];
      if (title !== 'Delen met dit platform?' || JSON.stringify(items) !== JSON.stringify(want)) return `consent ${JSON.stringify(title)}: ${JSON.stringify(items)}`;
      if (!host.startsWith('Niet geverifieerd: dit platform heeft niet bewezen wie het is.') || !host.includes(PLATFORM_HOST)) return `#consent-host: ${JSON.stringify(host)}`;
      if (copies !== 'Nog 5 ongebruikte kopieën over; delen kost er één.') return `#consent-copies: ${JSON.stringify(copies)}`;
      if (buttons.join('|') !== 'Delen|Weigeren') return `buttons ${JSON.stringify(buttons)}`;
      if (await visible(page, '#consent-missing')) return '#consent-missing shown though nothing is missing';
      const english = await dutchScreen(page, 'consent');
      if (english) return english;
      await shot(page, 'nl-consent');
      await a11y(page, 'nl-consent');
      await page.locator('#decline').click();
      await page.locator('#status.success').waitFor();
      const st = await text(page.locator('#status'));
      const history = await page.locator('#history li').allTextContents();
      if (st !== nl['decline.done']) return `after declining: ${JSON.stringify(st)}`;
      if (history.length !== 1 || !history[0].includes('Geweigerd: niets gedeeld') || !history[0].includes(`aan ${PLATFORM_HOST}`)) return `history ${JSON.stringify(history)}`;
      const english2 = await dutchScreen(page, 'history');
      if (english2) return english2;
      await shot(page, 'nl-declined-history');
      return { detail: `${items.join(' / ')}; "${buttons.join('", "')}"; declined: "${st}"` };
    });

    await check('L5-language-setting-overrides-the-browser', async () => {
      await page.locator('#settings summary').click();
      await page.locator('#language').selectOption('en');
      await page.locator('#save-settings').click();
      await page.locator('#status').filter({ hasText: 'Settings saved.' }).waitFor();
      const lang = await page.locator('html').getAttribute('lang');
      if (lang !== 'en') return `html lang ${lang} after choosing English`;
      const h1 = await text(page.locator('h1'));
      const copies = await text(page.locator('.credential-card .copies'));
      const st = await text(page.locator('#status'));
      if (h1 !== 'Your civic wallet' || copies !== '5 unused copies' || st !== 'Settings saved.') return `in English: ${JSON.stringify([h1, copies, st])}`;
      // A reload keeps the setting (locked: the unlock screen in English).
      await page.reload();
      await walletReady(page);
      const unlock = await text(page.locator('#unlock-button'));
      if (unlock !== 'Unlock with my passkey') return `after a reload: ${JSON.stringify(unlock)}`;
      await unlockIfAsked(page, '#wallet');
      await page.locator('#settings summary').click();
      await page.locator('#language').selectOption('auto');
      await page.locator('#save-settings').click();
      await page.locator('#status').filter({ hasText: nl['settings.saved'] }).waitFor();
      const back = [await page.locator('html').getAttribute('lang'), await text(page.locator('h1'))];
      if (back.join('|') !== 'nl|Je burgerwallet') return `back to the browser's language: ${JSON.stringify(back)}`;
      return { detail: 'English pinned (kept over a reload), then the browser\'s Dutch again' };
    });
  } finally {
    await ctx.close();
  }
}
