/*
 * Step 7b of the browser wallet end-to-end test (wallet_e2e.mjs): a hostile verifier on its own
 * origin asks the wallet, which holds pseudonyms for two platforms, for pseudonyms that are not
 * its own. The consent screen says why the wallet will not answer, sharing is not possible, and
 * the hostile verifier receives nothing.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { BUDGET, ISSUER, OTHER_PLATFORM, ROOT, WALLET } from './wallet_e2e_config.mjs';
import { check, shot } from './wallet_e2e_harness.mjs';
import { text, unlockIfAsked, walletReady } from './wallet_e2e_pages.mjs';

const { hostileVerifier } = await import(pathToFileURL(path.join(ROOT, 'wallet-wasm', 'tests', 'hostile_verifier.mjs')).href);

/** Step 7b in the resident's tab (the wallet holds the credential from steps 1-4). */
export async function hostileSteps(page) {
  const hostile = await hostileVerifier();
  const vct = `${ISSUER}/credentials/residency`;
  const age = ['age_equal_or_over', '16'];
  const cases = [
    ['both-pseudonyms', [['pseudonyms', BUDGET], ['pseudonyms', OTHER_PLATFORM], age], 'several pseudonyms'],
    ['other-platform', [['pseudonyms', OTHER_PLATFORM], age], `pseudonym for ${OTHER_PLATFORM}`],
    ['budget-platform', [['pseudonyms', BUDGET], age], `pseudonym for ${BUDGET}`],
  ];
  try {
    for (const [name, paths, words] of cases) {
      await check(`7b-hostile-verifier-${name}-refused`, async () => {
        await page.goto(`${WALLET}/`);
        await walletReady(page);
        await page.locator('#paste-link').fill(hostile.link(paths, vct));
        await page.locator('#open-link').click();
        await unlockIfAsked(page, '#consent');
        await page.locator('#status').filter({ hasText: 'will not answer' }).waitFor({ timeout: 10000 });
        const status = await text(page.locator('#status'));
        if (!status.includes(words)) return `#status says ${JSON.stringify(status)}`;
        if (!(await page.locator('#share').isDisabled())) return 'the share button is enabled';
        if (name === 'both-pseudonyms') await shot(page, 'hostile-refused');
        return { detail: status.slice(0, 120) };
      });
    }
    await check('7b-hostile-verifier-received-nothing', () => (hostile.posts.length === 0
      ? { detail: 'no answer was posted to the hostile verifier' }
      : `${hostile.posts.length} answers posted: ${hostile.posts.map((p) => p.body.slice(0, 60)).join(' | ')}`));
  } finally {
    await hostile.close();
  }
}
