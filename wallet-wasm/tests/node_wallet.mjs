// The wallet's JS API under Node.js against the real issuer and verifier service on 127.0.0.1:
// receive a batch over OID4VCI, list with live status, present to the verifier service through
// OID4VP (consent model, one copy per presentation), decline, history, lock and unlock; and a
// hostile verifier that asks for pseudonyms not its own gets nothing.
//
//   node wallet-wasm/tests/node_wallet.mjs --offer URL --tx-code CODE --verifier BASE \
//        --platform-key KEY --other-platform ID [--policy vote]
//
// The issuer must have registered the verifier's origin (BASE) and ID as platforms, so the
// credential holds two pseudonyms.
//
// Prints ok/FAIL lines and "N passed, N failed"; exit code 1 on any failure.
import { parseArgs } from 'node:util';
import { builtWallet, checks, rejects } from './harness.mjs';
import { hostileVerifier } from './hostile_verifier.mjs';

const { values: opts } = parseArgs({
  options: {
    offer: { type: 'string' }, verifier: { type: 'string' }, 'platform-key': { type: 'string' },
    'other-platform': { type: 'string' }, 'tx-code': { type: 'string' }, policy: { type: 'string', default: 'vote' },
  },
});
if (!opts.offer || !opts.verifier || !opts['platform-key'] || !opts['other-platform']) {
  console.error('usage: node_wallet.mjs --offer URL --verifier BASE --platform-key KEY --other-platform ID [--policy NAME]');
  process.exit(2);
}
const { Wallet, MemoryStorage, secretKeySource, keyFromSecret, WalletError, wasm } = await builtWallet();
const { check, fail, finish } = checks();

async function platform(method, path, body) {
  const res = await fetch(`${opts.verifier}${path}`, {
    method,
    headers: { authorization: `Bearer ${opts['platform-key']}`, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  return res.json();
}

try {
  const storage = new MemoryStorage();
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const wallet = await Wallet.open({ storage, keySource: secretKeySource(secret), wasm, autoLockMs: 0 });
  check('locked until unlocked', (await rejects(() => wallet.list()))?.code === 'locked');
  await wallet.unlock();

  const withoutCode = await rejects(() => wallet.receive(opts.offer, { copies: 3 }));
  check('an offer asks for its transaction code', withoutCode?.code === 'tx_code_required', String(withoutCode));
  // What the wallet sends the issuer's token and credential endpoints, as the issuer sees it.
  const sent = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (url, init = {}) => {
    const res = await realFetch(url, init);
    if (/\/(token|credential)$/.test(String(url))) {
      sent.push({ url: String(url), headers: init.headers ?? {}, body: String(init.body ?? ''), status: res.status, type: res.headers.get('content-type') ?? '' });
    }
    return res;
  };
  const card = await wallet.receive(opts.offer, { copies: 3, txCode: opts['tx-code'] }).finally(() => { globalThis.fetch = realFetch; });
  check('receives a verified batch of 3 copies', card.unused_copies === 3 && card.vct.endsWith('/credentials/residency'), JSON.stringify(card));
  const tokenCalls = sent.filter((r) => r.url.endsWith('/token'));
  const credentialCall = sent.find((r) => r.url.endsWith('/credential') && r.status === 200);
  check('the token is bound to a DPoP key: sent back once for the issuer nonce, then granted',
    tokenCalls.length === 2 && tokenCalls.every((r) => typeof r.headers.dpop === 'string') && tokenCalls[0].status === 400 && tokenCalls[1].status === 200,
    JSON.stringify(tokenCalls.map((r) => r.status)));
  check('the credential request presents it as DPoP with a proof',
    credentialCall?.headers.authorization?.startsWith('DPoP ') && typeof credentialCall?.headers.dpop === 'string',
    JSON.stringify(credentialCall?.headers.authorization?.slice(0, 5)));
  const asked = JSON.parse(credentialCall?.body || '{}').credential_response_encryption;
  check('the credentials come sealed to a key made for the response (A256GCM), opened in WebAssembly',
    asked?.enc === 'A256GCM' && asked.jwk?.alg === 'ECDH-ES' && !('d' in asked.jwk) && credentialCall.type.startsWith('application/jwt'),
    JSON.stringify({ enc: asked?.enc, type: credentialCall?.type }));
  // The stored wallet as it is now, with three unused copies (for the rollback check below).
  const before = { vault: await storage.get('vault'), keys: await storage.get('keys') };
  const [listed] = await wallet.list({ liveStatus: true });
  check('lists the credential with labels and live status', listed.status === 'valid' && listed.labels.length > 5, JSON.stringify(listed.status));

  // A hostile verifier (its own origin) asks for pseudonyms that are not its own: the consent
  // screen says why the wallet refuses, nothing is posted and no copy is used.
  const hostile = await hostileVerifier();
  const own = new URL(opts.verifier).origin;
  const other = opts['other-platform'];
  const age = ['age_equal_or_over', '16'];
  const refusals = [
    ['both platforms\' pseudonyms', [['pseudonyms', own], ['pseudonyms', other], age], 'several pseudonyms'],
    ['another platform\'s pseudonym', [['pseudonyms', other], age], `pseudonym for ${other}`],
    ['the budget platform\'s pseudonym', [['pseudonyms', own], age], `pseudonym for ${own}`],
    ['every pseudonym', [['pseudonyms'], age], 'all your pseudonyms'],
  ];
  try {
    for (const [what, paths, words] of refusals) {
      const prepared = await wallet.prepare(hostile.link(paths, card.vct));
      check(`a hostile verifier asking for ${what} is refused on the consent screen`, typeof prepared.refused === 'string' && prepared.refused.includes(words) && prepared.credential_id === undefined, JSON.stringify(prepared.refused));
      const forced = await rejects(() => wallet.present({ ...prepared, refused: null, credential_id: card.id }));
      check(`  and a consent screen that ignored it gets no token (${what})`, forced?.code === 'pseudonym_refused', String(forced));
    }
    const fair = await wallet.prepare(hostile.link([age], card.vct));
    check('the same verifier asking for no pseudonym may be answered', fair.refused === null && fair.credential_id === card.id, JSON.stringify(fair.refused));
    check('the hostile verifier received nothing', hostile.posts.length === 0, JSON.stringify(hostile.posts));
    check('no copy was used by the refusals', (await wallet.list())[0].unused_copies === 3);
  } finally {
    await hostile.close();
  }

  const pseudonyms = [];
  for (let i = 0; i < 2; i++) {
    const session = await platform('POST', '/v1/sessions', { policy: opts.policy });
    const prepared = await wallet.prepare(session.openid4vp_url);
    const labels = prepared.items.map((x) => x.label);
    check(`consent ${i + 1}: plain words, nothing missing`, prepared.missing.length === 0 && labels.some((l) => l.startsWith('Resident of municipality')) && labels.some((l) => l.startsWith('Your pseudonym for')), JSON.stringify(labels));
    await wallet.present(prepared);
    const result = await platform('GET', `/v1/sessions/${session.id}`);
    check(`presentation ${i + 1} is eligible`, result.status === 'complete' && result.eligibility?.eligible === true, JSON.stringify(result));
    pseudonyms.push(result.eligibility?.pseudonym);
  }
  check('the same pseudonym for the same platform', pseudonyms[0] && pseudonyms[0] === pseudonyms[1]);
  check('each presentation used its own copy', (await wallet.list())[0].unused_copies === 1);

  // Someone puts the earlier stored wallet back, to show the spent copies again: refused.
  const after = { vault: await storage.get('vault'), keys: await storage.get('keys') };
  await storage.put('vault', before.vault);
  await storage.put('keys', before.keys);
  wallet.lock();
  const rolledBack = await rejects(() => wallet.unlock());
  check('an older stored wallet put back is refused', rolledBack?.code === 'vault_rolled_back', String(rolledBack));
  await storage.put('keys', { ...before.keys, n: after.keys.n });
  await storage.put('vault', { ...before.vault, n: after.vault.n });
  const relabelled = await rejects(() => wallet.unlock());
  check('an older wallet relabelled with the current save number does not decrypt', relabelled?.code === 'unlock_failed', String(relabelled));
  await storage.put('vault', after.vault);
  await storage.put('keys', after.keys);
  await wallet.unlock();
  check('the current stored wallet opens again', (await wallet.list())[0].unused_copies === 1);

  const session = await platform('POST', '/v1/sessions', { policy: opts.policy });
  const prepared = await wallet.prepare(session.openid4vp_url);
  await wallet.decline(prepared);
  check('a decline reaches the platform', (await platform('GET', `/v1/sessions/${session.id}`)).status === 'declined');
  const history = wallet.history();
  check('history records shares and declines', history.length === 3 && history[0].claims.length === 3 && history[2].outcome === 'declined', JSON.stringify(history));

  const last = await platform('POST', '/v1/sessions', { policy: opts.policy });
  await wallet.present(await wallet.prepare(last.openid4vp_url));
  const spent = await platform('POST', '/v1/sessions', { policy: opts.policy });
  const err = await rejects(async () => wallet.present(await wallet.prepare(spent.openid4vp_url)));
  check('copies are not reused when they run out', err instanceof WalletError && err.code === 'no_unused_copy', String(err));

  const blob = JSON.stringify(await storage.get('vault'));
  const keysBlob = JSON.stringify(await storage.get('keys'));
  check('the stored vault and keys are encrypted', !blob.includes('Anna') && !blob.includes('~') && !keysBlob.includes('"d"') && keysBlob.length > 100);
  // Decrypted, the vault record holds key ids only: private keys exist only in WASM memory and
  // in the separately encrypted key blob.
  const stored = await storage.get('vault');
  const dec = (s) => Uint8Array.from(Buffer.from(s, 'base64url'));
  const additionalData = new TextEncoder().encode(`civic-wallet/v2/vault/${stored.n}`);
  const plain = new TextDecoder().decode(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: dec(stored.iv), additionalData }, await keyFromSecret(secret), dec(stored.data)));
  check('the vault record holds no private key', plain.includes('"holder":"') && !plain.includes('"d":'), plain.slice(0, 120));
  wallet.lock();
  check('nothing is readable when locked', (await rejects(() => wallet.list()))?.code === 'locked');
  const thief = await Wallet.open({ storage, keySource: secretKeySource(crypto.getRandomValues(new Uint8Array(32))), wasm });
  check('another key does not open the vault', (await rejects(() => thief.unlock()))?.code === 'unlock_failed');
  await wallet.unlock();
  check('the right key opens it again', (await wallet.list()).length === 1 && wallet.history().length === 4);
} catch (e) {
  fail(`unexpected error: ${e.code ?? ''} ${e.stack ?? e}`);
}
finish();
