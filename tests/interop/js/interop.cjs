#!/usr/bin/env node
/*
 * Peer side of the civic-id SD-JWT VC interoperability tests (Node.js, CommonJS).
 *
 * Uses @sd-jwt/sd-jwt-vc, @sd-jwt/jwt-status-list and @sd-jwt/crypto-nodejs
 * (all 0.19.0) and jose.  Run with
 *
 *   NODE_PATH=/work/main/.tools/node/node_modules node tests/interop/js/interop.cjs <command> FILE
 *
 * Commands (file formats: ../README.md):
 *   issue OUT.json          issue an SD-JWT VC + presentation with the peer library
 *   verify IN.json          verify someone else's SD-JWT VC + presentation
 *   status-encode OUT.json  encode Token Status Lists (bits 1/2/4/8) + a signed token
 *   status-decode IN.json   decode someone else's status lists / status list token
 *
 * stdout carries only the JSON result (verify: the processed presentation claims);
 * progress and diagnostics go to stderr.  Exit code 0 = success, 1 = failure.
 */
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { pathToFileURL } = require('node:url');

const { SDJwtVcInstance } = require('@sd-jwt/sd-jwt-vc');
const { ES256, digest, generateSalt } = require('@sd-jwt/crypto-nodejs');
const {
  StatusList,
  createHeaderAndPayload,
  getListFromStatusListJWT,
} = require('@sd-jwt/jwt-status-list');

function pkgVersion(name) {
  // package.json of a dependency (not always in its "exports"): find it next to the entry point
  let dir = path.dirname(require.resolve(name));
  for (;;) {
    const candidate = path.join(dir, 'package.json');
    if (fs.existsSync(candidate)) {
      const pkg = JSON.parse(fs.readFileSync(candidate, 'utf8'));
      if (pkg.name === name) return pkg.version;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

const SD_JWT_VC_VERSION = pkgVersion('@sd-jwt/sd-jwt-vc');
const STATUS_LIST_VERSION = pkgVersion('@sd-jwt/jwt-status-list');
const PRODUCER = `@sd-jwt/sd-jwt-vc ${SD_JWT_VC_VERSION}`;

const ISSUER = 'https://issuer.example';
const VCT = 'https://issuer.example/credentials/residency';
const STATUS_URI = 'https://issuer.example/status/1';
const STATUS_IDX = 7;
const AUD = 'https://verifier.example';
const KID = 'key-1';
const VC_TYP = 'dc+sd-jwt';
const STATUS_TYP = 'statuslist+jwt';
const ONE_YEAR = 365 * 24 * 3600;
const CLOCK_SKEW = 300;
const STATUS_COUNT = 1001; // not a multiple of 8: exercises the partially filled last byte

const EXPECTED_ABSENT = [
  ['given_name'],
  ['family_name'],
  ['birthdate'],
  ['address', 'street_address'],
  ['residence', 'municipality'],
  ['age_equal_or_over', '18'],
];

class InteropFailure extends Error {
  constructor(message) {
    super(message);
    this.name = 'InteropFailure';
  }
}

const log = (msg) => process.stderr.write(`${msg}\n`);
const now = () => Math.floor(Date.now() / 1000);

let josePromise;
function loadJose() {
  // jose >= 5 is ESM-only.  Node >= 20.19 can require() it; fall back to import().
  if (!josePromise) {
    josePromise = (async () => {
      try {
        return require('jose');
      } catch (e) {
        if (e.code !== 'ERR_REQUIRE_ESM' && e.code !== 'ERR_REQUIRE_ASYNC_MODULE') throw e;
        return import(pathToFileURL(require.resolve('jose')).href);
      }
    })();
  }
  return josePromise;
}

const b64urlDecode = (s) => Buffer.from(s, 'base64url');
const b64urlJson = (s) => JSON.parse(b64urlDecode(s).toString('utf8'));
const sha256b64url = (s) => crypto.createHash('sha256').update(s, 'ascii').digest('base64url');

function decodeJwtPart(jwt, index) {
  const parts = jwt.split('.');
  if (parts.length !== 3) throw new InteropFailure(`not a compact JWS (expected 3 parts, got ${parts.length})`);
  return b64urlJson(parts[index]);
}

function canon(value) {
  if (Array.isArray(value)) return `[${value.map(canon).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canon(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

const publicEcJwk = (jwk, extra = {}) => ({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, ...extra });
const sameEcKey = (a, b) => ['kty', 'crv', 'x', 'y'].every((k) => a && b && a[k] === b[k]);

const MISSING = Symbol('missing');
function lookup(claims, p) {
  let node = claims;
  for (const el of p) {
    if (typeof el === 'number') {
      if (!Array.isArray(node) || el < 0 || el >= node.length) return MISSING;
      node = node[el];
    } else {
      if (node === null || typeof node !== 'object' || Array.isArray(node) || !Object.hasOwn(node, el)) return MISSING;
      node = node[el];
    }
  }
  return node;
}
const fmtPath = (p) => p.map((el) => (typeof el === 'number' ? `[${el}]` : `.${el}`)).join('').replace(/^\./, '');

const writeJson = (file, obj) => fs.writeFileSync(file, `${JSON.stringify(obj, null, 2)}\n`);
const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));

// ---------------------------------------------------------------------------
// SD-JWT VC instance
// ---------------------------------------------------------------------------

/**
 * SDJwtVcInstance whose status check does not go to the network: with a
 * status list token given it is served from memory (and verified with the
 * issuer key by the library); without one the status check is skipped.
 */
class OfflineSdJwtVc extends SDJwtVcInstance {
  constructor(config, statusListToken) {
    super({
      ...config,
      statusListFetcher: async (uri) => {
        if (!statusListToken) throw new InteropFailure(`no status list token for ${uri}`);
        return statusListToken;
      },
    });
    this.statusListToken = statusListToken;
  }

  async verifyStatus(result, options) {
    if (!this.statusListToken) return undefined;
    return super.verifyStatus(result, options);
  }
}

async function makeVerifierInstance(issuerJwk, statusListToken) {
  const issuerVerifier = await ES256.getVerifier(publicEcJwk(issuerJwk));
  return new OfflineSdJwtVc(
    {
      hasher: digest,
      hashAlg: 'sha-256',
      verifier: issuerVerifier,
      // the library passes the *processed* SD-JWT claims as 3rd argument: take the key from cnf.jwk
      kbVerifier: async (data, sig, payload) => {
        const jwk = payload && payload.cnf && payload.cnf.jwk;
        if (!jwk) throw new InteropFailure('no cnf.jwk in the SD-JWT');
        return (await ES256.getVerifier(publicEcJwk(jwk)))(data, sig);
      },
    },
    statusListToken,
  );
}

// ---------------------------------------------------------------------------
// issue
// ---------------------------------------------------------------------------

async function cmdIssue(out) {
  const issuerKeys = await ES256.generateKeyPair();
  const holderKeys = await ES256.generateKeyPair();
  const issuerJwk = publicEcJwk(issuerKeys.publicKey, { kid: KID, alg: 'ES256' });
  const holderJwk = publicEcJwk(holderKeys.publicKey);
  const iat = now();
  const pseudonym = `pid-${crypto.randomBytes(16).toString('hex')}`;

  const sdjwt = new SDJwtVcInstance({
    signer: await ES256.getSigner(issuerKeys.privateKey),
    signAlg: 'ES256',
    verifier: await ES256.getVerifier(issuerKeys.publicKey),
    hasher: digest,
    hashAlg: 'sha-256',
    saltGenerator: generateSalt,
    kbSigner: await ES256.getSigner(holderKeys.privateKey),
    kbSignAlg: 'ES256',
  });

  const claims = {
    iss: ISSUER,
    vct: VCT,
    iat,
    nbf: iat,
    exp: iat + ONE_YEAR,
    // the library does not add cnf itself: put the holder's public JWK there
    cnf: { jwk: holderJwk },
    status: { status_list: { idx: STATUS_IDX, uri: STATUS_URI } },
    given_name: 'Erika',
    family_name: 'Mustermann',
    birthdate: '1963-08-12',
    address: { street_address: 'Damrak 1', locality: 'Amsterdam', postal_code: '1012 LG', country: 'NL' },
    residence: { municipality: 'Amsterdam', municipality_code: '0363', district: '3' },
    age_equal_or_over: { 16: true, 18: true, 65: false },
    nationalities: ['NL', 'DE'],
    pseudonyms: { 'https://budget.example': pseudonym },
  };
  const disclosureFrame = {
    _sd: ['given_name', 'family_name', 'birthdate'],
    _sd_decoy: 2,
    address: { _sd: ['street_address', 'locality', 'postal_code', 'country'], _sd_decoy: 1 },
    residence: { _sd: ['municipality', 'municipality_code', 'district'], _sd_decoy: 1 },
    age_equal_or_over: { _sd: ['16', '18', '65'], _sd_decoy: 1 },
    nationalities: { _sd: [0, 1], _sd_decoy: 1 }, // array decoys are appended after the real elements
    pseudonyms: { _sd: ['https://budget.example'] },
  };
  // typ defaults to dc+sd-jwt for SDJwtVcInstance; kid goes in via options.header
  const sdJwt = await sdjwt.issue(claims, disclosureFrame, { header: { kid: KID } });

  const nonce = crypto.randomBytes(24).toString('base64url');
  // keys of the presentation frame are joined with "." internally; array elements by index
  const presentationFrame = {
    residence: { municipality_code: true },
    age_equal_or_over: { 16: true },
    pseudonyms: { 'https://budget.example': true },
    nationalities: { 0: true },
  };
  const presentation = await sdjwt.present(sdJwt, presentationFrame, {
    kb: { payload: { iat: now(), aud: AUD, nonce } },
  });

  const result = {
    producer: PRODUCER,
    issuer: ISSUER,
    issuer_jwk: issuerJwk,
    holder_jwk: holderJwk,
    vct: VCT,
    sd_jwt: sdJwt,
    presentation,
    aud: AUD,
    nonce,
    expected_present: [
      [['residence', 'municipality_code'], '0363'],
      [['age_equal_or_over', '16'], true],
      [['pseudonyms', 'https://budget.example'], pseudonym],
      [['nationalities', 0], 'NL'],
    ],
    expected_absent: EXPECTED_ABSENT,
    // optional extra: status list token (issuer key) in which idx 7 is VALID
    status_list_token: await makeStatusToken(issuerKeys.privateKey, 2, referenceStatusTokenList()),
  };
  writeJson(out, result);
  log(
    `issued: ${sdJwt.split('~').length - 2} disclosures; presented ${presentation.split('~').length - 2} disclosures -> ${out}`,
  );
}

// ---------------------------------------------------------------------------
// verify
// ---------------------------------------------------------------------------

function collectDigests(node, byDigest, seen) {
  if (Array.isArray(node)) {
    for (const el of node) {
      if (el && typeof el === 'object' && !Array.isArray(el) && Object.keys(el).length === 1 && '...' in el) {
        const d = el['...'];
        seen.push(d);
        if (byDigest.has(d)) {
          if (byDigest.get(d).length !== 2) throw new InteropFailure(`object-property disclosure ${JSON.stringify(byDigest.get(d))} referenced from an array element`);
          collectDigests(byDigest.get(d).at(-1), byDigest, seen);
        }
      } else {
        collectDigests(el, byDigest, seen);
      }
    }
  } else if (node && typeof node === 'object') {
    const names = new Set(Object.keys(node).filter((k) => k !== '_sd'));
    for (const [k, v] of Object.entries(node)) {
      if (k === '_sd' && Array.isArray(v)) {
        for (const d of v) {
          seen.push(d);
          if (!byDigest.has(d)) continue;
          const disclosed = byDigest.get(d);
          if (disclosed.length !== 3) throw new InteropFailure(`array-element disclosure ${JSON.stringify(disclosed)} referenced from an object's _sd`);
          // the library silently lets a disclosure overwrite a plaintext claim of the same name
          if (names.has(disclosed[1])) throw new InteropFailure(`claim name ${JSON.stringify(disclosed[1])} occurs twice in one object (plaintext or another disclosure)`);
          names.add(disclosed[1]);
          collectDigests(disclosed.at(-1), byDigest, seen);
        }
      } else {
        collectDigests(v, byDigest, seen);
      }
    }
  }
}

/** Checks the library skips: unreferenced / duplicate disclosures and digests, reserved names. */
function scriptDisclosureChecks(compact, label) {
  const parts = compact.split('~');
  const payload = decodeJwtPart(parts[0], 1);
  const byDigest = new Map();
  for (const d of parts.slice(1, -1)) {
    const dg = sha256b64url(d);
    if (byDigest.has(dg)) throw new InteropFailure(`${label}: duplicate disclosure ${d}`);
    const decoded = b64urlJson(d);
    if (!Array.isArray(decoded) || (decoded.length !== 2 && decoded.length !== 3)) {
      throw new InteropFailure(`${label}: malformed disclosure ${JSON.stringify(decoded)}`);
    }
    if (decoded.length === 3 && (decoded[1] === '_sd' || decoded[1] === '...')) {
      throw new InteropFailure(`${label}: disclosure uses reserved claim name ${decoded[1]}`);
    }
    byDigest.set(dg, decoded);
  }
  const seen = [];
  try {
    collectDigests(payload, byDigest, seen);
  } catch (e) {
    if (e instanceof InteropFailure) throw new InteropFailure(`${label}: ${e.message}`);
    throw e;
  }
  if (new Set(seen).size !== seen.length) throw new InteropFailure(`${label}: a digest appears more than once`);
  const unreferenced = [...byDigest.keys()].filter((d) => !seen.includes(d));
  if (unreferenced.length) {
    throw new InteropFailure(
      `${label}: ${unreferenced.length} disclosure(s) not referenced by any digest: ${unreferenced
        .map((d) => JSON.stringify(byDigest.get(d)))
        .join(', ')}`,
    );
  }
}

function checkIssuerHeader(header, issuerJwk, label) {
  if (!header || header.typ !== VC_TYP) throw new InteropFailure(`${label}: header typ is ${JSON.stringify(header && header.typ)}, expected "${VC_TYP}"`);
  if (header.alg !== 'ES256') throw new InteropFailure(`${label}: header alg is ${JSON.stringify(header.alg)}, expected "ES256"`);
  if (issuerJwk.kid && header.kid !== undefined && header.kid !== issuerJwk.kid) {
    throw new InteropFailure(`${label}: header kid ${JSON.stringify(header.kid)} != issuer_jwk kid ${JSON.stringify(issuerJwk.kid)}`);
  }
}

function tamperKbSignature(presentation) {
  const cut = presentation.lastIndexOf('~');
  const kb = presentation.slice(cut + 1);
  if (!kb) throw new InteropFailure('presentation has no KB-JWT');
  const dot = kb.lastIndexOf('.');
  const sig = kb.slice(dot + 1);
  const mid = Math.floor(sig.length / 2);
  const repl = sig[mid] === 'A' ? 'B' : 'A';
  return `${presentation.slice(0, cut + 1)}${kb.slice(0, dot + 1)}${sig.slice(0, mid)}${repl}${sig.slice(mid + 1)}`;
}

async function expectRejection(name, fn) {
  try {
    await fn();
  } catch (e) {
    log(`  negative check '${name}': rejected as expected (${e.name}: ${e.message})`);
    return;
  }
  throw new InteropFailure(`negative check '${name}': the peer library ACCEPTED it`);
}

function checkKbJwt(presentation, aud, maxKbAge) {
  const kb = presentation.slice(presentation.lastIndexOf('~') + 1);
  const payload = decodeJwtPart(kb, 1);
  // @sd-jwt/core's verifyKB() does not check aud at all, nor iat freshness
  if (payload.aud !== aud) throw new InteropFailure(`KB-JWT aud ${JSON.stringify(payload.aud)} != ${JSON.stringify(aud)}`);
  if (!Number.isInteger(payload.iat) || payload.iat > now() + CLOCK_SKEW) {
    throw new InteropFailure(`KB-JWT iat ${JSON.stringify(payload.iat)} missing, not an integer or in the future`);
  }
  if (maxKbAge && payload.iat < now() - maxKbAge) throw new InteropFailure(`KB-JWT iat ${payload.iat} older than ${maxKbAge}s`);
  if (decodeJwtPart(kb, 0).alg !== 'ES256') throw new InteropFailure('KB-JWT alg is not ES256');
}

async function cmdVerify(input, opts) {
  const data = readJson(input);
  for (const f of ['issuer_jwk', 'holder_jwk', 'sd_jwt', 'presentation', 'aud', 'nonce']) {
    if (!(f in data)) throw new InteropFailure(`input is missing field "${f}"`);
  }
  const issuer = data.issuer || ISSUER;
  log(`verifying file from producer ${JSON.stringify(data.producer || '?')} with ${PRODUCER}`);
  const statusToken = data.status_list_token || undefined;
  const vc = await makeVerifierInstance(data.issuer_jwk, statusToken);
  if (!statusToken) log('  (no status_list_token in file: status check skipped)');

  // --- issuance form -----------------------------------------------------
  if (!data.sd_jwt.endsWith('~')) throw new InteropFailure("sd_jwt (issuance form) must end with '~' (no KB-JWT)");
  let full;
  try {
    full = await vc.verify(data.sd_jwt);
  } catch (e) {
    if (e instanceof InteropFailure) throw e;
    throw new InteropFailure(`sd_jwt rejected by peer library: ${e.name}: ${e.message}`);
  }
  checkIssuerHeader(full.header, data.issuer_jwk, 'sd_jwt');
  scriptDisclosureChecks(data.sd_jwt, 'sd_jwt');
  if (full.payload.iss !== issuer) throw new InteropFailure(`sd_jwt: iss ${JSON.stringify(full.payload.iss)} != ${JSON.stringify(issuer)}`);
  if (data.vct && full.payload.vct !== data.vct) throw new InteropFailure(`sd_jwt: vct ${JSON.stringify(full.payload.vct)} != ${JSON.stringify(data.vct)}`);
  for (const [p, value] of data.expected_present || []) {
    const got = lookup(full.payload, p);
    if (got === MISSING || canon(got) !== canon(value)) {
      throw new InteropFailure(`sd_jwt: ${fmtPath(p)} is ${got === MISSING ? 'absent' : JSON.stringify(got)}, expected ${JSON.stringify(value)}`);
    }
  }
  for (const p of data.expected_absent || []) {
    if (lookup(full.payload, p) === MISSING) throw new InteropFailure(`sd_jwt: ${fmtPath(p)} should be disclosable but is missing from the full issuance`);
  }
  log(`  sd_jwt OK (${data.sd_jwt.split('~').length - 2} disclosures)`);

  // --- presentation ------------------------------------------------------
  const presentation = data.presentation;
  if (presentation.endsWith('~')) throw new InteropFailure('presentation has no KB-JWT');
  // requiredClaimKeys: the library's own presence check, dot-joined paths over the processed claims
  const requiredClaimKeys = (data.expected_present || []).map(([p]) => p.join('.'));
  const verifyPresentation = (pres, nonce, instance = vc) =>
    instance.verify(pres, { keyBindingNonce: nonce, requiredClaimKeys });
  let res;
  try {
    res = await verifyPresentation(presentation, data.nonce);
  } catch (e) {
    if (e instanceof InteropFailure) throw e;
    throw new InteropFailure(`presentation rejected by peer library: ${e.name}: ${e.message}`);
  }
  if (!res.kb) throw new InteropFailure('library returned no key-binding result');
  checkIssuerHeader(res.header, data.issuer_jwk, 'presentation');
  scriptDisclosureChecks(presentation, 'presentation');
  checkKbJwt(presentation, data.aud, opts.maxKbAge);
  const claims = res.payload;
  if (!sameEcKey(claims.cnf && claims.cnf.jwk, data.holder_jwk)) {
    throw new InteropFailure(`cnf.jwk ${JSON.stringify(claims.cnf && claims.cnf.jwk)} does not match holder_jwk`);
  }
  for (const [p, value] of data.expected_present || []) {
    const got = lookup(claims, p);
    if (got === MISSING) throw new InteropFailure(`presentation: expected ${fmtPath(p)} = ${JSON.stringify(value)}, but it is absent`);
    if (canon(got) !== canon(value)) throw new InteropFailure(`presentation: ${fmtPath(p)} is ${JSON.stringify(got)}, expected ${JSON.stringify(value)}`);
  }
  for (const p of data.expected_absent || []) {
    const got = lookup(claims, p);
    if (got !== MISSING) throw new InteropFailure(`presentation: ${fmtPath(p)} should be absent but is ${JSON.stringify(got)}`);
  }
  log(`  presentation OK (${presentation.split('~').length - 2} disclosures, KB-JWT verified${statusToken ? ', status VALID' : ''})`);
  if (statusToken) {
    const st = await verifyStatusToken(statusToken, data.issuer_jwk, claims.status && claims.status.status_list && claims.status.status_list.uri);
    log(`  status_list_token OK (jose signature/typ/sub; idx ${claims.status.status_list.idx} = ${st.list.getStatus(claims.status.status_list.idx)})`);
  }

  // --- negative self-checks ------------------------------------------------
  await expectRejection('tampered KB-JWT signature', () => verifyPresentation(tamperKbSignature(presentation), data.nonce));
  await expectRejection('wrong nonce', () => verifyPresentation(presentation, `${data.nonce}-wrong`));
  const other = await ES256.generateKeyPair();
  const otherVc = await makeVerifierInstance(publicEcJwk(other.publicKey), undefined);
  await expectRejection('issuer signature checked with another key', () => verifyPresentation(presentation, data.nonce, otherVc));
  // the library never checks aud; make sure our own check does
  await expectRejection('wrong aud (script check; library does not check aud)', async () => checkKbJwt(presentation, 'https://attacker.example', 0));

  process.stdout.write(`${JSON.stringify(claims, null, 2)}\n`);
  log('verify: OK');
}

// ---------------------------------------------------------------------------
// status lists
// ---------------------------------------------------------------------------

function statusPattern(bits, n) {
  const modulus = { 1: 2, 2: 3, 4: 16, 8: 256 }[bits];
  return Array.from({ length: n }, (_, i) => (i * 7 + 3) % modulus);
}

function referenceStatusTokenList() {
  const statuses = new Array(32).fill(0);
  statuses[3] = 1; // INVALID
  statuses[9] = 2; // SUSPENDED
  return statuses; // idx 7 stays VALID
}

async function makeStatusToken(privateJwk, bits, statuses) {
  const jose = await loadJose();
  const list = new StatusList([...statuses], bits);
  const iat = now();
  const { header, payload } = createHeaderAndPayload(
    list,
    { iss: ISSUER, sub: STATUS_URI, iat, exp: iat + 86400, ttl: 300 },
    { alg: 'ES256', typ: STATUS_TYP, kid: KID },
  );
  const key = await jose.importJWK({ ...privateJwk, alg: 'ES256' }, 'ES256');
  return new jose.SignJWT(payload).setProtectedHeader(header).sign(key);
}

async function verifyStatusToken(token, issuerJwk, expectedSub) {
  const jose = await loadJose();
  let verified;
  try {
    const key = await jose.importJWK({ ...publicEcJwk(issuerJwk), alg: 'ES256' }, 'ES256');
    verified = await jose.jwtVerify(token, key, { typ: STATUS_TYP, algorithms: ['ES256'] });
  } catch (e) {
    throw new InteropFailure(`status list token rejected by jose: ${e.code || e.name}: ${e.message}`);
  }
  const { payload, protectedHeader } = verified;
  if (protectedHeader.typ !== STATUS_TYP) throw new InteropFailure(`status list token typ ${protectedHeader.typ}`);
  for (const c of ['sub', 'iat']) if (!(c in payload)) throw new InteropFailure(`status list token has no ${c}`);
  if (expectedSub !== undefined && payload.sub !== expectedSub) {
    throw new InteropFailure(`status list token sub ${JSON.stringify(payload.sub)} != ${JSON.stringify(expectedSub)}`);
  }
  if ('ttl' in payload && !(Number.isInteger(payload.ttl) && payload.ttl > 0)) {
    throw new InteropFailure(`status list token ttl ${JSON.stringify(payload.ttl)} is not a positive integer`);
  }
  let list;
  try {
    list = getListFromStatusListJWT(token);
  } catch (e) {
    throw new InteropFailure(`status list token: library cannot decode status_list: ${e.message}`);
  }
  return { payload, header: protectedHeader, list };
}

function checkDecoded(label, list, bits, statuses) {
  const perByte = 8 / bits;
  const padded = Math.ceil(statuses.length / perByte) * perByte;
  const decoded = list.statusList;
  if (decoded.length !== padded) {
    throw new InteropFailure(`${label}: decoded ${decoded.length} entries, expected ${padded} (${statuses.length} rounded up to whole bytes)`);
  }
  statuses.forEach((s, i) => {
    const got = list.getStatus(i);
    if (got !== s) throw new InteropFailure(`${label}: status[${i}] decoded as ${got}, expected ${s}`);
  });
  for (let i = statuses.length; i < decoded.length; i++) {
    if (decoded[i] !== 0) log(`  warning: ${label}: padding entry ${i} is ${decoded[i]}, not 0`);
  }
}

async function cmdStatusEncode(out) {
  const cases = [1, 2, 4, 8].map((bits) => {
    const statuses = statusPattern(bits, STATUS_COUNT);
    const lst = new StatusList([...statuses], bits).compressStatusList();
    return { bits, statuses, lst };
  });
  const keys = await ES256.generateKeyPair();
  const tokenCase = cases.find((c) => c.bits === 2);
  const result = {
    producer: `@sd-jwt/jwt-status-list ${STATUS_LIST_VERSION}`,
    bits: tokenCase.bits,
    statuses: tokenCase.statuses,
    lst: tokenCase.lst,
    cases,
    token: await makeStatusToken(keys.privateKey, 2, tokenCase.statuses),
    issuer_jwk: publicEcJwk(keys.publicKey, { kid: KID, alg: 'ES256' }),
  };
  writeJson(out, result);
  log(`status-encode: ${cases.length} cases (${STATUS_COUNT} entries each) + token -> ${out}`);
}

async function cmdStatusDecode(input) {
  const data = readJson(input);
  log(`decoding status lists from producer ${JSON.stringify(data.producer || '?')} with @sd-jwt/jwt-status-list ${STATUS_LIST_VERSION}`);
  let cases = data.cases || [];
  if (!cases.length && data.lst) cases = [data];
  if (!cases.length && !data.token) throw new InteropFailure('input has neither cases nor token');
  cases.forEach((c, n) => {
    const label = `case ${n} (bits=${c.bits})`;
    let list;
    try {
      list = StatusList.decompressStatusList(c.lst, c.bits);
    } catch (e) {
      throw new InteropFailure(`${label}: cannot decode lst: ${e.message}`);
    }
    checkDecoded(label, list, c.bits, c.statuses);
    log(`  ${label}: ${c.statuses.length} statuses OK`);
  });
  if (data.token) {
    if (!data.issuer_jwk) throw new InteropFailure('token present but issuer_jwk missing');
    const { payload, list } = await verifyStatusToken(data.token, data.issuer_jwk);
    const match = cases.find((c) => c.bits === payload.status_list.bits);
    if (match) {
      checkDecoded('token', list, match.bits, match.statuses);
      log(`  token: jose signature, typ and list (bits=${match.bits}, matches case) OK`);
    } else {
      log(`  token: jose signature and typ OK (bits=${payload.status_list.bits}; no case with same bits to compare)`);
    }
  }
  log('status-decode: OK');
}

// ---------------------------------------------------------------------------

const USAGE = `usage: node interop.cjs <issue OUT.json | verify IN.json [--max-kb-age SECONDS] | status-encode OUT.json | status-decode IN.json>`;

async function main(argv) {
  const [command, file, ...rest] = argv;
  if (!command || !file) {
    log(USAGE);
    return 2;
  }
  const opts = { maxKbAge: 0 };
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--max-kb-age') opts.maxKbAge = Number.parseInt(rest[++i], 10);
    else {
      log(`unknown option ${rest[i]}\n${USAGE}`);
      return 2;
    }
  }
  try {
    switch (command) {
      case 'issue':
        await cmdIssue(file);
        break;
      case 'verify':
        await cmdVerify(file, opts);
        break;
      case 'status-encode':
        await cmdStatusEncode(file);
        break;
      case 'status-decode':
        await cmdStatusDecode(file);
        break;
      default:
        log(USAGE);
        return 2;
    }
    return 0;
  } catch (e) {
    log(e instanceof InteropFailure ? `FAIL: ${e.message}` : `FAIL: unexpected ${e.name}: ${e.message}\n${e.stack}`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
