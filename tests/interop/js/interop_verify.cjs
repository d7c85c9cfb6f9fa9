/*
 * The verify command of the Node.js interop peer (interop.cjs): an SD-JWT VC and presentation
 * issued elsewhere (civic-id or the other peer) are verified with @sd-jwt/sd-jwt-vc (status list
 * served offline), plus the checks the library skips and the negative self-checks.
 */
'use strict';

const { SDJwtVcInstance } = require('@sd-jwt/sd-jwt-vc');
const { ES256, digest } = require('@sd-jwt/crypto-nodejs');

const {
  ISSUER,
  PRODUCER,
  VC_TYP,
  CLOCK_SKEW,
  InteropFailure,
  log,
  now,
  b64urlJson,
  sha256b64url,
  decodeJwtPart,
  canon,
  publicEcJwk,
  sameEcKey,
  MISSING,
  lookup,
  fmtPath,
  readJson,
} = require('./interop_common.cjs');
const { verifyStatusToken } = require('./interop_status.cjs');

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

module.exports = {
  OfflineSdJwtVc,
  makeVerifierInstance,
  cmdVerify,
};
