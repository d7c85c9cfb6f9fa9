// The wallet and a certificate verifier (HAIP 1.0) under Node.js: the civic-verifier service
// with `[request_certificate]` asks under `x509_hash:` with request objects signed by its
// certificate's key (x5c), fetched by POST, answers encrypted. The wallet reads the issuer's
// platform registry when it receives credentials, checks the chain against its CA, shows the
// verified name, and gives the platform its pseudonym. The same request checked without that CA
// (a wallet whose registry does not vouch for the verifier) is unauthenticated and gets none.
//
//   node wallet-wasm/tests/node_wallet_x509.mjs --offer URL --tx-code CODE --verifier URL \
//     --platform-key KEY [--rogue-anchor CA.pem]
//
// Prints ok/FAIL lines and "N passed, N failed"; exit code 1 on any failure.
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { builtWallet, checks, rejects } from './harness.mjs';

const { values: opts } = parseArgs({
  options: {
    offer: { type: 'string' }, 'tx-code': { type: 'string' }, verifier: { type: 'string' },
    'platform-key': { type: 'string' }, 'rogue-anchor': { type: 'string' },
  },
});
if (!opts.offer || !opts.verifier || !opts['platform-key']) {
  console.error('usage: node_wallet_x509.mjs --offer URL --tx-code CODE --verifier URL --platform-key KEY [--rogue-anchor CA.pem]');
  process.exit(2);
}
const { Wallet, MemoryStorage, secretKeySource, loadCore, wasm } = await builtWallet();
const { check, finish } = checks();

async function api(method, path, body) {
  const res = await fetch(`${opts.verifier}${path}`, {
    method,
    headers: { authorization: `Bearer ${opts['platform-key']}`, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}
const session = async () => (await api('POST', '/v1/sessions', { policy: 'vote' })).body;

const wallet = await Wallet.open({ storage: new MemoryStorage(), keySource: secretKeySource(crypto.getRandomValues(new Uint8Array(32))), wasm, autoLockMs: 0 });
await wallet.unlock();
const card = await wallet.receive(opts.offer, { copies: 3, txCode: opts['tx-code'] });
check('receives a batch of 3 copies', card.unused_copies === 3, JSON.stringify(card));

const s = await session();
check('the session link names an x509_hash verifier, fetched by POST', /client_id=x509_hash%3A/.test(s?.openid4vp_url ?? '') && /request_uri_method=post/.test(s?.openid4vp_url ?? ''), s?.openid4vp_url);
const prepared = await wallet.prepare(s.openid4vp_url);
check('the chain leads to the registry CA: authenticated', prepared.authenticated === true && !prepared.unauthenticated_reason, JSON.stringify({ a: prepared.authenticated, r: prepared.unauthenticated_reason }));
check('  with the certificate\'s organization as the verified name', prepared.verifier_name === 'Participatory Budget Interop', prepared.verifier_name);
check('  and the verifier\'s origin as its platform', prepared.platform === new URL(opts.verifier).origin, prepared.platform);
check('  which may have its pseudonym', prepared.refused === null && prepared.credential_id === card.id && prepared.items.some((i) => i.claim.startsWith('pseudonyms.')), JSON.stringify(prepared.items?.map((i) => i.claim)));
check('  answered encrypted', prepared.encryption?.enc === 'A256GCM', JSON.stringify(prepared.encryption?.enc));
await wallet.present(prepared);
const result = (await api('GET', `/v1/sessions/${s.id}`)).body;
check('the platform reads eligible, with its pseudonym', result?.status === 'complete' && result?.eligibility?.eligible === true && typeof result?.eligibility?.pseudonym === 'string', JSON.stringify(result));

// The same kind of request, checked by a wallet whose anchors do not include the registry CA
// (the core as the page calls it, with only a rogue CA or none).
const core = await loadCore(wasm);
const s2 = await session();
const link = s2.openid4vp_url;
const { request_uri: requestUri, post } = JSON.parse(core.fetchPlan(link));
const object = await (await fetch(requestUri, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: post.form })).text();
const rogue = opts['rogue-anchor'] ? [fs.readFileSync(opts['rogue-anchor'], 'utf8').split('\n').filter((l) => l && !l.startsWith('-----')).join('')] : [];
// No credentials: what is checked here is who asks, not what the wallet holds.
const issued = '[]';
for (const [name, anchors] of [['a rogue CA', rogue], ['no anchors', []]]) {
  const unanchored = JSON.parse(core.prepareRequest(object, link, '', issued, post.wallet_nonce, JSON.stringify(anchors), Math.floor(Date.now() / 1000)));
  check(`with ${name}: not authenticated, says why`, unanchored.authenticated === false && /trusted anchor/.test(unanchored.unauthenticated_reason ?? ''), JSON.stringify(unanchored.unauthenticated_reason));
  check(`with ${name}: no pseudonym`, unanchored.platform === null && typeof unanchored.refused === 'string', unanchored.refused);
}
const tampered = await rejects(async () => core.prepareRequest(object.replace(/\.[^.]+$/, '.AAAA'), link, '', issued, post.wallet_nonce, '[]', Math.floor(Date.now() / 1000)));
check('a bad signature is refused outright', tampered !== null && /invalid_request_object/.test(String(tampered?.code ?? tampered)), String(tampered));
finish();
