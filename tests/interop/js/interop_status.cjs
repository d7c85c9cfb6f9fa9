/*
 * Token Status Lists for the Node.js interop peer (interop.cjs), with @sd-jwt/jwt-status-list and
 * jose: the deterministic status patterns, making and verifying status list tokens, and the
 * status-encode / status-decode commands.
 */
'use strict';

const { ES256 } = require('@sd-jwt/crypto-nodejs');
const {
  StatusList,
  createHeaderAndPayload,
  getListFromStatusListJWT,
} = require('@sd-jwt/jwt-status-list');

const {
  ISSUER,
  STATUS_URI,
  KID,
  STATUS_TYP,
  STATUS_COUNT,
  STATUS_LIST_VERSION,
  InteropFailure,
  log,
  now,
  loadJose,
  publicEcJwk,
  writeJson,
  readJson,
} = require('./interop_common.cjs');

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

module.exports = {
  statusPattern,
  referenceStatusTokenList,
  makeStatusToken,
  verifyStatusToken,
  checkDecoded,
  cmdStatusEncode,
  cmdStatusDecode,
};
