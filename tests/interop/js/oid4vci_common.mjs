/*
 * What the two OID4VCI wallets built on @openid4vc/openid4vci share (oid4vci_wallet.mjs, the
 * pre-authorized code flow; oid4vci_auth_code.mjs, the authorization code flow): the library's
 * callbacks with node:crypto, fresh ES256 keys, the batch credential request, the output file
 * verify_issued.py reads, and error reports.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { pkgVersion } from './npm_load.mjs';

export const PROOF_ALG = 'ES256';
export const log = (msg) => process.stderr.write(`${msg}\n`);
export class WalletFailure extends Error {}

/**
 * The library's callbacks, implemented with node:crypto and the global fetch. With `clientId`
 * the wallet names itself as a public client (the library's `clientAuthenticationNone`);
 * without, it stays anonymous (the pre-authorized code flow). `x5cKey` signs for an `x5c`
 * signer (a wallet provider's attestation).
 */
export function makeCallbacks(oauth2, keysByX, verbose, clientId, { x5cKey } = {}) {
  return {
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      if (verbose) log(`  ${init?.method ?? 'GET'} ${input} -> ${response.status} ${response.headers.get('content-type') ?? ''}`);
      return response;
    },
    hash: (data, alg) => new Uint8Array(crypto.createHash(alg.replace('-', '')).update(data).digest()),
    generateRandom: (n) => new Uint8Array(crypto.randomBytes(n)),
    clientAuthentication: clientId ? oauth2.clientAuthenticationNone({ clientId }) : oauth2.clientAuthenticationAnonymous(),
    signJwt: async (signer, { header, payload }) => {
      if (!['jwk', 'x5c'].includes(signer.method) || signer.alg !== PROOF_ALG) throw new WalletFailure(`unexpected signer ${signer.method}/${signer.alg}`);
      const key = signer.method === 'x5c' ? x5cKey : keysByX.get(signer.publicJwk.x);
      if (!key) throw new WalletFailure('signJwt called for a key this wallet does not hold');
      const b64 = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');
      const signingInput = `${b64(header)}.${b64(payload)}`;
      const sig = crypto.sign('sha256', Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' });
      return { jwt: `${signingInput}.${sig.toString('base64url')}`, signerJwk: signer.publicJwk ?? null };
    },
  };
}

/** A fresh P-256 key: the node:crypto private key, and both JWKs. */
export function newHolderKey() {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
  return { privateKey, publicJwk: { kty, crv, x, y }, privateJwk: privateKey.export({ format: 'jwk' }) };
}

/** A key back from its private JWK (kept between the steps of a flow). */
export function keyFromJwk(privateJwk) {
  const privateKey = crypto.createPrivateKey({ key: privateJwk, format: 'jwk' });
  const { kty, crv, x, y } = privateJwk;
  return { privateKey, publicJwk: { kty, crv, x, y }, privateJwk };
}

/**
 * The nonce, one proof per holder key, and the batch credential request, presenting the access
 * token with `dpop` (the library's DPoP options); the SD-JWTs. With `sealed` ({oauth, callbacks,
 * jose, enc}) the request asks for credential response encryption (OID4VCI §8.2) to a fresh
 * ECDH-ES key: it goes through the library's DPoP resource request (its credential client reads
 * JSON answers only), and npm jose opens the JWE.
 */
export async function requestBatch(client, { issuerMetadata, configId, keys, accessToken, dpop, accessTokenResponse, sealed }) {
  let nonce;
  if (issuerMetadata.credentialIssuer.nonce_endpoint) {
    ({ c_nonce: nonce } = await client.requestNonce({ issuerMetadata }));
  } else {
    nonce = accessTokenResponse?.c_nonce;
    log('note: issuer has no nonce_endpoint; using c_nonce from the token response (pre-1.0 behaviour)');
  }
  log(`signing ${keys.length} proof(s) and requesting credential ${configId}`);
  const jwts = [];
  for (const key of keys) {
    const { jwt } = await client.createCredentialRequestJwtProof({
      issuerMetadata, credentialConfigurationId: configId, nonce,
      signer: { method: 'jwk', alg: PROOF_ALG, publicJwk: key.publicJwk },
    });
    jwts.push(jwt);
  }
  const credentialResponse = sealed
    ? await sealedCredentials({ issuerMetadata, configId, jwts, accessToken, dpop, ...sealed })
    : (await client.retrieveCredentials({
      issuerMetadata, credentialConfigurationId: configId, proofs: { jwt: jwts }, accessToken, dpop,
    })).credentialResponse;
  if (credentialResponse.credential !== undefined) throw new WalletFailure("response carries pre-1.0 'credential'; 1.0 uses 'credentials'");
  if (!credentialResponse.credentials) throw new WalletFailure(`no credentials in response (deferred? ${JSON.stringify(credentialResponse)})`);
  const credentials = credentialResponse.credentials.map((entry, i) => {
    const c = typeof entry === 'object' && entry !== null ? entry.credential : entry;
    if (typeof entry !== 'object') log(`note: credentials[${i}] is a bare value, 1.0 wants {credential: ...}`);
    if (typeof c !== 'string' || !c.includes('~')) throw new WalletFailure(`credentials[${i}] is not an SD-JWT string`);
    return c;
  });
  if (credentials.length !== keys.length) throw new WalletFailure(`asked for ${keys.length} credential(s), got ${credentials.length}`);
  return credentials;
}

async function sealedCredentials({ issuerMetadata, configId, jwts, accessToken, dpop, oauth, callbacks, jose, enc }) {
  const supported = issuerMetadata.credentialIssuer.credential_response_encryption;
  if (!supported?.enc_values_supported?.includes(enc) || !supported.alg_values_supported?.includes('ECDH-ES')) {
    throw new WalletFailure(`the issuer does not offer ECDH-ES with ${enc}: ${JSON.stringify(supported)}`);
  }
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
  const body = {
    credential_configuration_id: configId, proofs: { jwt: jwts },
    credential_response_encryption: { jwk: { kty, crv, x, y, alg: 'ECDH-ES', use: 'enc' }, enc },
  };
  const answer = await oauth.resourceRequest({
    url: issuerMetadata.credentialIssuer.credential_endpoint, accessToken, dpop, callbacks,
    requestOptions: { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
  });
  const text = await answer.response.text();
  if (!answer.ok) throw new WalletFailure(`credential request: HTTP ${answer.response.status} ${text.slice(0, 300)}`);
  const type = answer.response.headers.get('content-type') ?? '';
  if (!type.startsWith('application/jwt')) throw new WalletFailure(`the sealed answer is ${type}, not application/jwt`);
  const { plaintext, protectedHeader } = await jose.compactDecrypt(text, privateKey);
  if (protectedHeader.alg !== 'ECDH-ES' || protectedHeader.enc !== enc) throw new WalletFailure(`sealed with ${protectedHeader.alg}/${protectedHeader.enc}`);
  log(`opened the sealed response with npm jose (${protectedHeader.alg}, ${protectedHeader.enc})`);
  return JSON.parse(new TextDecoder().decode(plaintext));
}

/** Writes what verify_issued.py reads: the credentials and the holder keys of their proofs. */
export function writeIssued(out, { credentialIssuer, configId, credentials, keys, issuerMetadata }) {
  const producer = `@openid4vc/openid4vci ${pkgVersion('@openid4vc/openid4vci')}`;
  const doc = {
    producer, credential_issuer: credentialIssuer, credential_configuration_id: configId,
    credentials,
    holder_public_jwks: keys.map((k) => k.publicJwk),
    holder_private_jwks: keys.map((k) => k.privateJwk),
    issuer_metadata: issuerMetadata.credentialIssuer,
  };
  fs.writeFileSync(out, `${JSON.stringify(doc, null, 2)}\n`);
  log(`ok: ${credentials.length} credential(s) written to ${out}`);
}

/** The library's errors carry the HTTP response; show what the issuer said. */
export async function describe(err) {
  let msg = err?.message ?? String(err);
  const response = err?.response?.response ?? err?.response;
  if (response && typeof response.status === 'number') {
    msg += `\n  HTTP ${response.status} ${response.url ?? ''}`;
    if (err.errorResponse) msg += `\n  error response: ${JSON.stringify(err.errorResponse)}`;
  }
  if (err?.cause?.message) msg += `\n  cause: ${err.cause.message}`;
  return msg;
}

/** Runs `main`, reporting a failure as `FAIL:` on stderr with exit status 1. */
export function runMain(main) {
  main().catch(async (err) => {
    log(`FAIL: ${err?.constructor?.name && err.constructor.name !== 'WalletFailure' ? `[${err.constructor.name}] ` : ''}${await describe(err)}`);
    process.exit(1);
  });
}
