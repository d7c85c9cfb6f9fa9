/*
 * Shared helpers of the Node.js interop peer (interop.cjs): constants of the test credential,
 * package versions, InteropFailure, logging, the jose loader, base64url/JSON/JWT helpers,
 * claim-path lookup and JSON file I/O.
 */
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { pathToFileURL } = require('node:url');

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

module.exports = {
  PRODUCER,
  SD_JWT_VC_VERSION,
  STATUS_LIST_VERSION,
  ISSUER,
  VCT,
  STATUS_URI,
  STATUS_IDX,
  AUD,
  KID,
  VC_TYP,
  STATUS_TYP,
  ONE_YEAR,
  CLOCK_SKEW,
  STATUS_COUNT,
  EXPECTED_ABSENT,
  InteropFailure,
  log,
  now,
  loadJose,
  b64urlDecode,
  b64urlJson,
  sha256b64url,
  decodeJwtPart,
  canon,
  publicEcJwk,
  sameEcKey,
  MISSING,
  lookup,
  fmtPath,
  writeJson,
  readJson,
};
