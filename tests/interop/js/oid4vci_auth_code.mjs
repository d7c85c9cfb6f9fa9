#!/usr/bin/env node
/*
 * OID4VCI 1.0 wallet, authorization code flow (HAIP 1.0 §4), built on @openid4vc/openid4vci
 * 0.4.6 and @openid4vc/oauth2, libraries we did not write. Two steps, because a person signs in
 * between them:
 *
 *   node oid4vci_auth_code.mjs start (--issuer BASE | --offer URL) --client-id ID --redirect-uri URI --session FILE
 *     resolves the issuer and authorization server metadata, and pushes the request (PAR,
 *     RFC 9126) with PKCE S256 and the scope of the credential configuration: wallet-initiated
 *     (--issuer) through Oauth2Client.initiateAuthorization, issuer-initiated (--offer, an offer
 *     with the authorization_code grant) through Openid4vciClient.initiateAuthorization, which
 *     sends the offer's issuer_state. Prints the authorization URL to send the resident's
 *     browser to, and keeps the session (PKCE verifier, DPoP key) in FILE.
 *   node oid4vci_auth_code.mjs finish --redirect URL --session FILE [--copies N] --out FILE.json
 *     parses and verifies the authorization response the browser came back with (code, state,
 *     iss per RFC 9207) with the library, redeems the code with the PKCE verifier and a DPoP
 *     proof (RFC 9449), and requests a batch with one proof per fresh holder key, the token
 *     presented with DPoP. OUT is what oid4vci_wallet.mjs writes (verify_issued.py reads it).
 *
 * With --provider DIR (a `civic-verifier dev-ca` directory: ca.pem, verifier-chain.pem,
 * verifier-key.pem, standing in for a wallet provider) the wallet authenticates at PAR and the
 * token endpoint with a client attestation the library makes (createClientAttestationJwt, the
 * chain in x5c) and its PoP per request (clientAuthenticationClientAttestationJwt).
 *
 * Exit 0 ok, 1 failure (FAIL: on stderr), 2 usage.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { load } from './npm_load.mjs';
import {
  PROOF_ALG, WalletFailure, keyFromJwk, log, makeCallbacks, newHolderKey, requestBatch, runMain, writeIssued,
} from './oid4vci_common.mjs';

function usage(msg) {
  log(`usage error: ${msg}`);
  log('usage: oid4vci_auth_code.mjs start --issuer BASE --client-id ID --redirect-uri URI --session FILE');
  log('       oid4vci_auth_code.mjs finish --redirect URL --session FILE [--copies N] --out FILE.json');
  process.exit(2);
}

function parseCli() {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        issuer: { type: 'string' }, offer: { type: 'string' }, 'client-id': { type: 'string' }, 'redirect-uri': { type: 'string' },
        session: { type: 'string' }, redirect: { type: 'string' }, copies: { type: 'string', default: '1' },
        out: { type: 'string' }, verbose: { type: 'boolean', default: false }, provider: { type: 'string' },
      },
    });
  } catch (e) { usage(e.message); }
  const { values, positionals } = parsed;
  const step = positionals[0];
  if (!['start', 'finish'].includes(step)) usage('the step is start or finish');
  if (!values.session) usage('--session is required');
  const need = step === 'start' ? ['client-id', 'redirect-uri'] : ['redirect', 'out'];
  for (const name of need) if (!values[name]) usage(`--${name} is required for ${step}`);
  if (step === 'start' && !values.issuer === !values.offer) usage('start takes one of --issuer, --offer');
  const copies = Number(values.copies);
  if (!Number.isInteger(copies) || copies < 1) usage('--copies must be a positive integer');
  return { ...values, step, copies };
}

let vciFlow;

/**
 * The library's clients. With `attestation` ({provider, attKey}) the wallet authenticates with a
 * client attestation of `attKey` that the provider's certificate key signs.
 */
async function libraries(keysByX, verbose, clientId, attestation) {
  const vci = await load('@openid4vc/openid4vci');
  const oauth2 = await load('@openid4vc/oauth2');
  vci.setGlobalConfig({ allowInsecureUrls: true });
  vciFlow = vci.AuthorizationFlow;
  const callbacks = makeCallbacks(oauth2, keysByX, verbose, clientId, { x5cKey: attestation?.providerKey });
  if (attestation) {
    const clientAttestationJwt = await oauth2.createClientAttestationJwt({
      callbacks, clientId, issuer: 'https://provider.interop.example', expiresAt: new Date(Date.now() + 3600_000),
      confirmation: { jwk: attestation.attKey.publicJwk },
      signer: { method: 'x5c', alg: PROOF_ALG, x5c: attestation.x5c },
    });
    callbacks.clientAuthentication = oauth2.clientAuthenticationClientAttestationJwt({ clientAttestationJwt, callbacks });
  }
  return {
    client: new vci.Openid4vciClient({ callbacks }),
    oauth: new oauth2.Oauth2Client({ callbacks }),
  };
}

/** A wallet provider from a `civic-verifier dev-ca` directory: its key and certificate chain. */
function provider(dir, attKey) {
  if (!dir) return undefined;
  const chain = fs.readFileSync(`${dir}/verifier-chain.pem`, 'utf8');
  const x5c = [...chain.matchAll(/-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/g)].map((m) => m[1].replace(/\s+/g, ''));
  const providerKey = crypto.createPrivateKey(fs.readFileSync(`${dir}/verifier-key.pem`, 'utf8'));
  return { providerKey, x5c, attKey };
}

async function start(opts) {
  const dpopKey = newHolderKey();
  const attKey = newHolderKey();
  const keysByX = new Map([[dpopKey.publicJwk.x, dpopKey.privateKey], [attKey.publicJwk.x, attKey.privateKey]]);
  const { client, oauth } = await libraries(keysByX, opts.verbose, opts['client-id'], provider(opts.provider, attKey));
  const credentialOffer = opts.offer ? await client.resolveCredentialOffer(opts.offer) : null;
  const issuer = credentialOffer?.credential_issuer ?? opts.issuer;
  log(`resolving metadata of ${issuer}`);
  const issuerMetadata = await client.resolveIssuerMetadata(issuer);
  const configId = credentialOffer?.credential_configuration_ids[0] ?? Object.keys(issuerMetadata.knownCredentialConfigurations)[0];
  const config = issuerMetadata.knownCredentialConfigurations[configId];
  if (!config?.scope) throw new WalletFailure(`configuration ${configId} has no scope (HAIP 1.0 §4.1 asks for one)`);
  const [authorizationServerMetadata] = issuerMetadata.authorizationServers;
  if (!authorizationServerMetadata?.pushed_authorization_request_endpoint) throw new WalletFailure('the authorization server has no PAR endpoint');
  let state = crypto.randomBytes(16).toString('base64url');
  log(`pushing the authorization request (scope ${config.scope})`);
  const common = {
    clientId: opts['client-id'], redirectUri: opts['redirect-uri'], scope: config.scope, state,
    dpop: { signer: { method: 'jwk', alg: PROOF_ALG, publicJwk: dpopKey.publicJwk } },
  };
  let authorizationRequestUrl;
  let pkce;
  if (credentialOffer) {
    if (!credentialOffer.grants?.authorization_code?.issuer_state) throw new WalletFailure('the offer has no authorization_code grant with issuer_state');
    // This path of the library sends no `state` (the offer's issuer_state ties the request to
    // the offer); the response must then carry none either.
    const started = await client.initiateAuthorization({ ...common, credentialOffer, issuerMetadata });
    state = undefined;
    if (started.authorizationFlow !== vciFlow.Oauth2Redirect) throw new WalletFailure(`unexpected flow ${started.authorizationFlow}`);
    ({ authorizationRequestUrl, pkce } = started);
  } else {
    ({ authorizationRequestUrl, pkce } = await oauth.initiateAuthorization({ ...common, authorizationServerMetadata }));
  }
  if (!pkce?.codeVerifier) throw new WalletFailure('the library used no PKCE');
  if (!new URL(authorizationRequestUrl).searchParams.get('request_uri')) throw new WalletFailure(`the authorization URL carries no request_uri (no PAR?): ${authorizationRequestUrl}`);
  const session = {
    issuer, configId, clientId: opts['client-id'], redirectUri: opts['redirect-uri'], state,
    codeVerifier: pkce.codeVerifier, dpopJwk: dpopKey.privateJwk, attJwk: attKey.privateJwk, provider: opts.provider,
  };
  fs.writeFileSync(opts.session, JSON.stringify(session), { mode: 0o600 });
  process.stdout.write(`${authorizationRequestUrl}\n`);
}

async function finish(opts) {
  const session = JSON.parse(fs.readFileSync(opts.session, 'utf8'));
  const dpopKey = keyFromJwk(session.dpopJwk);
  const attKey = keyFromJwk(session.attJwk);
  const keys = Array.from({ length: opts.copies }, newHolderKey);
  const keysByX = new Map([[dpopKey.publicJwk.x, dpopKey.privateKey], [attKey.publicJwk.x, attKey.privateKey], ...keys.map((k) => [k.publicJwk.x, k.privateKey])]);
  const { client, oauth } = await libraries(keysByX, opts.verbose, session.clientId, provider(session.provider, attKey));
  const issuerMetadata = await client.resolveIssuerMetadata(session.issuer);
  const [authorizationServerMetadata] = issuerMetadata.authorizationServers;

  log('reading the authorization response');
  const authorizationResponse = oauth.parseAuthorizationResponseRedirectUrl({ url: opts.redirect });
  oauth.verifyAuthorizationResponse({ authorizationResponse, authorizationServerMetadata });
  if (authorizationResponse.error) throw new WalletFailure(`authorization refused: ${authorizationResponse.error}`);
  if (authorizationResponse.state !== session.state) throw new WalletFailure('the response carries another state');

  log('redeeming the code with PKCE and DPoP');
  const { accessTokenResponse, dpop } = await oauth.retrieveAuthorizationCodeAccessToken({
    authorizationServerMetadata, authorizationCode: authorizationResponse.code, pkceCodeVerifier: session.codeVerifier,
    redirectUri: session.redirectUri,
    dpop: { signer: { method: 'jwk', alg: PROOF_ALG, publicJwk: dpopKey.publicJwk } },
  });
  if (accessTokenResponse.token_type.toLowerCase() !== 'dpop') throw new WalletFailure(`token_type ${accessTokenResponse.token_type} is not DPoP`);
  const credentials = await requestBatch(client, {
    issuerMetadata, configId: session.configId, keys, accessToken: accessTokenResponse.access_token, dpop, accessTokenResponse,
  });
  writeIssued(opts.out, { credentialIssuer: session.issuer, configId: session.configId, credentials, keys, issuerMetadata });
}

runMain(async () => {
  const opts = parseCli();
  await (opts.step === 'start' ? start(opts) : finish(opts));
});
