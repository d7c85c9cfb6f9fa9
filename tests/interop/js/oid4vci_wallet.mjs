#!/usr/bin/env node
/*
 * OID4VCI 1.0 wallet (pre-authorized code flow) built on @openid4vc/openid4vci 0.4.6, a
 * library we did not write.  It drives the civic-id issuer the way a third-party wallet would.
 *
 *   NODE_PATH=$PWD/.tools/node/node_modules node tests/interop/js/oid4vci_wallet.mjs \
 *     --offer 'openid-credential-offer://?credential_offer_uri=...' [--tx-code 123456] \
 *     [--copies N] [--https-only] [--verbose] [--encrypt-response A128GCM|A256GCM] --out FILE.json
 *
 * Steps (all through the library's Openid4vciClient): resolve the offer (by value or by
 * reference), resolve issuer + authorization server metadata, redeem the pre-authorized code
 * (anonymous client) with a DPoP proof of a fresh ES256 key (RFC 9449; the library answers the
 * issuer's use_dpop_nonce itself), get a c_nonce from the nonce endpoint, sign one
 * openid4vci-proof+jwt per copy with a fresh ES256 holder key, and send one credential request
 * with proofs.jwt[] and the DPoP-bound access token.
 *
 * OUT: {producer, credential_issuer, credential_configuration_id, credentials: [sd-jwt...],
 *       holder_public_jwks: [...], holder_private_jwks: [...], issuer_metadata}
 * holder_*_jwks[i] is the key of proofs.jwt[i]; the issuer may return credentials in another
 * order, so verify_issued.py matches by cnf.jwk.  Exit 0 ok, 1 failure (FAIL: on stderr), 2 usage.
 */
import { parseArgs } from 'node:util';
import { load } from './npm_load.mjs';
import {
  PROOF_ALG, WalletFailure, log, makeCallbacks, newHolderKey, requestBatch, runMain, writeIssued,
} from './oid4vci_common.mjs';

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
        // Ask for credential response encryption with this enc (A128GCM, A256GCM).
        'encrypt-response': { type: 'string' },
      },
    }));
  } catch (e) { usage(e.message); }
  if (!values.offer) usage('--offer is required');
  if (!values.out) usage('--out is required');
  const copies = Number(values.copies);
  if (!Number.isInteger(copies) || copies < 1) usage('--copies must be a positive integer');
  return { ...values, copies };
}

async function run(opts) {
  const vci = await load('@openid4vc/openid4vci');
  const oauth2 = await load('@openid4vc/oauth2');
  // The library only accepts https:// URLs (issuer, endpoints, aud, offer) unless told otherwise.
  vci.setGlobalConfig({ allowInsecureUrls: !opts['https-only'] });

  const keys = Array.from({ length: opts.copies }, newHolderKey);
  const keysByX = new Map(keys.map((k) => [k.publicJwk.x, k.privateKey]));
  // The DPoP key the access token is bound to (RFC 9449); its own key, not a holder key.
  const dpopKey = newHolderKey();
  keysByX.set(dpopKey.publicJwk.x, dpopKey.privateKey);
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

  log('redeeming the pre-authorized code with DPoP');
  const { accessTokenResponse, dpop } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
    credentialOffer: offer, issuerMetadata, txCode: opts['tx-code'],
    dpop: { signer: { method: 'jwk', alg: PROOF_ALG, publicJwk: dpopKey.publicJwk } },
  });
  if (accessTokenResponse.token_type.toLowerCase() !== 'dpop') throw new WalletFailure(`token_type ${accessTokenResponse.token_type} is not DPoP`);

  const callbacks = makeCallbacks(oauth2, keysByX, opts.verbose);
  const sealed = opts['encrypt-response']
    ? { oauth: new oauth2.Oauth2Client({ callbacks }), callbacks, jose: await load('jose'), enc: opts['encrypt-response'] }
    : undefined;
  const credentials = await requestBatch(client, {
    issuerMetadata, configId, keys, accessToken: accessTokenResponse.access_token, dpop, accessTokenResponse, sealed,
  });
  writeIssued(opts.out, { credentialIssuer: offer.credential_issuer, configId, credentials, keys, issuerMetadata });
}

runMain(() => run(parseCli()));
