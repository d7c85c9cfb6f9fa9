// civic-id's wallet gets a residency credential by the OID4VCI authorization code flow (PAR,
// PKCE S256, DPoP) from an issuer built from npm libraries (not our code), under Node.js. The
// issuer is a node:http server on 127.0.0.1 whose protocol work is done the way the libraries'
// types show: npm `@openid4vc/oauth2` 0.4.6 (Oauth2AuthorizationServer: its metadata, parsing and
// verifying the pushed request, parsing the token request, verifyAuthorizationCodeAccessTokenRequest
// for the PKCE verifier and the DPoP proof, a DPoP-bound JWT access token; Oauth2ResourceServer:
// verifyResourceRequest for that token and its DPoP proof at the credential endpoint) and npm
// `@openid4vc/openid4vci` 0.4.6 (Openid4vciIssuer: its metadata, the nonce response, parsing the
// credential request, verifyCredentialRequestJwtProof for every proof, the credential response).
// The credentials are SD-JWT VCs made by npm `@sd-jwt/sd-jwt-vc` with `@sd-jwt/crypto-nodejs`;
// keys and JWT signing are npm `jose`. The test's own parts: the stores (pushed requests, codes,
// c_nonces, each single use), the one registered client, and the DPoP-Nonce the token endpoint
// asks for (RFC 9449 §8; the library's token verification takes no nonce in 0.4.6, so this test
// answers `use_dpop_nonce` to a proof without it, and the wallet must retry), and the credential
// endpoint's own nonce (RFC 9449 §9: asked for in a 401 challenge with an empty body, which the
// wallet must read from `WWW-Authenticate`). `/authorize` stands
// in for the resident's sign-in and consent at the municipality: it approves at once and sends the
// browser back with `code`, `state` and `iss` (RFC 9207). The wallet (our WebAssembly behind
// wallet.js) runs startIssuance and finishIssuance for three copies and verifies each credential
// with the key from the issuer's `jwt-vc-issuer` metadata.
//
//   node wallet-wasm/tests/node_wallet_npm_issuer.mjs
//
// Prints ok/FAIL lines and "N passed, N failed"; exit code 1 on any failure.
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { builtWallet, checks, load, rejects } from './harness.mjs';

const jose = await load('jose');
const oauth2 = await load('@openid4vc/oauth2');
const vci = await load('@openid4vc/openid4vci');
const { SDJwtVcInstance } = await load('@sd-jwt/sd-jwt-vc');
const { ES256, digest, generateSalt } = await load('@sd-jwt/crypto-nodejs');
const { Wallet, MemoryStorage, secretKeySource, wasm } = await builtWallet();
const { check, fail, finish } = checks();
// Everything on 127.0.0.1 is plain http.
oauth2.setGlobalConfig({ allowInsecureUrls: true });

const random = (n = 24) => randomBytes(n).toString('base64url');
const CLIENT = { id: 'https://wallet.example', redirectUri: 'https://wallet.example/callback' };
const CONFIG_ID = 'residency_sd_jwt';
const SCOPE = 'residency';
const COPIES = 3;
// What a residency credential holds (see credential/src/residency.rs), every claim and member
// selectively disclosable, with decoys, as our issuer makes it.
const CLAIMS = {
  given_name: 'Anna', family_name: 'de Vries', birthdate: '1990-04-12', resident_since: '2015-06-01',
  address: { street_address: 'Dam 1', locality: 'Teststad', postal_code: '1012 JS', country: 'NL' },
  residence: { municipality: 'Teststad', municipality_code: '0363', district: '3' },
  age_equal_or_over: { 16: true, 18: true, 65: false },
};
const FRAME = {
  _sd: Object.keys(CLAIMS), _sd_decoy: 2,
  address: { _sd: Object.keys(CLAIMS.address) },
  residence: { _sd: Object.keys(CLAIMS.residence) },
  age_equal_or_over: { _sd: Object.keys(CLAIMS.age_equal_or_over) },
};

// One key signs access tokens (published at jwks_uri), another the credentials (jwt-vc-issuer).
const asKey = await jose.generateKeyPair('ES256', { extractable: true });
const asJwk = { ...(await jose.exportJWK(asKey.publicKey)), kid: 'access-tokens-1', alg: 'ES256', use: 'sig' };
const credentialKey = await jose.generateKeyPair('ES256', { extractable: true });
const credentialJwk = { ...(await jose.exportJWK(credentialKey.publicKey)), kid: 'credentials-1', alg: 'ES256', use: 'sig' };
const sdjwt = new SDJwtVcInstance({
  signer: await ES256.getSigner(await jose.exportJWK(credentialKey.privateKey)),
  signAlg: 'ES256', hasher: digest, hashAlg: 'sha-256', saltGenerator: generateSalt,
});

const callbacks = {
  hash: (data, alg) => new Uint8Array(createHash(alg.replace('-', '').toLowerCase()).update(data).digest()),
  generateRandom: (n) => new Uint8Array(randomBytes(n)),
  clientAuthentication: oauth2.clientAuthenticationNone({ clientId: 'npm-issuer' }),
  signJwt: async (signer, { header, payload }) => {
    if (signer.method !== 'jwk' || signer.publicJwk?.x !== asJwk.x) throw new Error('this issuer signs only access tokens');
    return { jwt: await new jose.SignJWT(payload).setProtectedHeader(header).sign(asKey.privateKey), signerJwk: signer.publicJwk };
  },
  verifyJwt: async (signer, { compact }) => {
    if (signer.method !== 'jwk' || !signer.publicJwk) return { verified: false };
    try {
      await jose.compactVerify(compact, await jose.importJWK(signer.publicJwk, signer.alg), { algorithms: ['ES256'] });
      return { verified: true, signerJwk: signer.publicJwk };
    } catch { return { verified: false }; }
  },
};
const authorizationServer = new oauth2.Oauth2AuthorizationServer({ callbacks });
const resourceServer = new oauth2.Oauth2ResourceServer({ callbacks });
const issuer = new vci.Openid4vciIssuer({ callbacks });
const refuse = (error, description, status = 400) => {
  throw new oauth2.Oauth2ServerErrorResponseError({ error, error_description: description }, { status });
};

// Set once the server listens: its URL, the credential type, the metadata the libraries made.
let base = '', vct = '', asMeta, issuerMeta, issuerMetadata;
const pushed = new Map(); // request_uri reference → { request, expires }
const codes = new Map(); // code → { request, expires }
const cNonces = new Map(); // c_nonce → expires
const dpopNonce = random();
// The credential endpoint (a resource server) has a nonce of its own (RFC 9449 §9).
const resourceNonce = random();
/** What the npm issuer saw, for the checks. */
const seen = { tokenTries: [], credentialTries: [], refused: [], unexpected: [] };

/** The request as the libraries take it (RequestLike): the URL the wallet called. */
const requestLike = (req) => ({
  method: req.method,
  url: `${base}${req.url}`,
  headers: new Headers(Object.entries(req.headers).filter(([, v]) => typeof v === 'string')),
});

const routes = {
  'GET /.well-known/openid-credential-issuer': () => [200, issuerMeta],
  'GET /.well-known/oauth-authorization-server': () => [200, asMeta],
  'GET /.well-known/jwt-vc-issuer': () => [200, { issuer: base, jwks: { keys: [credentialJwk] } }],
  'GET /jwks': () => [200, { keys: [asJwk] }],
  'POST /par': async (req, form) => {
    const request = requestLike(req);
    const parsed = await authorizationServer.parsePushedAuthorizationRequest({ request, authorizationRequest: form });
    await authorizationServer.verifyPushedAuthorizationRequest({
      authorizationRequest: parsed.authorizationRequest, authorizationServerMetadata: asMeta, request,
      dpop: { ...parsed.dpop, allowedSigningAlgs: ['ES256'] },
    });
    // This server's policy: the registered client and redirect URI, PKCE S256, the scope.
    const ar = parsed.authorizationRequest;
    if (ar.client_id !== CLIENT.id || ar.redirect_uri !== CLIENT.redirectUri) refuse('invalid_client', 'unknown client or redirect_uri');
    if (ar.response_type !== 'code' || ar.code_challenge_method !== 'S256' || !ar.code_challenge) refuse('invalid_request', 'code with PKCE S256 only');
    if (!ar.scope?.split(' ').includes(SCOPE)) refuse('invalid_scope', `scope ${SCOPE} only`);
    const reference = random();
    pushed.set(reference, { request: ar, expires: Date.now() + 60_000 });
    seen.par = ar;
    const { pushedAuthorizationResponse } = authorizationServer.createPushedAuthorizationResponse({
      requestUri: `${oauth2.pushedAuthorizationRequestUriPrefix}${reference}`, expiresInSeconds: 60,
    });
    return [201, pushedAuthorizationResponse];
  },
  // Stands in for the resident's sign-in (passkey) and consent at the municipality: approves at
  // once and sends the browser back to the pushed redirect_uri.
  'GET /authorize': (req, _, url) => {
    const reference = oauth2.parsePushedAuthorizationRequestUriReferenceValue({ uri: url.searchParams.get('request_uri') ?? '' });
    const entry = pushed.get(reference);
    pushed.delete(reference);
    if (!entry || entry.expires < Date.now() || entry.request.client_id !== url.searchParams.get('client_id')) refuse('invalid_request', 'unknown or expired request_uri');
    const code = random();
    codes.set(code, { request: entry.request, expires: Date.now() + 60_000 });
    const back = new URL(entry.request.redirect_uri);
    back.searchParams.set('code', code);
    if (entry.request.state) back.searchParams.set('state', entry.request.state);
    back.searchParams.set('iss', base);
    return [302, undefined, { location: back.toString() }];
  },
  'POST /token': async (req, form) => {
    const request = requestLike(req);
    const parsed = authorizationServer.parseAccessTokenRequest({ request, accessTokenRequest: form });
    const nonce = parsed.dpop ? oauth2.decodeJwt({ jwt: parsed.dpop.jwt }).payload.nonce : undefined;
    seen.tokenTries.push({ dpop: !!parsed.dpop, nonce });
    // RFC 9449 §8: this server wants its nonce in the proof.
    if (parsed.dpop && nonce !== dpopNonce) {
      return [400, { error: 'use_dpop_nonce', error_description: 'DPoP proof without this server\'s nonce' }, { 'dpop-nonce': dpopNonce }];
    }
    if (parsed.grant.grantType !== oauth2.authorizationCodeGrantIdentifier) refuse('unsupported_grant_type', 'authorization_code only');
    seen.tokenForm = form;
    const grant = codes.get(parsed.grant.code);
    codes.delete(parsed.grant.code); // single use: the first redemption spends it
    if (!grant || form.client_id !== grant.request.client_id || form.redirect_uri !== grant.request.redirect_uri) refuse('invalid_grant', 'unknown, used or mismatched code');
    const verified = await authorizationServer.verifyAuthorizationCodeAccessTokenRequest({
      authorizationServerMetadata: asMeta, grant: parsed.grant, accessTokenRequest: parsed.accessTokenRequest, request,
      expectedCode: parsed.grant.code, codeExpiresAt: new Date(grant.expires),
      pkce: { codeVerifier: parsed.pkceCodeVerifier, codeChallenge: grant.request.code_challenge, codeChallengeMethod: grant.request.code_challenge_method },
      dpop: { required: true, jwt: parsed.dpop?.jwt, allowedSigningAlgs: asMeta.dpop_signing_alg_values_supported },
    });
    const response = await authorizationServer.createAccessTokenResponse({
      authorizationServer: base, audience: base, subject: 'resident-0363-1', clientId: grant.request.client_id,
      scope: grant.request.scope, signer: { method: 'jwk', alg: 'ES256', publicJwk: asJwk }, expiresInSeconds: 300,
      dpop: { jwk: verified.dpop.jwk },
    });
    seen.token = { jkt: verified.dpop.jwkThumbprint, response };
    return [200, response, { 'dpop-nonce': dpopNonce }];
  },
  'POST /nonce': () => {
    const cNonce = random();
    cNonces.set(cNonce, Date.now() + 300_000);
    return [200, issuer.createNonceResponse({ cNonce, cNonceExpiresIn: 300 })];
  },
  'POST /credential': async (req, body) => {
    const request = requestLike(req);
    // RFC 9449 §9: the resource server wants its own nonce; it asks in its challenge only, with
    // an empty body (the library's resource server takes no nonce in 0.4.6: this gate is ours).
    const proofJwt = typeof req.headers.dpop === 'string' ? req.headers.dpop : '';
    const nonce = proofJwt ? oauth2.decodeJwt({ jwt: proofJwt }).payload.nonce : undefined;
    seen.credentialTries.push({ nonce });
    if (nonce !== resourceNonce) {
      return [401, undefined, { 'www-authenticate': 'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"', 'dpop-nonce': resourceNonce }];
    }
    const { tokenPayload, dpop, scheme } = await resourceServer.verifyResourceRequest({
      request, resourceServer: base, authorizationServers: [asMeta], allowedAuthenticationSchemes: [oauth2.SupportedAuthenticationScheme.DPoP],
    });
    const parsed = issuer.parseCredentialRequest({ issuerMetadata, credentialRequest: body });
    if (parsed.credentialConfigurationId !== CONFIG_ID || !tokenPayload.scope?.split(' ').includes(SCOPE)) refuse('invalid_credential_request', 'the access token does not cover this credential');
    const jwts = parsed.proofs?.jwt ?? [];
    if (jwts.length < 1 || jwts.length > issuerMeta.batch_credential_issuance.batch_size) refuse('invalid_proof', `1 to ${issuerMeta.batch_credential_issuance.batch_size} jwt proofs`);
    const cNonce = oauth2.decodeJwt({ jwt: jwts[0] }).payload.nonce;
    const nonceExpires = cNonces.get(cNonce);
    cNonces.delete(cNonce);
    if (!nonceExpires) refuse('invalid_nonce', 'unknown or used c_nonce');
    const proofs = [];
    for (const jwt of jwts) {
      proofs.push(await issuer.verifyCredentialRequestJwtProof({ issuerMetadata, jwt, expectedNonce: cNonce, nonceExpiresAt: new Date(nonceExpires) }));
    }
    const now = Math.floor(Date.now() / 1000);
    const credentials = [];
    for (const { signer } of proofs) {
      const { kty, crv, x, y } = signer.publicJwk;
      const payload = { iss: base, vct, iat: now, exp: now + 30 * 86_400, cnf: { jwk: { kty, crv, x, y } }, ...CLAIMS };
      credentials.push({ credential: await sdjwt.issue(payload, FRAME, { header: { kid: credentialJwk.kid } }) });
    }
    seen.credential = {
      authorization: req.headers.authorization?.split(' ')[0], scheme, jkt: tokenPayload.cnf?.jkt, dpopJwk: dpop?.jwk,
      cNonce, proofs: proofs.map((p) => ({ jwk: p.signer.publicJwk, aud: p.payload.aud, nonce: p.payload.nonce })), credentials,
    };
    return [200, issuer.createCredentialResponse({ credentialRequest: parsed, credentials })];
  },
};

const server = createServer((req, res) => {
  let raw = '';
  req.on('data', (c) => { raw += c; });
  req.on('end', async () => {
    const url = new URL(req.url, base);
    const send = (status, body, headers = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
      res.end(body === undefined ? '' : JSON.stringify(body));
    };
    const route = routes[`${req.method} ${url.pathname}`];
    if (!route) return send(404); // /platform-registry too: the wallet does without
    try {
      const json = (req.headers['content-type'] ?? '').startsWith('application/json');
      const [status, body, headers] = await route(req, json ? JSON.parse(raw) : Object.fromEntries(new URLSearchParams(raw)), url);
      return send(status, body, headers);
    } catch (e) {
      if (e instanceof oauth2.Oauth2ResourceUnauthorizedError) {
        seen.refused.push(`${url.pathname}: ${e.message}`);
        // (the library's error_description may hold a line break, which a header cannot)
        return send(401, undefined, { 'www-authenticate': e.toHeaderValue().replace(/\s*[\r\n]+\s*/g, ' ') });
      }
      if (e?.errorResponse) {
        seen.refused.push(`${url.pathname}: ${e.errorResponse.error} ${e.errorResponse.error_description ?? ''}`);
        return send(e.status ?? 400, e.errorResponse);
      }
      seen.unexpected.push(`${req.method} ${url.pathname}: ${e?.stack ?? e}`);
      return send(500, { error: 'server_error', error_description: String(e?.message ?? e) });
    }
  });
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
base = `http://localhost:${server.address().port}`;
vct = `${base}/credentials/residency`;
asMeta = authorizationServer.createAuthorizationServerMetadata({
  issuer: base, pushed_authorization_request_endpoint: `${base}/par`, require_pushed_authorization_requests: true,
  authorization_endpoint: `${base}/authorize`, token_endpoint: `${base}/token`, jwks_uri: `${base}/jwks`,
  code_challenge_methods_supported: ['S256'], dpop_signing_alg_values_supported: ['ES256'],
  authorization_response_iss_parameter_supported: true, response_types_supported: ['code'], scopes_supported: [SCOPE],
  grant_types_supported: [oauth2.authorizationCodeGrantIdentifier], token_endpoint_auth_methods_supported: ['none'],
});
issuerMeta = issuer.createCredentialIssuerMetadata({
  credential_issuer: base, credential_endpoint: `${base}/credential`, nonce_endpoint: `${base}/nonce`,
  batch_credential_issuance: { batch_size: COPIES },
  credential_configurations_supported: {
    [CONFIG_ID]: {
      format: 'dc+sd-jwt', scope: SCOPE, vct, cryptographic_binding_methods_supported: ['jwk'],
      credential_signing_alg_values_supported: ['ES256'],
      proof_types_supported: { jwt: { proof_signing_alg_values_supported: ['ES256'] } },
      credential_metadata: { display: [{ name: 'Residency credential', locale: 'en' }] },
    },
  },
});
issuerMetadata = {
  originalDraftVersion: vci.Openid4vciVersion.V1, credentialIssuer: issuerMeta, authorizationServers: [asMeta],
  knownCredentialConfigurations: issuer.getKnownCredentialConfigurationsSupported(issuerMeta),
};

try {
  const wallet = await Wallet.open({ storage: new MemoryStorage(), keySource: secretKeySource(crypto.getRandomValues(new Uint8Array(32))), wasm, autoLockMs: 0 });
  await wallet.unlock();
  const page = await wallet.startIssuance(base, { clientId: CLIENT.id, redirectUri: CLIENT.redirectUri, copies: COPIES });
  const par = seen.par ?? {};
  check('PAR: the library parsed and verified the pushed request: PKCE S256, the scope, a state', par.code_challenge_method === 'S256' && /^[A-Za-z0-9_-]{43}$/.test(par.code_challenge ?? '') && par.scope === SCOPE && !!par.state, JSON.stringify(par));
  const link = new URL(page);
  check('the wallet sends the browser to /authorize with client_id and the request_uri only', link.origin + link.pathname === asMeta.authorization_endpoint && link.searchParams.get('client_id') === CLIENT.id && (link.searchParams.get('request_uri') ?? '').startsWith(oauth2.pushedAuthorizationRequestUriPrefix) && [...link.searchParams.keys()].length === 2, page);
  const approved = await fetch(page, { redirect: 'manual' });
  const location = approved.headers.get('location') ?? '';
  const back = new URL(location || 'about:blank');
  check('the stand-in sign-in sends the browser back with code, state and iss', approved.status === 302 && location.startsWith(`${CLIENT.redirectUri}?`) && !!back.searchParams.get('code') && back.searchParams.get('state') === par.state && back.searchParams.get('iss') === base, `${approved.status} ${location}`);

  const card = await wallet.finishIssuance(location);
  const tries = seen.tokenTries;
  check('token: the proof without a nonce got use_dpop_nonce; the wallet retried with the DPoP-Nonce', tries.length === 2 && tries[0].dpop && tries[0].nonce === undefined && tries[1].nonce === dpopNonce, JSON.stringify(tries));
  const token = seen.token?.response ?? {};
  const jkt = token.access_token ? oauth2.decodeJwt({ jwt: token.access_token }).payload.cnf?.jkt : undefined;
  check('token: the library verified PKCE and the DPoP proof; the access token is DPoP-bound', token.token_type === 'DPoP' && !!jkt && jkt === seen.token.jkt, JSON.stringify({ token_type: token.token_type, jkt, verified: seen.token?.jkt }));
  const cr = seen.credential ?? { proofs: [], credentials: [] };
  const dpopJkt = cr.dpopJwk ? await jose.calculateJwkThumbprint(cr.dpopJwk) : undefined;
  check('credential: Authorization DPoP; the library verified the token and a DPoP proof by the token\'s key', cr.authorization === 'DPoP' && cr.scheme === 'DPoP' && cr.jkt === jkt && dpopJkt === jkt, JSON.stringify({ authorization: cr.authorization, scheme: cr.scheme, jkt: cr.jkt, dpopJkt }));
  const ctries = seen.credentialTries;
  check('credential: a 401 whose challenge alone says use_dpop_nonce; the wallet retried with the resource server\'s nonce', ctries.length === 2 && ctries[0].nonce === dpopNonce && ctries[1].nonce === resourceNonce, JSON.stringify(ctries));
  const holders = new Set(cr.proofs.map((p) => `${p.jwk.x}.${p.jwk.y}`));
  check(`credential: ${COPIES} proofs, ${COPIES} distinct holder keys, each verified by the library (c_nonce, aud)`, cr.proofs.length === COPIES && holders.size === COPIES && cr.proofs.every((p) => p.aud === base && p.nonce === cr.cNonce), JSON.stringify(cr.proofs.map((p) => ({ x: p.jwk.x, aud: p.aud, nonce: p.nonce }))));
  check(`credential: ${COPIES} SD-JWT VCs, the issuer key named by kid`, cr.credentials.length === COPIES && cr.credentials.every(({ credential }) => jose.decodeProtectedHeader(credential).kid === credentialJwk.kid && credential.endsWith('~')), String(cr.credentials.length));
  const claims = card.claims ?? {};
  check('the card shows what the npm issuer issued', card.issuer === base && card.vct === vct && claims.given_name === 'Anna' && claims.address?.postal_code === '1012 JS' && claims.residence?.municipality_code === '0363' && claims.age_equal_or_over?.['18'] === true && card.labels?.some(([path]) => path === 'given_name'), JSON.stringify(card));
  check(`the card counts ${COPIES} unused copies`, card.unused_copies === COPIES, String(card.unused_copies));
  const listed = await wallet.list();
  check('wallet.list() holds the credential', listed.length === 1 && listed[0].id === card.id && listed[0].vct === vct, JSON.stringify(listed.map((c) => ({ id: c.id, vct: c.vct }))));
  check('no issuance waits any more', wallet.issuancePending === false);

  const replay = await rejects(() => wallet.finishIssuance(location));
  check('the wallet refuses the same callback a second time', replay?.code === 'invalid_response', String(replay));
  // The token request the wallet made, once more, with a fresh valid DPoP proof: the code is spent.
  const key = await jose.generateKeyPair('ES256');
  const proof = await new jose.SignJWT({ htm: 'POST', htu: asMeta.token_endpoint, iat: Math.floor(Date.now() / 1000), jti: random(), nonce: dpopNonce })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: await jose.exportJWK(key.publicKey) }).sign(key.privateKey);
  const again = await fetch(asMeta.token_endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: proof }, body: new URLSearchParams(seen.tokenForm ?? {}) });
  const againBody = await again.json().catch(() => ({}));
  check('the npm issuer refuses the same code a second time', again.status === 400 && againBody.error === 'invalid_grant', `${again.status} ${JSON.stringify(againBody)}`);
  check('the npm issuer met no unexpected error', seen.unexpected.length === 0, seen.unexpected.join('\n'));
} catch (e) {
  fail(`unexpected ${e?.stack ?? e}${seen.refused.length ? `\n     the npm issuer refused: ${seen.refused.join('\n     ')}` : ''}${seen.unexpected.length ? `\n     the npm issuer failed: ${seen.unexpected.join('\n     ')}` : ''}`);
} finally {
  await new Promise((resolve) => server.close(resolve));
}
finish();
