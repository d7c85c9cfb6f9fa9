/*
 * Step 5b of the browser wallet end-to-end test (wallet_e2e.mjs): a second budget that asks as a
 * certificate verifier (HAIP 1.0): `x509_hash:` client id, a request object signed with its
 * certificate's key (x5c) fetched by POST, the answer encrypted (direct_post.jwt). Its
 * certificate comes from a development CA (`civic-verifier dev-ca`) that the issuer publishes in
 * its platform registry, which the wallet read when it received the credential. The consent
 * screen names the verified organization, the platform gets its pseudonym, and the ballot opens.
 */
import { X509_BUDGET } from './wallet_e2e_config.mjs';
import { check, shot } from './wallet_e2e_harness.mjs';
import { openBallot, openConsent, share, startBallot } from './wallet_e2e_pages.mjs';

const X509_HOST = new URL(X509_BUDGET).host;

/** Step 5b in the resident's tab, which holds the credential from steps 1-4. */
export async function x509Steps(page) {
  await check('5b-x509-verifier-consent-and-share', async () => {
    const started = await startBallot(page, X509_BUDGET);
    const linkParams = new URL(started.link).searchParams;
    if (!linkParams.get('client_id')?.startsWith('x509_hash:')) return `the link's client_id is ${linkParams.get('client_id')}`;
    if (linkParams.get('request_uri_method') !== 'post' || !linkParams.has('request_uri')) return `not a signed request by reference, by POST: ${started.link.slice(0, 160)}`;
    const c = await openConsent(page);
    if (!c.host.startsWith(`Verified: Participatory Budget Teststad (${X509_HOST}), certified by your municipality's platform registry.`)) return `#consent-host is ${JSON.stringify(c.host)}`;
    if (await page.locator('#consent-host.unverified').count()) return '#consent-host is styled as not verified';
    const want = ['Resident of municipality 0363', '16 or older', `Your pseudonym for ${X509_HOST}`];
    const missing = want.filter((w) => !c.items.includes(w));
    if (missing.length || c.items.length !== 3) return `consent items ${JSON.stringify(c.items)}`;
    await shot(page, 'consent-x509');
    const bench = await page.evaluate(() => window.__civicWalletBench(5));
    if (bench.encryption !== 'A256GCM') return `the answer is not encrypted with A256GCM: ${JSON.stringify(bench.encryption)}`;
    const outcome = await share(page);
    if (outcome !== 'done') return outcome;
    const body = await openBallot(page, started.ballot);
    if (!/Checked: you can take part/.test(body)) return `ballot page: ${body.slice(0, 200)}`;
    return { detail: `x509_hash; ${c.host.slice(0, 70)}…; encrypted ${bench.encryption}; eligible` };
  });
}
