/*
 * Languages (issue 17 item 4) in the browser wallet end-to-end test (wallet_e2e.mjs): a phone
 * whose browser asks for Dutch (locale nl-NL, so Accept-Language: nl-NL) gets the issuer's
 * resident pages, the budget and the petitions example in Dutch, each with <html lang="nl">;
 * screenshots go to the artifacts (wallet-NN-nl-*.png).
 */
import { BUDGET, ISSUER, PETITIONS, PHONE } from './wallet_e2e_config.mjs';
import { a11y, check, shot } from './wallet_e2e_harness.mjs';
import { text } from './wallet_e2e_pages.mjs';

const PAGES = [
  ['issuer-enroll', `${ISSUER}/enroll`, ['Stel je passkey in', 'Activeringscode']],
  ['issuer-login', `${ISSUER}/login`, ['Inloggen met een passkey']],
  ['budget', `${BUDGET}/`, ['Burgerbegroting 2027', 'Stem met mijn inwonersbewijs']],
  ['petitions', `${PETITIONS}/`, ['Voorstellen voor Teststad', 'Doe een voorstel of teken mee met mijn inwonersbewijs']],
];

/** In a fresh Dutch context: every page above, then a check's prompt on the petitions site. */
export async function dutchSteps(browser) {
  const ctx = await browser.newContext({ ...PHONE, locale: 'nl-NL' });
  const page = await ctx.newPage();
  for (const [name, url, words] of PAGES) {
    await check(`nl-${name}`, async () => {
      await page.goto(url);
      const lang = await page.locator('html').getAttribute('lang');
      if (lang !== 'nl') return `<html lang="${lang}">`;
      const body = await text(page.locator('body'));
      const missing = words.filter((w) => !body.includes(w));
      if (missing.length) return `no ${JSON.stringify(missing)} in ${body.slice(0, 200)}`;
      if (body.includes('⟦')) return `a message is missing: ${body.slice(0, 200)}`;
      await shot(page, `nl-${name}`);
      return { detail: words.join(' / ') };
    });
  }
  await check('nl-petitions-check-prompt', async () => {
    await page.goto(`${PETITIONS}/`);
    await page.getByRole('button', { name: 'Doe een voorstel of teken mee met mijn inwonersbewijs' }).click();
    await page.locator('#wallet-link').waitFor();
    const body = await text(page.locator('main'));
    for (const w of ['Laat je inwonersbewijs zien', 'Open mijn wallet op dit apparaat', 'je gemeente', 'Wachten op je wallet']) {
      if (!body.includes(w)) return `no ${JSON.stringify(w)} in ${body.slice(0, 300)}`;
    }
    await shot(page, 'nl-petitions-prompt');
    await a11y(page, 'nl-petitions-prompt');
    return { detail: 'prompt, what is asked and the live status in Dutch' };
  });
  await ctx.close();
}
