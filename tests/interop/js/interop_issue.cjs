/*
 * The issue command of the Node.js interop peer (interop.cjs): @sd-jwt/sd-jwt-vc issues the test
 * credential and a key-bound presentation, which civic-id and the other peer then verify.
 */
'use strict';

const crypto = require('node:crypto');

const { SDJwtVcInstance } = require('@sd-jwt/sd-jwt-vc');
const { ES256, digest, generateSalt } = require('@sd-jwt/crypto-nodejs');

const {
  ISSUER,
  VCT,
  STATUS_URI,
  STATUS_IDX,
  AUD,
  KID,
  ONE_YEAR,
  PRODUCER,
  EXPECTED_ABSENT,
  log,
  now,
  publicEcJwk,
  writeJson,
} = require('./interop_common.cjs');
const { makeStatusToken, referenceStatusTokenList } = require('./interop_status.cjs');

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

module.exports = {
  cmdIssue,
};
