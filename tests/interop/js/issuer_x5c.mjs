/*
 * Checks, with npm jose, @sd-jwt/jwt-status-list and node:crypto (code we did not write), that
 * civic-issuer's credentials and status list tokens carry the issuer's certificate chain in
 * `x5c` (HAIP 1.0 §6.1.1) and verify through it: each certificate chains to the trust anchor
 * the issuer's `dev-ca` wrote, the leaf names the issuer's host, and the leaf's key verifies
 * the JWT. And that npm `@openid4vc/openid4vci`'s client, given a JWT verifier, gets the issuer
 * metadata signed (OID4VCI 1.0 §12.2.3: it asks with `Accept: application/jwt`) and accepts it
 * through the same chain.
 *
 * usage: issuer_x5c.mjs --wallet wallet.json --anchor issuer-ca.pem
 * Exit 0 when every check passes, 1 otherwise.
 */
import fs from 'node:fs';
import crypto from 'node:crypto';
import { parseArgs } from 'node:util';
import { load } from './npm_load.mjs';

const log = (msg) => process.stderr.write(`${msg}\n`);

const { values: opts } = parseArgs({ options: { wallet: { type: 'string' }, anchor: { type: 'string' } } });
if (!opts.wallet || !opts.anchor) {
  log('usage: issuer_x5c.mjs --wallet wallet.json --anchor issuer-ca.pem');
  process.exit(2);
}
const jose = await load('jose');
const { getListFromStatusListJWT } = await load('@sd-jwt/jwt-status-list');
const anchor = new crypto.X509Certificate(fs.readFileSync(opts.anchor));
const wallet = JSON.parse(fs.readFileSync(opts.wallet, 'utf8'));

/** Verifies `jwt` through its x5c chain to the anchor; returns the payload. */
async function verifyThroughChain(what, jwt, host) {
  const header = jose.decodeProtectedHeader(jwt);
  if (!Array.isArray(header.x5c) || header.x5c.length === 0) throw new Error(`${what}: no x5c in the header`);
  const chain = header.x5c.map((c) => new crypto.X509Certificate(Buffer.from(c, 'base64')));
  const now = new Date();
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i];
    const issuer = chain[i + 1] ?? anchor;
    if (new Date(cert.validFrom) > now || new Date(cert.validTo) < now) throw new Error(`${what}: certificate ${i} is outside its validity`);
    if (!cert.checkIssued(issuer) || !cert.verify(issuer.publicKey)) throw new Error(`${what}: certificate ${i} does not chain to the anchor`);
  }
  if (chain.some((c) => c.fingerprint256 === anchor.fingerprint256)) throw new Error(`${what}: the anchor is in x5c`);
  const leaf = chain[0];
  if (!leaf.checkHost(host) && !leaf.checkIP(host)) throw new Error(`${what}: the leaf does not name ${host}`);
  const key = await jose.importX509(leaf.toString(), header.alg);
  const { payload } = await jose.compactVerify(jwt, key);
  log(`${what}: x5c chain to the anchor verified (${leaf.subject.replace(/\n/g, ', ')}), kid ${header.kid}`);
  return JSON.parse(new TextDecoder().decode(payload));
}

try {
  const issuerJwt = wallet.credentials[0].split('~')[0];
  const claims = await verifyThroughChain('credential', issuerJwt, new URL(wallet.credential_issuer).hostname);
  if (claims.iss !== wallet.credential_issuer) throw new Error(`credential iss ${claims.iss}`);
  const ref = claims.status?.status_list;
  if (!ref) throw new Error('credential has no status reference');
  const res = await fetch(ref.uri, { headers: { accept: 'application/statuslist+jwt' } });
  if (res.status !== 200) throw new Error(`status list ${ref.uri} answered ${res.status}`);
  const token = (await res.text()).trim();
  await verifyThroughChain('status list token', token, new URL(ref.uri).hostname);
  const status = getListFromStatusListJWT(token).getStatus(ref.idx);
  if (status !== 0) throw new Error(`status of index ${ref.idx} is ${status}, expected 0 (valid)`);
  log(`status list: index ${ref.idx} is valid`);

  // Signed issuer metadata, read by the npm OID4VCI client the way its types show: with a
  // verifyJwt callback it takes the JWT form (the callback checks the x5c chain to the anchor).
  // Its fetcher sends no Accept header, so this wallet's `fetch` callback asks for the JWT as
  // OID4VCI 1.0 §12.2.2 has a wallet do (`Accept: application/jwt`).
  const vci = await load('@openid4vc/openid4vci');
  const oauth2 = await load('@openid4vc/oauth2');
  oauth2.setGlobalConfig({ allowInsecureUrls: true });
  let checked = 0;
  const client = new vci.Openid4vciClient({
    callbacks: {
      fetch: (url, init) => (String(url).includes('/.well-known/openid-credential-issuer') && !init
        ? fetch(url, { headers: { accept: 'application/jwt, application/json;q=0.5' } })
        : fetch(url, init)),
      hash: (data, alg) => new Uint8Array(crypto.createHash(alg.replace('-', '').toLowerCase()).update(data).digest()),
      generateRandom: (n) => new Uint8Array(crypto.randomBytes(n)),
      signJwt: async () => { throw new Error('this client signs nothing'); },
      verifyJwt: async (signer, { compact }) => {
        if (signer.method !== 'x5c') return { verified: false };
        const host = new URL(wallet.credential_issuer).hostname;
        await verifyThroughChain('signed issuer metadata', compact, host);
        checked += 1;
        const key = await jose.importX509(new crypto.X509Certificate(Buffer.from(signer.x5c[0], 'base64')).toString(), signer.alg);
        return { verified: true, signerJwk: await jose.exportJWK(key) };
      },
    },
  });
  const resolved = await client.resolveIssuerMetadata(wallet.credential_issuer);
  const signed = resolved.signedCredentialIssuer;
  if (!signed || checked !== 1) throw new Error(`the client did not get signed metadata (${checked} JWTs checked)`);
  if (signed.jwt.header.typ !== 'openidvci-issuer-metadata+jwt') throw new Error(`signed metadata typ ${signed.jwt.header.typ}`);
  if (signed.jwt.payload.sub !== wallet.credential_issuer || resolved.credentialIssuer.credential_issuer !== wallet.credential_issuer) throw new Error('signed metadata for another issuer');
  if (!resolved.credentialIssuer.credential_configurations_supported?.residency_sd_jwt) throw new Error('signed metadata lacks the residency configuration');
  log('signed issuer metadata: read by @openid4vc/openid4vci, x5c chain to the anchor verified');
} catch (e) {
  log(`FAILED: ${e.message}`);
  process.exit(1);
}
