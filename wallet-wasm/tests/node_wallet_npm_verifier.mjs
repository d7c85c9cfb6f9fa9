// civic-id's wallet answers a verifier built from npm `@openid4vc/openid4vp` 0.4.6 (not our
// code), under Node.js. The library's Openid4vpVerifier makes the request the way its
// documentation shows (createOpenId4vpAuthorizationRequest: a `redirect_uri:` request by value
// in the link), once with `direct_post` and once with `direct_post.jwt` (a fresh P-256 key in
// `client_metadata.jwks`). The wallet (our WebAssembly behind wallet.js) reads the link,
// presents, and posts; the library parses and validates the answer
// (parseOpenid4vpAuthorizationResponse, decrypting with npm `jose`), and npm
// `@sd-jwt/sd-jwt-vc` verifies the presentation with the issuer's key from its
// `jwt-vc-issuer` metadata and the KB-JWT against the request's nonce (its aud is checked here:
// the library skips it).
//
//   node wallet-wasm/tests/node_wallet_npm_verifier.mjs --offer URL --tx-code CODE
//
// Prints ok/FAIL lines and "N passed, N failed"; exit code 1 on any failure.
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { builtWallet, checks, load } from './harness.mjs';

const { values: opts } = parseArgs({ options: { offer: { type: 'string' }, 'tx-code': { type: 'string' } } });
if (!opts.offer) {
  console.error('usage: node_wallet_npm_verifier.mjs --offer URL --tx-code CODE');
  process.exit(2);
}
const jose = await load('jose');
const vp = await load('@openid4vc/openid4vp');
const oauth2 = await load('@openid4vc/oauth2');
const { SDJwtVcInstance } = await load('@sd-jwt/sd-jwt-vc');
const { ES256, digest } = await load('@sd-jwt/crypto-nodejs');
const { Wallet, MemoryStorage, secretKeySource, wasm } = await builtWallet();
const { check, fail, finish } = checks();
const part = (jwt, i) => JSON.parse(Buffer.from(jwt.split('.')[i], 'base64url').toString('utf8'));

// Everything on 127.0.0.1 is plain http.
oauth2.setGlobalConfig({ allowInsecureUrls: true });

/** Where the wallet posts: every form received, by request number. */
const posts = new Map();
const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  if (req.method !== 'POST' || !url.pathname.startsWith('/response/')) {
    res.writeHead(404);
    res.end();
    return;
  }
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    posts.set(url.pathname.slice('/response/'.length), Object.fromEntries(new URLSearchParams(body)));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}`;

/** The ephemeral private keys of encrypted requests, by public key `kid`. */
const privateKeys = new Map();
const callbacks = {
  hash: (data, alg) => new Uint8Array(createHash(alg.replace('-', '').toLowerCase()).update(data).digest()),
  generateRandom: (n) => new Uint8Array(randomBytes(n)),
  signJwt: async () => { throw new Error('this verifier signs nothing (redirect_uri: requests are unsigned)'); },
  verifyJwt: async () => ({ verified: false }),
  encryptJwe: async () => { throw new Error('this verifier encrypts nothing'); },
  decryptJwe: async (jwe, options) => {
    const { kid } = jose.decodeProtectedHeader(jwe);
    const key = privateKeys.get(kid ?? options?.jwk?.kid);
    if (!key) return { decrypted: false };
    const { plaintext } = await jose.compactDecrypt(jwe, key.privateKey, { keyManagementAlgorithms: ['ECDH-ES'], contentEncryptionAlgorithms: ['A128GCM', 'A256GCM'] });
    return { decrypted: true, decryptionJwk: key.publicJwk, payload: new TextDecoder().decode(plaintext) };
  },
};
const verifier = new vp.Openid4vpVerifier({ callbacks });

let n = 0;
/** A request made by the library: by value, plain or encrypted, for `paths` of `vct`. */
async function makeRequest(paths, vct, encrypted) {
  n += 1;
  const responseUri = `${base}/response/${n}`;
  const clientMetadata = {
    vp_formats_supported: { 'dc+sd-jwt': { 'sd-jwt_alg_values': ['ES256'], 'kb-jwt_alg_values': ['ES256'] } },
  };
  if (encrypted) {
    const { privateKey, publicKey } = await jose.generateKeyPair('ECDH-ES', { crv: 'P-256', extractable: true });
    const publicJwk = { ...(await jose.exportJWK(publicKey)), kid: `ephemeral-${n}`, use: 'enc', alg: 'ECDH-ES' };
    privateKeys.set(publicJwk.kid, { privateKey, publicJwk });
    clientMetadata.jwks = { keys: [publicJwk] };
    clientMetadata.encrypted_response_enc_values_supported = ['A128GCM', 'A256GCM'];
  }
  const made = await verifier.createOpenId4vpAuthorizationRequest({
    authorizationRequestPayload: {
      response_type: 'vp_token',
      client_id: `redirect_uri:${responseUri}`,
      response_uri: responseUri,
      response_mode: encrypted ? 'direct_post.jwt' : 'direct_post',
      nonce: Buffer.from(randomBytes(24)).toString('base64url'),
      state: `state-${n}`,
      dcql_query: { credentials: [{ id: 'residency', format: 'dc+sd-jwt', meta: { vct_values: [vct] }, claims: paths.map((path) => ({ path })) }] },
      client_metadata: clientMetadata,
    },
  });
  return { n: String(n), ...made };
}

/** The issuer's ES256 key for `issuerJwt` (its `iss` and `kid`), from `jwt-vc-issuer` metadata. */
async function issuerKey(issuerJwt) {
  const { iss } = part(issuerJwt, 1);
  const { kid } = part(issuerJwt, 0);
  const u = new URL(iss);
  const meta = await (await fetch(`${u.origin}/.well-known/jwt-vc-issuer${u.pathname === '/' ? '' : u.pathname}`)).json();
  const jwk = (meta.jwks?.keys ?? []).find((k) => k.kid === kid);
  if (!jwk) throw new Error(`issuer ${iss} has no key ${kid}`);
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
}

try {
  const wallet = await Wallet.open({ storage: new MemoryStorage(), keySource: secretKeySource(crypto.getRandomValues(new Uint8Array(32))), wasm, autoLockMs: 0 });
  await wallet.unlock();
  const card = await wallet.receive(opts.offer, { copies: 2, txCode: opts['tx-code'] });
  check('receives a batch of 2 copies', card.unused_copies === 2, JSON.stringify(card));
  const paths = [['residence', 'municipality_code'], ['age_equal_or_over', '16']];

  for (const encrypted of [false, true]) {
    const mode = encrypted ? 'direct_post.jwt' : 'direct_post';
    const request = await makeRequest(paths, card.vct, encrypted);
    const link = new URL(request.authorizationRequest);
    check(`${mode}: the library's link carries the request by value`, !link.searchParams.has('request_uri') && link.searchParams.has('dcql_query'), request.authorizationRequest.slice(0, 120));
    const prepared = await wallet.prepare(request.authorizationRequest);
    check(`${mode}: the wallet reads it (consent for exactly the two claims, nothing refused)`, prepared.refused === null && prepared.items.length === 2 && prepared.credential_id === card.id && (prepared.encryption !== null) === encrypted, JSON.stringify({ refused: prepared.refused, items: prepared.items, encryption: prepared.encryption }));
    await wallet.present(prepared);
    const form = posts.get(request.n);
    check(`${mode}: posted ${encrypted ? 'only `response`' : '`vp_token` and `state`'}`, form !== undefined && Object.keys(form).sort().join() === (encrypted ? 'response' : 'state,vp_token'), JSON.stringify(form && Object.keys(form)));
    const parsed = await verifier.parseOpenid4vpAuthorizationResponse({
      authorizationResponse: form,
      authorizationRequestPayload: request.authorizationRequestPayload,
      callbacks, // the library's documentation passes them to this call too
    });
    check(`${mode}: the library parses and validates the answer`, parsed.type === 'dcql' && parsed.authorizationResponsePayload.state === `state-${request.n}`, JSON.stringify({ type: parsed.type, state: parsed.authorizationResponsePayload?.state }));
    const presentation = [parsed.dcql?.presentations?.residency ?? parsed.authorizationResponsePayload.vp_token?.residency].flat()[0];
    const issuerJwk = await issuerKey(presentation.split('~')[0]);
    const sdjwt = new SDJwtVcInstance({
      hasher: digest,
      hashAlg: 'sha-256',
      verifier: await ES256.getVerifier(issuerJwk),
      kbVerifier: async (data, sig, payload) => (await ES256.getVerifier(payload.cnf.jwk))(data, sig),
    });
    const verified = await sdjwt.verify(presentation, { keyBindingNonce: request.authorizationRequestPayload.nonce, requiredClaimKeys: ['residence.municipality_code', 'age_equal_or_over.16'] });
    const kb = verified.kb?.payload ?? {};
    check(`${mode}: @sd-jwt/sd-jwt-vc verifies it, key binding to this request's nonce and client id`, kb.nonce === request.authorizationRequestPayload.nonce && kb.aud === request.authorizationRequestPayload.client_id, JSON.stringify(kb));
    const shown = verified.payload ?? {};
    check(`${mode}: exactly the requested claims`, shown.residence?.municipality_code !== undefined && shown.age_equal_or_over?.['16'] === true && shown.given_name === undefined && shown.birthdate === undefined && shown.pseudonyms === undefined, JSON.stringify(Object.keys(shown)));
  }
} catch (e) {
  fail(`unexpected ${e?.stack ?? e}${e?.errorResponse ? `\n     error response: ${JSON.stringify(e.errorResponse)}` : ''}`);
} finally {
  await new Promise((resolve) => server.close(resolve));
}
finish();
