#!/usr/bin/env node
/**
 * Peer benchmark: SD-JWT VC presentation verification with npm @sd-jwt/sd-jwt-vc (0.19.0, the
 * OpenWallet Foundation TypeScript implementation), timed inside this process.
 *
 *   NODE_PATH=$PWD/.tools/node/node_modules node tests/bench/peer_verify.mjs FILE.json [--seconds N]
 *
 * FILE.json: {"presentation": "<issuer-jwt>~<disclosures>~<kb-jwt>", "issuer_jwk": {EC P-256
 * public JWK}, "aud": "...", "nonce": "...", "iat": <the KB-JWT's iat>} (written by the Rust
 * bench to target/bench/presentation.json, or by make_test_presentation.py). `iat` is the
 * moment verification happens at (the library's `currentDate`), as in the Rust bench.
 *
 * stdout: `# ...` comment lines and exactly one `per_s: <float>` line (verified presentations
 * per second, one thread). Exit 0 on success; 1 if any verification fails (the warm-up, the
 * self-checks or any timed iteration), 2 on usage errors.
 *
 * One verification is `SDJwtVcInstance.verify(presentation, {keyBindingNonce, currentDate,
 * skewSeconds: 60})`, the library's documented API, which does:
 *   - the issuer-signed JWT's ES256 signature (`verifier`, issuer key imported once at start-up:
 *     an issuer key cache like civic-verifier's), and its iat / nbf / exp against currentDate;
 *   - disclosures hashed (`hasher`), matched to the digests (nested too), claims unpacked;
 *   - the KB-JWT: typ kb+jwt, iat/aud/nonce/sd_hash present, ES256 signature with the holder key
 *     from cnf.jwk (`kbVerifier`, which imports that JWK on every call, as a verifier must: each
 *     presentation has its own holder key), the nonce, and sd_hash over the presented SD-JWT;
 *   - the status (status.status_list {idx, uri}): the library always checks it when the claim is
 *     there. `statusListFetcher` serves, from memory, a status list token made at start-up
 *     (all VALID, only as long as idx needs: the library inflates and decodes the whole list on
 *     every call and has no cache, so a short list keeps that cost small), and `statusVerifier`
 *     remembers the one token it has verified (civic-verifier also keeps a verified list
 *     for its ttl). So the status costs no signature verification per presentation.
 * and this script adds what the library leaves out and civic-verifier checks (all cheap):
 * issuer JWT header typ dc+sd-jwt and alg ES256, KB-JWT alg ES256, KB-JWT aud (the library only
 * checks that aud is there), KB-JWT iat within [now - 300 s, now + 60 s], vct and iss present,
 * and that the disclosed claims are there: residence.municipality_code,
 * age_equal_or_over.16 true, a pseudonym, cnf.jwk.
 *
 * Crypto backend: node:crypto (OpenSSL), synchronous one-shot `crypto.verify('sha256', data,
 * {key: KeyObject, dsaEncoding: 'ieee-p1363'}, signature)`: measured faster here than
 * WebCrypto `subtle.verify` (what @sd-jwt/crypto-nodejs's ES256.getVerifier uses) and equal to
 * createVerify. Holder keys: `crypto.createPublicKey({key: jwk, format: 'jwk'})`, the fastest
 * JWK import measured (faster than WebCrypto importKey or an SPKI DER import). Hasher:
 * node:crypto createHash('sha256'). Clock: performance.now() (monotonic).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';

const CLOCK_SKEW = 60; // civic-verifier's VerifierOptions::default()
const KB_MAX_AGE = 300;
const VC_TYP = 'dc+sd-jwt';
const STATUS_BITS = 2;

class Failure extends Error {}

const here = path.dirname(fileURLToPath(import.meta.url));
// ESM `import` ignores NODE_PATH: resolve through require (which honours NODE_PATH), then the
// project-local install that `cargo xtask setup` makes.
const resolvers = [
  createRequire(import.meta.url),
  createRequire(path.join(here, '..', '..', '.tools', 'node', 'package.json')),
];
function resolve(name) {
  for (const r of resolvers) {
    try { return r.resolve(name); } catch { /* next */ }
  }
  throw new Failure(`cannot find npm package ${name}: run \`cargo xtask setup\` and set NODE_PATH=.tools/node/node_modules`);
}
const load = async (name) => import(pathToFileURL(resolve(name)).href);
function packageVersion(name) {
  let dir = path.dirname(resolve(name));
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
}

function usage(msg) {
  process.stderr.write(`${msg}\nusage: peer_verify.mjs FILE.json [--seconds N]\n`);
  process.exit(2);
}

function parseCli() {
  let parsed;
  try {
    parsed = parseArgs({ allowPositionals: true, options: { seconds: { type: 'string', default: '3' } } });
  } catch (err) {
    usage(err.message);
  }
  const seconds = Number(parsed.values.seconds);
  if (parsed.positionals.length !== 1) usage('expected exactly one input file');
  if (!(seconds > 0)) usage('--seconds must be a positive number');
  return { file: parsed.positionals[0], seconds };
}

const b64json = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

/** ES256 verification with node:crypto, for the library's Verifier / KbVerifier callbacks. */
function es256Verify(key, data, signatureB64url) {
  return crypto.verify('sha256', Buffer.from(data, 'latin1'), { key, dsaEncoding: 'ieee-p1363' },
    Buffer.from(signatureB64url, 'base64url'));
}

function hasher(data, alg) {
  if (alg.toLowerCase() !== 'sha-256') throw new Failure(`unsupported _sd_alg ${alg}`);
  return crypto.createHash('sha256').update(data).digest();
}

/** A status list token (all VALID) for `uri`, covering `idx`, signed with a fresh key. */
async function makeStatusList(uri, idx, now) {
  const { StatusList, createHeaderAndPayload } = await load('@sd-jwt/jwt-status-list');
  const perByte = 8 / STATUS_BITS;
  const list = new StatusList(new Array(Math.ceil((idx + 1) / perByte) * perByte).fill(0), STATUS_BITS);
  const { header, payload } = createHeaderAndPayload(list, { sub: uri, iat: now - 60, exp: now + 3600, ttl: 3600 },
    { alg: 'ES256' });
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signingInput = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  const signature = crypto.sign('sha256', Buffer.from(signingInput), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return { uri, token: `${signingInput}.${signature.toString('base64url')}`, publicKey };
}

async function makeVerify(data) {
  const { SDJwtVcInstance } = await load('@sd-jwt/sd-jwt-vc');
  const { presentation, aud, nonce } = data;
  const now = Number(data.iat);
  const issuerKey = crypto.createPublicKey({ key: data.issuer_jwk, format: 'jwk' }); // cached issuer key
  const statusRef = b64json(presentation.split('~', 1)[0].split('.')[1]).status?.status_list ?? {};
  const status = await makeStatusList(statusRef.uri, Number(statusRef.idx ?? 0), now);
  let verifiedStatus = null; // [data, signature] of the status list token already verified

  const sdjwt = new SDJwtVcInstance({
    hasher,
    verifier: (signingInput, signature) => es256Verify(issuerKey, signingInput, signature),
    kbVerifier: (signingInput, signature, payload) => {
      const jwk = payload?.cnf?.jwk;
      if (!jwk) throw new Failure('no cnf.jwk');
      return es256Verify(crypto.createPublicKey({ key: jwk, format: 'jwk' }), signingInput, signature);
    },
    statusListFetcher: async (uri) => {
      if (uri !== status.uri) throw new Failure(`no status list for ${uri}`);
      return status.token;
    },
    statusVerifier: (signingInput, signature) => {
      if (verifiedStatus && verifiedStatus[0] === signingInput && verifiedStatus[1] === signature) return true;
      const ok = es256Verify(status.publicKey, signingInput, signature);
      if (ok) verifiedStatus = [signingInput, signature];
      return ok;
    },
  });

  return async function verify(compact = presentation, expectedNonce = nonce, expectedAud = aud) {
    const { payload, header, kb } = await sdjwt.verify(compact, {
      keyBindingNonce: expectedNonce, currentDate: now, skewSeconds: CLOCK_SKEW,
    });
    if (header?.typ !== VC_TYP || header?.alg !== 'ES256') throw new Failure(`issuer JWT typ/alg ${header?.typ}/${header?.alg}`);
    if (!kb || kb.header.alg !== 'ES256') throw new Failure('no ES256 KB-JWT');
    if (kb.payload.aud !== expectedAud) throw new Failure(`KB-JWT aud ${kb.payload.aud}`);
    const kbIat = kb.payload.iat;
    if (!Number.isInteger(kbIat) || kbIat < now - KB_MAX_AGE || kbIat > now + CLOCK_SKEW) throw new Failure(`KB-JWT iat ${kbIat} outside the accepted window`);
    if (payload.exp === undefined) throw new Failure('no exp');
    if (typeof payload.vct !== 'string' || typeof payload.iss !== 'string') throw new Failure('no vct or iss');
    if (typeof payload.residence?.municipality_code !== 'string') throw new Failure('residence.municipality_code missing');
    if (payload.age_equal_or_over?.['16'] !== true) throw new Failure('age_equal_or_over.16 is not true');
    if (!payload.pseudonyms || Object.keys(payload.pseudonyms).length === 0) throw new Failure('no pseudonym disclosed');
    if (!payload.cnf?.jwk) throw new Failure('no cnf.jwk');
    return payload;
  };
}

function tamperLastSignature(compact) {
  const i = compact.lastIndexOf('.');
  const sig = compact.slice(i + 1);
  const mid = sig.length >> 1;
  return `${compact.slice(0, i + 1)}${sig.slice(0, mid)}${sig[mid] === 'A' ? 'B' : 'A'}${sig.slice(mid + 1)}`;
}

/** The verification must reject broken input, or the rate would mean nothing. */
async function selfChecks(verify, data) {
  const [jwt, ...rest] = data.presentation.split('~');
  const cases = {
    'tampered KB-JWT signature': () => verify(tamperLastSignature(data.presentation)),
    'tampered issuer signature': () => verify([tamperLastSignature(jwt), ...rest].join('~')),
    'wrong nonce': () => verify(data.presentation, `${data.nonce}x`),
    'wrong aud': () => verify(data.presentation, data.nonce, `${data.aud}x`),
  };
  for (const [name, run] of Object.entries(cases)) {
    let accepted = false;
    try { await run(); accepted = true; } catch { /* rejected, as it must be */ }
    if (accepted) throw new Failure(`self-check: ${name} was ACCEPTED`);
  }
}

async function main() {
  const opts = parseCli();
  const data = JSON.parse(fs.readFileSync(opts.file, 'utf8'));
  for (const field of ['presentation', 'issuer_jwk', 'aud', 'nonce', 'iat']) {
    if (data[field] === undefined) throw new Failure(`${opts.file} has no "${field}"`);
  }
  const verify = await makeVerify(data);
  await verify();
  await selfChecks(verify, data);

  const warmUntil = performance.now() + 1000 * Math.min(1, Math.max(0.2, opts.seconds / 5));
  while (performance.now() < warmUntil) await verify();

  let n = 0;
  const start = performance.now();
  const end = start + 1000 * opts.seconds;
  let t;
  for (;;) {
    for (let i = 0; i < 8; i++) await verify();
    n += 8;
    t = performance.now();
    if (t >= end) break;
  }
  const elapsed = (t - start) / 1000;
  process.stdout.write(`# @sd-jwt/sd-jwt-vc ${packageVersion('@sd-jwt/sd-jwt-vc')}, node ${process.versions.node}, `
    + `OpenSSL ${process.versions.openssl} (node:crypto); ${n} verifications in ${elapsed.toFixed(2)} s\n`);
  process.stdout.write(`per_s: ${(n / elapsed).toFixed(1)}\n`);
}

main().catch((err) => {
  process.stderr.write(`FAIL: ${err?.constructor?.name ?? 'Error'}: ${err?.message ?? err}\n`);
  process.exit(1);
});
