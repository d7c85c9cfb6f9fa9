// The wallet's encrypted answers (direct_post.jwt) under Node.js: a verifier written here with
// npm `jose` (not our code) asks for an encrypted answer with a fresh P-256 key; the wallet's
// WebAssembly seals the answer (ECDH-ES, A128GCM or A256GCM), and jose's compactDecrypt opens
// it. Nothing travels in plain text beside `response`, a decline is sealed too, and a request
// for encryption without a usable key is refused rather than answered in plain text.
//
//   node wallet-wasm/tests/node_wallet_encrypted.mjs --offer URL --tx-code CODE
//
// Prints ok/FAIL lines and "N passed, N failed"; exit code 1 on any failure.
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { builtWallet, checks, load, rejects } from './harness.mjs';

const { values: opts } = parseArgs({ options: { offer: { type: 'string' }, 'tx-code': { type: 'string' } } });
if (!opts.offer) {
  console.error('usage: node_wallet_encrypted.mjs --offer URL --tx-code CODE');
  process.exit(2);
}
const jose = await load('jose');
const { Wallet, MemoryStorage, secretKeySource, wasm } = await builtWallet();
const { check, fail, finish } = checks();
const b64u = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');
const part = (jwt, i) => JSON.parse(Buffer.from(jwt.split('.')[i], 'base64url').toString('utf8'));

/** A verifier on 127.0.0.1 that asks for encrypted answers and opens them with jose. */
async function encryptingVerifier() {
  const requests = new Map();
  const posts = [];
  const fetches = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (req.method === 'GET' && url.pathname.startsWith('/request/')) {
      const made = requests.get(url.pathname.slice('/request/'.length));
      res.writeHead(made ? 200 : 404, { 'content-type': 'application/oauth-authz-req+jwt' });
      res.end(made ? made() : '');
      return;
    }
    if (req.method === 'POST' && url.pathname.startsWith('/request/')) {
      // request_uri_method=post: the wallet's metadata and nonce; the request echoes the nonce.
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        const form = Object.fromEntries(new URLSearchParams(body));
        fetches.push({ method: 'POST', type: req.headers['content-type'], form });
        const made = requests.get(url.pathname.slice('/request/'.length));
        res.writeHead(made ? 200 : 404, { 'content-type': 'application/oauth-authz-req+jwt' });
        res.end(made ? made(form.wallet_nonce) : '');
      });
      return;
    }
    if (req.method === 'POST' && url.pathname.startsWith('/response/')) {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        posts.push({ n: url.pathname.slice('/response/'.length), form: Object.fromEntries(new URLSearchParams(body)) });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
      return;
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  const keys = new Map();
  let n = 0;
  return {
    posts,
    fetches,
    /** A link to a fresh request for `paths`, its answer encrypted with `enc` (or, with `jwks: false`, no key). */
    async link(paths, vct, { enc = 'A128GCM', jwks = true, post = false, echo = (nonce) => nonce } = {}) {
      n += 1;
      const { privateKey, publicKey } = await jose.generateKeyPair('ECDH-ES', { crv: 'P-256', extractable: true });
      const kid = `ephemeral-${n}`;
      keys.set(String(n), privateKey);
      const responseUri = `${base}/response/${n}`;
      const clientId = `redirect_uri:${responseUri}`;
      const metadata = { encrypted_response_enc_values_supported: [enc].flat() };
      if (jwks) metadata.jwks = { keys: [{ ...(await jose.exportJWK(publicKey)), kid, use: 'enc', alg: 'ECDH-ES' }] };
      const payload = {
        response_type: 'vp_token', client_id: clientId, response_mode: 'direct_post.jwt', response_uri: responseUri,
        nonce: `nonce-${n}`, state: `state-${n}`, client_metadata: metadata,
        dcql_query: { credentials: [{ id: 'residency', format: 'dc+sd-jwt', meta: { vct_values: [vct] }, claims: paths.map((path) => ({ path })) }] },
      };
      requests.set(String(n), (walletNonce) => {
        const echoed = walletNonce === undefined ? {} : { wallet_nonce: echo(walletNonce) };
        return `${b64u({ alg: 'none', typ: 'oauth-authz-req+jwt' })}.${b64u({ ...payload, ...echoed })}.`;
      });
      const q = new URLSearchParams({ client_id: clientId, request_uri: `${base}/request/${n}` });
      if (post) q.set('request_uri_method', 'post');
      return { url: `openid4vp://?${q}`, n: String(n), clientId, kid };
    },
    /** Opens the answer posted for request `n` with jose. */
    async open(n) {
      const post = posts.find((p) => p.n === n);
      const { plaintext, protectedHeader } = await jose.compactDecrypt(post.form.response, keys.get(n), {
        keyManagementAlgorithms: ['ECDH-ES'], contentEncryptionAlgorithms: ['A128GCM', 'A256GCM'],
      });
      return { fields: Object.keys(post.form), header: protectedHeader, payload: JSON.parse(new TextDecoder().decode(plaintext)) };
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

const verifier = await encryptingVerifier();
try {
  const wallet = await Wallet.open({ storage: new MemoryStorage(), keySource: secretKeySource(crypto.getRandomValues(new Uint8Array(32))), wasm, autoLockMs: 0 });
  await wallet.unlock();
  const card = await wallet.receive(opts.offer, { copies: 2, txCode: opts['tx-code'] });
  check('receives a batch of 2 copies', card.unused_copies === 2, JSON.stringify(card));
  const paths = [['residence', 'municipality_code'], ['age_equal_or_over', '16']];

  for (const enc of ['A128GCM', 'A256GCM']) {
    const req = await verifier.link(paths, card.vct, { enc });
    const prepared = await wallet.prepare(req.url);
    check(`${enc}: the consent screen has the verifier's key`, prepared.encryption?.enc === enc && prepared.encryption?.jwk?.kid === req.kid && prepared.refused === null, JSON.stringify(prepared.encryption));
    await wallet.present(prepared);
    const opened = await verifier.open(req.n);
    check(`${enc}: only \`response\` is posted`, opened.fields.length === 1 && opened.fields[0] === 'response', JSON.stringify(opened.fields));
    check(`${enc}: jose opens it (ECDH-ES, ${enc}, the request's kid)`, opened.header.alg === 'ECDH-ES' && opened.header.enc === enc && opened.header.kid === req.kid && opened.header.epk?.crv === 'P-256', JSON.stringify(opened.header));
    const sdJwt = opened.payload.vp_token?.residency?.[0] ?? '';
    const kb = sdJwt.slice(sdJwt.lastIndexOf('~') + 1);
    const kbPayload = kb ? part(kb, 1) : {};
    check(`${enc}: inside, the presentation bound to this request and the state`, opened.payload.state === `state-${req.n}` && kbPayload.nonce === `nonce-${req.n}` && kbPayload.aud === req.clientId, JSON.stringify(kbPayload));
    const disclosed = sdJwt.split('~').slice(1, -1).map((d) => JSON.parse(Buffer.from(d, 'base64url').toString('utf8')));
    const names = disclosed.map((d) => d[d.length - 2]);
    check(`${enc}: exactly the requested claims`, names.includes('municipality_code') && names.includes('16') && !names.includes('given_name') && !names.includes('birthdate'), JSON.stringify(names));
  }

  const both = await wallet.prepare((await verifier.link(paths, card.vct, { enc: ['A128GCM', 'A256GCM'] })).url);
  check('both offered: the wallet uses A256GCM (HAIP 1.0 §5)', both.encryption?.enc === 'A256GCM', JSON.stringify(both.encryption?.enc));

  // request_uri_method=post: the wallet POSTs its metadata and a fresh nonce, and takes the
  // request only if it echoes that nonce.
  const byPost = await wallet.prepare((await verifier.link(paths, card.vct, { post: true })).url);
  const fetched = verifier.fetches.at(-1);
  const metadata = fetched?.form?.wallet_metadata ? JSON.parse(fetched.form.wallet_metadata) : {};
  check('request_uri_method=post: the wallet posts its metadata and a nonce', fetched?.type === 'application/x-www-form-urlencoded' && (fetched?.form?.wallet_nonce ?? '').length >= 32 && metadata.vp_formats_supported?.['dc+sd-jwt'] !== undefined && metadata.authorization_encryption_enc_values_supported?.includes('A256GCM'), JSON.stringify(fetched));
  check('  and takes the request that echoes it', byPost.refused === null && byPost.credential_id === card.id, JSON.stringify(byPost.refused));
  const replayed = await rejects(async () => wallet.prepare((await verifier.link(paths, card.vct, { post: true, echo: () => 'an-older-nonce' })).url));
  check('  but not one that echoes another nonce', replayed?.code === 'invalid_request_object', String(replayed));

  const declined = await verifier.link(paths, card.vct);
  await wallet.decline(await wallet.prepare(declined.url));
  const openedDecline = await verifier.open(declined.n);
  check('a decline is sealed too', openedDecline.fields.length === 1 && openedDecline.payload.error === 'access_denied' && openedDecline.payload.state === `state-${declined.n}`, JSON.stringify(openedDecline.payload));

  const keyless = await verifier.link(paths, card.vct, { jwks: false });
  const err = await rejects(() => wallet.prepare(keyless.url));
  check('encryption asked for without a key: refused, not answered in plain text', err?.code === 'invalid_request' && /plain text/.test(err.message), String(err));
  check('nothing was posted in plain text', verifier.posts.every((p) => Object.keys(p.form).join() === 'response'), JSON.stringify(verifier.posts.map((p) => Object.keys(p.form))));
} catch (e) {
  fail(`unexpected ${e?.stack ?? e}`);
} finally {
  await verifier.close();
}
finish();
