#!/usr/bin/env node
/*
 * OID4VP 1.0 wallet (same-device link, direct_post or direct_post.jwt, DCQL, dc+sd-jwt) built on
 * @openid4vc/openid4vp 0.4.6 and @sd-jwt/sd-jwt-vc 0.19.0, libraries we did not write.
 *
 *   NODE_PATH=$PWD/.tools/node/node_modules node tests/interop/js/oid4vp_wallet.mjs \
 *     --request 'openid4vp://?client_id=...&request_uri=...' --wallet WALLET.json [--index N] \
 *     [--decline] [--disclose-extra CLAIM.PATH]... [--https-only] [--verbose] [--out FILE.json]
 *     [--trust-anchor CA.pem]
 *
 * WALLET.json is what oid4vci_wallet.mjs wrote.  Openid4vpClient parses the link and resolves
 * the request exactly as the library's documentation shows: a redirect_uri: request by value
 * (the verifier's `requests_by_value`), or by reference where the library can read the object.
 * Nothing the verifier sent is rewritten here.  The presentation (exactly the DCQL claims, plus
 * --disclose-extra, plus a KB-JWT with aud = client_id, nonce) is made by SDJwtVcInstance.present;
 * the form is built and POSTed by the library.  stdout: the verifier's answer (JSON).
 *
 * With --trust-anchor, it also answers certificate verifiers (x509_hash:, x509_san_dns:; HAIP
 * 1.0): the library checks the client id against the x5c leaf (its hash, or its DNS names) and
 * calls verifyJwt, where this wallet checks the chain to the anchor with node:crypto's
 * X509Certificate, the validity, the signature with jose, and that the response_uri's host is
 * one the certificate names.
 * Exit 0 on a 2xx answer, 1 otherwise (FAIL: on stderr), 2 usage.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { load } from './npm_load.mjs';


const KB_ALG = 'ES256';
const log = (msg) => process.stderr.write(`${msg}\n`);
class WalletFailure extends Error {}

function usage(msg) {
  log(`usage error: ${msg}`);
  log("usage: oid4vp_wallet.mjs --request 'openid4vp://?...' --wallet FILE.json [--index N] [--decline] [--disclose-extra CLAIM.PATH]... [--https-only] [--verbose] [--out FILE.json]");
  process.exit(2);
}

function parseCli() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        request: { type: 'string' }, wallet: { type: 'string' }, index: { type: 'string' }, out: { type: 'string' },
        decline: { type: 'boolean', default: false }, 'disclose-extra': { type: 'string', multiple: true, default: [] },
        'https-only': { type: 'boolean', default: false }, verbose: { type: 'boolean', default: false },
        'trust-anchor': { type: 'string' },
      },
    }));
  } catch (e) { usage(e.message); }
  if (!values.request) usage('--request is required');
  if (!values.wallet) usage('--wallet is required');
  if (values.index !== undefined && !/^\d+$/.test(values.index)) usage('--index must be a non-negative integer');
  return values;
}

/** `a.b.c` or a JSON array (for names with dots: '["pseudonyms","https://budget.example"]'). */
const parseClaimPath = (s) => (s.startsWith('[') ? JSON.parse(s) : s.split('.'));
/** {residence: {a, b}} at [residence] -> [[residence, a], [residence, b]]: a frame `true` on an
 *  object would disclose only the (empty) parent, not its selectively disclosable members. */
const leafPaths = (v, p) => (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length
  ? Object.entries(v).flatMap(([k, x]) => leafPaths(x, [...p, k])) : [p]);
const lookup = (obj, p) => p.reduce((node, k) => (node !== null && typeof node === 'object' && k in node ? node[k] : undefined), obj);

/** DCQL (the library passes dcql_query through untouched): pick a credential and the claim paths. */
async function matchDcql(query, wallet, sdjwt, index) {
  if (query.credential_sets) log('note: credential_sets ignored; answering every credential query');
  const answers = [];
  for (const cq of query.credentials ?? []) {
    if (cq.format !== 'dc+sd-jwt') throw new WalletFailure(`credential query ${cq.id}: format ${cq.format} not supported`);
    let claims = cq.claims ?? [];
    if (cq.claim_sets) { // first claim set = the verifier's preference
      const byId = new Map(claims.map((c) => [c.id, c]));
      claims = cq.claim_sets[0].map((id) => byId.get(id));
    }
    for (const c of claims) {
      if (!c.path.every((e) => typeof e === 'string')) throw new WalletFailure(`claim path ${JSON.stringify(c.path)}: only string elements are supported`);
    }
    const candidates = index === undefined ? wallet.credentials.map((_, i) => i) : [Number(index)];
    const reasons = [];
    for (const i of candidates) {
      const cred = wallet.credentials[i];
      const decoded = await sdjwt.getClaims(cred);
      const vcts = cq.meta?.vct_values;
      if (vcts && !vcts.includes(decoded.vct)) { reasons.push(`[${i}] vct ${decoded.vct}`); continue; }
      const missing = claims.filter((c) => {
        const v = lookup(decoded, c.path);
        return v === undefined || (c.values && !c.values.includes(v));
      });
      if (missing.length) { reasons.push(`[${i}] lacks ${missing.map((c) => c.path.join('.')).join(', ')}`); continue; }
      answers.push({ id: cq.id, index: i, credential: cred, claims: decoded, paths: claims.map((c) => c.path) });
      break;
    }
    if (answers.at(-1)?.id !== cq.id) throw new WalletFailure(`no credential matches query ${cq.id}: ${reasons.join('; ')}`);
  }
  if (!answers.length) throw new WalletFailure('dcql_query has no credential queries');
  return answers;
}

function holderPrivateJwk(wallet, cnfJwk) {
  const j = (wallet.holder_public_jwks ?? []).findIndex((k) => k.x === cnfJwk?.x && k.y === cnfJwk?.y);
  if (j < 0 || !wallet.holder_private_jwks?.[j]) throw new WalletFailure('credential cnf.jwk is none of the wallet holder keys');
  return wallet.holder_private_jwks[j];
}

async function run(opts) {
  const vp = await load('@openid4vc/openid4vp');
  const oauth2 = await load('@openid4vc/oauth2');
  const { SDJwtVcInstance } = await load('@sd-jwt/sd-jwt-vc');
  const { ES256, digest } = await load('@sd-jwt/crypto-nodejs');
  const jose = await load('jose');
  const nodeCrypto = await import('node:crypto');
  // All URLs (request_uri, response_uri) must be https:// unless this is set (one shared config).
  oauth2.setGlobalConfig({ allowInsecureUrls: !opts['https-only'] });
  const wallet = JSON.parse(fs.readFileSync(opts.wallet, 'utf8'));
  if (!wallet.credentials?.length) throw new WalletFailure(`${opts.wallet} has no credentials`);
  if (opts.index !== undefined && !wallet.credentials[Number(opts.index)]) throw new WalletFailure(`--index ${opts.index}: wallet has ${wallet.credentials.length} credential(s)`);

  const callbacks = {
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      if (opts.verbose) log(`  ${init?.method ?? 'GET'} ${input} -> ${response.status} ${response.headers.get('content-type') ?? ''}`);
      return response;
    },
    hash: (data, alg) => new Uint8Array(nodeCrypto.createHash(alg.replace('-', '')).update(data).digest()),
    generateRandom: (n) => new Uint8Array(nodeCrypto.randomBytes(n)),
    // direct_post.jwt: the library picks the verifier's key, alg, enc, apu and apv; jose seals.
    encryptJwe: async (encryptor, data) => {
      const key = await jose.importJWK(encryptor.publicJwk, encryptor.alg);
      const header = { alg: encryptor.alg, enc: encryptor.enc, ...(encryptor.publicJwk.kid ? { kid: encryptor.publicJwk.kid } : {}) };
      const params = {};
      if (encryptor.apu) params.apu = Buffer.from(encryptor.apu, 'base64url');
      if (encryptor.apv) params.apv = Buffer.from(encryptor.apv, 'base64url');
      const jwe = await new jose.CompactEncrypt(new TextEncoder().encode(data)).setProtectedHeader(header).setKeyManagementParameters(params).encrypt(key);
      return { encryptionJwk: encryptor.publicJwk, jwe };
    },
    // Signed request objects: only a certificate verifier's (x5c) whose chain leads to the
    // --trust-anchor; a redirect_uri: request may not be signed, and DIDs are not trusted here.
    verifyJwt: async (signer, { compact, header, payload }) => {
      if (signer.method !== 'x5c' || !anchor) return { verified: false };
      const chain = signer.x5c.map((c) => new nodeCrypto.X509Certificate(Buffer.from(c, 'base64')));
      const now = new Date();
      for (let i = 0; i < chain.length; i++) {
        const cert = chain[i];
        const issuer = chain[i + 1] ?? anchor;
        if (new Date(cert.validFrom) > now || new Date(cert.validTo) < now) throw new WalletFailure(`certificate ${i} is outside its validity`);
        if (!cert.checkIssued(issuer) || !cert.verify(issuer.publicKey)) throw new WalletFailure(`certificate ${i} does not chain to the trust anchor`);
      }
      const leaf = chain[0];
      const responseHost = new URL(String(payload.response_uri)).hostname;
      if (!leaf.checkHost(responseHost) && !leaf.checkIP(responseHost)) throw new WalletFailure(`response_uri host ${responseHost} is not named by the certificate`);
      const key = await jose.importX509(leaf.toString(), header.alg);
      await jose.compactVerify(compact, key);
      log(`verified x5c request object: ${leaf.subject.replace(/\n/g, ', ')}; chain to the trust anchor`);
      return { verified: true, signerJwk: await jose.exportJWK(key) };
    },
    getX509CertificateMetadata: (certificate) => {
      const names = (new nodeCrypto.X509Certificate(Buffer.from(certificate, 'base64')).subjectAltName ?? '').split(', ');
      const of = (kind) => names.filter((n) => n.startsWith(`${kind}:`)).map((n) => n.slice(kind.length + 1));
      return { sanDnsNames: [...of('DNS'), ...of('IP Address')], sanUriNames: of('URI') };
    },
  };
  const anchor = opts['trust-anchor'] ? new nodeCrypto.X509Certificate(fs.readFileSync(opts['trust-anchor'])) : null;
  const client = new vp.Openid4vpClient({ callbacks });

  const parsed = client.parseOpenid4vpAuthorizationRequest({ authorizationRequest: opts.request });
  log(parsed.type === 'jar' ? `resolving ${parsed.params.request_uri ?? 'the request object in the link'}` : 'request by value');
  const resolved = await client.resolveOpenId4vpAuthorizationRequest({ authorizationRequestPayload: parsed.params });
  const request = resolved.authorizationRequestPayload;
  // A request that fails the library's request schema can still pass its z.union (the
  // all-optional JAR schema matches anything), so these schema checks are the script's.
  if (request.response_type !== 'vp_token') throw new WalletFailure(`response_type ${request.response_type}, want vp_token`);
  if (typeof request.nonce !== 'string' || !request.nonce) throw new WalletFailure('request has no nonce string');
  if (request.state !== undefined && typeof request.state !== 'string') throw new WalletFailure('state is not a string');
  if (opts['https-only'] && !String(request.response_uri).startsWith('https://')) throw new WalletFailure(`response_uri ${request.response_uri} is not https://`);
  const prefixes = anchor ? ['redirect_uri', 'x509_hash', 'x509_san_dns'] : ['redirect_uri'];
  if (!prefixes.includes(resolved.client.prefix)) throw new WalletFailure(`client id prefix ${resolved.client.prefix}: this wallet accepts ${prefixes.join(', ')}`);
  log(`client id prefix: ${resolved.client.prefix}`);
  if (!['direct_post', 'direct_post.jwt'].includes(request.response_mode)) throw new WalletFailure(`response_mode ${request.response_mode}: this wallet supports direct_post and direct_post.jwt`);
  if (!resolved.dcql) throw new WalletFailure('request has no dcql_query');
  const aud = resolved.client.effective; // full client_id, prefix included (OID4VP 1.0 SD-JWT VC appendix)
  log(`request: client_id=${aud} draft=${resolved.version} (100 = 1.0) nonce=${request.nonce} state=${request.state ?? '-'}`);

  const sdjwt = new SDJwtVcInstance({ hasher: digest, kbSignAlg: KB_ALG });
  const record = { client_id: aud, response_uri: request.response_uri, state: request.state, nonce: request.nonce };
  let responsePayload;
  if (opts.decline) {
    responsePayload = { error: 'access_denied' };
    record.declined = true;
  } else {
    const kbAlgs = request.client_metadata?.vp_formats_supported?.['dc+sd-jwt']?.['kb-jwt_alg_values'];
    if (kbAlgs && !kbAlgs.includes(KB_ALG)) throw new WalletFailure(`verifier does not accept ${KB_ALG} KB-JWTs (${kbAlgs})`);
    const answers = await matchDcql(resolved.dcql.query, wallet, sdjwt, opts.index);
    const vpToken = {};
    record.presented = [];
    for (const a of answers) {
      const paths = [];
      for (const p of [...a.paths, ...opts['disclose-extra'].map(parseClaimPath)]) {
        if (lookup(a.claims, p) === undefined) throw new WalletFailure(`credential ${a.index} has no claim ${p.join('.')}`);
        paths.push(...leafPaths(lookup(a.claims, p), p)); // an object path means the whole object
      }
      const frame = {};
      for (const p of paths) p.reduce((node, k, i) => (node[k] = i === p.length - 1 ? true : (typeof node[k] === 'object' ? node[k] : {})), frame);
      const kbSigner = await ES256.getSigner(holderPrivateJwk(wallet, a.claims.cnf?.jwk));
      const presentation = await new SDJwtVcInstance({ hasher: digest, kbSigner, kbSignAlg: KB_ALG }).present(a.credential, frame, {
        kb: { payload: { iat: Math.floor(Date.now() / 1000), aud, nonce: request.nonce } },
      });
      const shown = await sdjwt.getClaims(presentation);
      const lost = paths.filter((p) => lookup(shown, p) === undefined);
      if (lost.length) throw new WalletFailure(`presentation lacks ${lost.map((p) => p.join('.')).join(', ')}`);
      const nDisclosures = presentation.split('~').length - 2;
      log(`presenting credential ${a.index} for query ${a.id}: ${paths.map((p) => p.join('.')).join(', ')} (${nDisclosures} disclosures)`);
      vpToken[a.id] = [presentation];
      record.presented.push({ credential_query_id: a.id, index: a.index, paths, presentation });
    }
    responsePayload = { vp_token: vpToken };
  }
  // create… adds the request's state (and for direct_post.jwt seals it to the verifier's key,
  // preferring A256GCM as HAIP 1.0 §5 asks); submit… form-encodes (objects as JSON) and POSTs.
  const jarm = request.response_mode === 'direct_post.jwt' ? {
    encryption: {},
    serverMetadata: {
      authorization_encryption_alg_values_supported: ['ECDH-ES'],
      authorization_encryption_enc_values_supported: ['A256GCM', 'A128GCM'],
    },
  } : undefined;
  const created = await client.createOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: request, authorizationResponsePayload: responsePayload, jarm,
  });
  if (jarm) {
    const header = jose.decodeProtectedHeader(created.jarm.responseJwt);
    log(`encrypted: ${header.alg} ${header.enc} kid=${header.kid ?? '-'}`);
    record.encrypted = { alg: header.alg, enc: header.enc, kid: header.kid };
  }
  const { response } = await client.submitOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: request, authorizationResponsePayload: created.authorizationResponsePayload, jarm: created.jarm,
  });
  const text = await response.text();
  let answer;
  try { answer = JSON.parse(text); } catch { answer = text; }
  process.stdout.write(`${JSON.stringify(answer)}\n`);
  if (opts.out) fs.writeFileSync(opts.out, `${JSON.stringify({ http_status: response.status, answer, ...record }, null, 2)}\n`);
  if (!response.ok) throw new WalletFailure(`verifier answered HTTP ${response.status}: ${text.slice(0, 500)}`);
  if (!(response.headers.get('content-type') ?? '').includes('application/json')) log(`note: answer Content-Type is ${response.headers.get('content-type')}`);
  log(`ok: HTTP ${response.status}${answer?.redirect_uri ? ` redirect_uri=${answer.redirect_uri}` : ''}`);
}

run(parseCli()).catch((err) => {
  let msg = err?.message ?? String(err);
  if (err?.errorResponse) msg += `\n  error response: ${JSON.stringify(err.errorResponse)}`;
  if (err?.cause?.message) msg += `\n  cause: ${err.cause.message}`;
  log(`FAIL: ${err?.constructor?.name && err.constructor.name !== 'WalletFailure' ? `[${err.constructor.name}] ` : ''}${msg}`);
  process.exit(1);
});
