/*
 * Encrypted OpenID4VP answers (direct_post.jwt) with npm `jose`: JWE compact, ECDH-ES on P-256,
 * A128GCM and A256GCM, called the way jose's documentation shows (CompactEncrypt,
 * compactDecrypt).
 *
 *   jwe-encrypt OUT.json  make a recipient key (as a verifier does) and encrypt a response to it
 *                         in each encoding (as a wallet does)
 *   jwe-decrypt IN.json   decrypt someone else's JWEs with the recipient key in the file, check
 *                         the header and the plaintext, and check that a tampered copy fails
 */
'use strict';

const fs = require('node:fs');
const { InteropFailure, log, loadJose, b64urlJson, canon, writeJson } = require('./interop_common.cjs');

const ENCS = ['A128GCM', 'A256GCM'];

/** A response a wallet would encrypt: a vp_token and the request's state. */
const response = (enc) => ({
  vp_token: { residency: [`eyJhbGciOiJFUzI1NiJ9.e30.c2ln~WyJzYWx0IiwibmFtZSIsIsOpIl0~${enc}`] },
  state: `state-${enc}`,
});

async function cmdJweEncrypt(file) {
  const jose = await loadJose();
  const { privateKey, publicKey } = await jose.generateKeyPair('ECDH-ES', { crv: 'P-256', extractable: true });
  const recipient = { ...(await jose.exportJWK(privateKey)), kid: 'jose-recipient', alg: 'ECDH-ES', use: 'enc' };
  const cases = [];
  for (const enc of ENCS) {
    const plaintext = response(enc);
    const jwe = await new jose.CompactEncrypt(new TextEncoder().encode(JSON.stringify(plaintext)))
      .setProtectedHeader({ alg: 'ECDH-ES', enc, kid: recipient.kid })
      .encrypt(publicKey);
    cases.push({ enc, jwe, plaintext });
  }
  writeJson(file, { producer: 'jose', recipient_jwk: recipient, cases });
  log(`jwe-encrypt: ${cases.length} JWEs to ${recipient.kid}`);
}

async function cmdJweDecrypt(file) {
  const jose = await loadJose();
  const input = JSON.parse(fs.readFileSync(file, 'utf8'));
  const key = await jose.importJWK(input.recipient_jwk, 'ECDH-ES');
  const options = { keyManagementAlgorithms: ['ECDH-ES'], contentEncryptionAlgorithms: ENCS };
  const seen = new Set();
  for (const c of input.cases ?? []) {
    const { plaintext, protectedHeader } = await jose.compactDecrypt(c.jwe, key, options);
    if (protectedHeader.alg !== 'ECDH-ES') throw new InteropFailure(`alg ${protectedHeader.alg}`);
    if (protectedHeader.enc !== c.enc) throw new InteropFailure(`enc ${protectedHeader.enc}, expected ${c.enc}`);
    if (protectedHeader.kid !== input.recipient_jwk.kid) throw new InteropFailure(`kid ${protectedHeader.kid}`);
    if (!protectedHeader.epk || protectedHeader.epk.crv !== 'P-256') throw new InteropFailure('no P-256 epk');
    const got = JSON.parse(new TextDecoder().decode(plaintext));
    if (canon(got) !== canon(c.plaintext)) throw new InteropFailure(`${c.enc}: plaintext differs: ${JSON.stringify(got)}`);
    // A flipped bit in the ciphertext must not decrypt.
    const parts = c.jwe.split('.');
    const ct = Buffer.from(parts[3], 'base64url');
    ct[0] ^= 1;
    parts[3] = ct.toString('base64url');
    let tampered = true;
    try {
      await jose.compactDecrypt(parts.join('.'), key, options);
    } catch {
      tampered = false;
    }
    if (tampered) throw new InteropFailure(`${c.enc}: a tampered JWE decrypted`);
    seen.add(c.enc);
  }
  for (const enc of ENCS) if (!seen.has(enc)) throw new InteropFailure(`no ${enc} case`);
  log(`jwe-decrypt: ${seen.size} JWEs from ${input.producer} decrypted (header ${JSON.stringify(b64urlJson(input.cases[0].jwe.split('.')[0]).alg)})`);
  process.stdout.write(`${JSON.stringify({ decrypted: [...seen] })}\n`);
}

module.exports = { cmdJweEncrypt, cmdJweDecrypt };
