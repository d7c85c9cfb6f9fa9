#!/usr/bin/env node
/*
 * OID4VCI 1.0 wallet (pre-authorized code flow) built on @openid4vc/openid4vci 0.4.6, a
 * library we did not write.  It drives the civic-id issuer the way a third-party wallet would.
 *
 *   NODE_PATH=$PWD/.tools/node/node_modules node tests/interop/js/oid4vci_wallet.mjs \
 *     --offer 'openid-credential-offer://?credential_offer_uri=...' [--tx-code 123456] \
 *     [--copies N] [--https-only] [--verbose] --out FILE.json
 *
 * Steps (all through the library's Openid4vciClient): resolve the offer (by value or by
 * reference), resolve issuer + authorization server metadata, redeem the pre-authorized code
 * (anonymous client), get a c_nonce from the nonce endpoint, sign one openid4vci-proof+jwt per
 * copy with a fresh ES256 holder key, and send one credential request with proofs.jwt[].
 *
 * OUT: {producer, credential_issuer, credential_configuration_id, credentials: [sd-jwt...],
 *       holder_public_jwks: [...], holder_private_jwks: [...], issuer_metadata}
 * holder_*_jwks[i] is the key of proofs.jwt[i]; the issuer may return credentials in another
 * order, so verify_issued.py matches by cnf.jwk.  Exit 0 ok, 1 failure (FAIL: on stderr), 2 usage.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { load, pkgVersion } from './npm_load.mjs';

const PROOF_ALG = 'ES256';
const log = (msg) => process.stderr.write(`${msg}\n`);
class WalletFailure extends Error {}

function usage(msg) {
  log(`usage error: ${msg}`);
  log("usage: oid4vci_wallet.mjs --offer 'openid-credential-offer://?...' [--tx-code CODE] [--copies N] [--https-only] [--verbose] --out FILE.json");
  process.exit(2);
}

function parseCli() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        offer: { type: 'string' }, 'tx-code': { type: 'string' }, copies: { type: 'string', default: '1' },
        out: { type: 'string' }, 'https-only': { type: 'boolean', default: false }, verbose: { type: 'boolean', default: false },
      },
    }));
  } catch (e) { usage(e.message); }
  if (!values.offer) usage('--offer is required');
  if (!values.out) usage('--out is required');
  const copies = Number(values.copies);
  if (!Number.isInteger(copies) || copies < 1) usage('--copies must be a positive integer');
  return { ...values, copies };
}

/** The library's callbacks, implemented with node:crypto and the global fetch. */
function makeCallbacks(oauth2, keysByX, verbose) {
  return {
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      if (verbose) log(`  ${init?.method ?? 'GET'} ${input} -> ${response.status} ${response.headers.get('content-type') ?? ''}`);
      return response;
    },
    hash: (data, alg) => new Uint8Array(crypto.createHash(alg.replace('-', '')).update(data).digest()),
    generateRandom: (n) => new Uint8Array(crypto.randomBytes(n)),
    clientAuthentication: oauth2.clientAuthenticationAnonymous(),
    signJwt: async (signer, { header, payload }) => {
      if (signer.method !== 'jwk' || signer.alg !== PROOF_ALG) throw new WalletFailure(`unexpected signer ${signer.method}/${signer.alg}`);
      const key = keysByX.get(signer.publicJwk.x);
      if (!key) throw new WalletFailure('signJwt called for a key this wallet does not hold');
      const b64 = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');
      const signingInput = `${b64(header)}.${b64(payload)}`;
      const sig = crypto.sign('sha256', Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' });
      return { jwt: `${signingInput}.${sig.toString('base64url')}`, signerJwk: signer.publicJwk };
    },
  };
}

function newHolderKey() {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
  return { privateKey, publicJwk: { kty, crv, x, y }, privateJwk: privateKey.export({ format: 'jwk' }) };
}

async function run(opts) {
  const vci = await load('@openid4vc/openid4vci');
  const oauth2 = await load('@openid4vc/oauth2');
  // The library only accepts https:// URLs (issuer, endpoints, aud, offer) unless told otherwise.
  vci.setGlobalConfig({ allowInsecureUrls: !opts['https-only'] });

  const keys = Array.from({ length: opts.copies }, newHolderKey);
  const keysByX = new Map(keys.map((k) => [k.publicJwk.x, k.privateKey]));
  const client = new vci.Openid4vciClient({ callbacks: makeCallbacks(oauth2, keysByX, opts.verbose) });

  log('resolving credential offer');
  const offer = await client.resolveCredentialOffer(opts.offer);
  const grant = offer.grants?.[oauth2.preAuthorizedCodeGrantIdentifier];
  if (!grant) throw new WalletFailure('offer has no pre-authorized_code grant');
  const configId = offer.credential_configuration_ids[0];
  if (offer.credential_configuration_ids.length !== 1) log(`note: offer lists ${offer.credential_configuration_ids.length} configurations; using ${configId}`);
  if (grant.tx_code && !opts['tx-code']) throw new WalletFailure(`offer requires a tx_code (${JSON.stringify(grant.tx_code)}); pass --tx-code`);
  if (!grant.tx_code && opts['tx-code']) log('note: --tx-code given but the offer does not ask for one; sending it anyway');
  if (grant.tx_code?.length && opts['tx-code'] && opts['tx-code'].length !== grant.tx_code.length) log(`note: tx_code length ${opts['tx-code'].length} != offer's ${grant.tx_code.length}`);

  log(`resolving metadata of ${offer.credential_issuer}`);
  const issuerMetadata = await client.resolveIssuerMetadata(offer.credential_issuer);
  if (issuerMetadata.originalDraftVersion !== vci.Openid4vciVersion.V1) {
    throw new WalletFailure(`library classified the issuer metadata as ${issuerMetadata.originalDraftVersion}, not V1 (1.0 final needs credential_metadata inside the configuration)`);
  }
  if (!issuerMetadata.knownCredentialConfigurations[configId]) throw new WalletFailure(`configuration ${configId} is missing or invalid in issuer metadata`);
  const batchSize = issuerMetadata.credentialIssuer.batch_credential_issuance?.batch_size ?? 1;
  if (opts.copies > batchSize) throw new WalletFailure(`--copies ${opts.copies} exceeds the issuer's batch_size ${batchSize}`);

  log('redeeming the pre-authorized code');
  const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
    credentialOffer: offer, issuerMetadata, txCode: opts['tx-code'],
  });
  if (accessTokenResponse.token_type.toLowerCase() !== 'bearer') throw new WalletFailure(`token_type ${accessTokenResponse.token_type} is not Bearer`);

  let nonce;
  if (issuerMetadata.credentialIssuer.nonce_endpoint) {
    ({ c_nonce: nonce } = await client.requestNonce({ issuerMetadata }));
  } else {
    nonce = accessTokenResponse.c_nonce;
    log('note: issuer has no nonce_endpoint; using c_nonce from the token response (pre-1.0 behaviour)');
  }

  log(`signing ${opts.copies} proof(s) and requesting credential ${configId}`);
  const jwts = [];
  for (const key of keys) {
    const { jwt } = await client.createCredentialRequestJwtProof({
      issuerMetadata, credentialConfigurationId: configId, nonce,
      signer: { method: 'jwk', alg: PROOF_ALG, publicJwk: key.publicJwk },
    });
    jwts.push(jwt);
  }
  const { credentialResponse } = await client.retrieveCredentials({
    issuerMetadata, credentialConfigurationId: configId, proofs: { jwt: jwts },
    accessToken: accessTokenResponse.access_token,
  });
  if (credentialResponse.credential !== undefined) throw new WalletFailure("response carries pre-1.0 'credential'; 1.0 uses 'credentials'");
  if (!credentialResponse.credentials) throw new WalletFailure(`no credentials in response (deferred? ${JSON.stringify(credentialResponse)})`);
  const credentials = credentialResponse.credentials.map((entry, i) => {
    const c = typeof entry === 'object' && entry !== null ? entry.credential : entry;
    if (typeof entry !== 'object') log(`note: credentials[${i}] is a bare value, 1.0 wants {credential: ...}`);
    if (typeof c !== 'string' || !c.includes('~')) throw new WalletFailure(`credentials[${i}] is not an SD-JWT string`);
    return c;
  });
  if (credentials.length !== opts.copies) throw new WalletFailure(`asked for ${opts.copies} credential(s), got ${credentials.length}`);

  const producer = `@openid4vc/openid4vci ${pkgVersion('@openid4vc/openid4vci')}`;
  const out = {
    producer, credential_issuer: offer.credential_issuer, credential_configuration_id: configId,
    credentials,
    holder_public_jwks: keys.map((k) => k.publicJwk),
    holder_private_jwks: keys.map((k) => k.privateJwk),
    issuer_metadata: issuerMetadata.credentialIssuer,
  };
  fs.writeFileSync(opts.out, `${JSON.stringify(out, null, 2)}\n`);
  log(`ok: ${credentials.length} credential(s) written to ${opts.out}`);
}

/** The library's errors carry the HTTP response; show what the issuer said. */
async function describe(err) {
  let msg = err?.message ?? String(err);
  const response = err?.response?.response ?? err?.response;
  if (response && typeof response.status === 'number') {
    msg += `\n  HTTP ${response.status} ${response.url ?? ''}`;
    if (err.errorResponse) msg += `\n  error response: ${JSON.stringify(err.errorResponse)}`;
  }
  if (err?.cause?.message) msg += `\n  cause: ${err.cause.message}`;
  return msg;
}

const opts = parseCli();
run(opts).catch(async (err) => {
  log(`FAIL: ${err?.constructor?.name && err.constructor.name !== 'WalletFailure' ? `[${err.constructor.name}] ` : ''}${await describe(err)}`);
  process.exit(1);
});
