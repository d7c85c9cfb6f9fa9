// Loads the built wallet (wallet-wasm/web/pkg) under Node.js and drives its JS API on the
// RFC 9901 Appendix A.3 SD-JWT VC: verify it with the issuer key, show its card, present one
// claim with key binding, and check what the presentation carries. Exit code 1 on any failure.
//
//   node wallet-wasm/tests/smoke.mjs
import { readFileSync } from 'node:fs';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const pkg = join(root, 'wallet-wasm', 'web', 'pkg');
const wallet = await import(join(pkg, 'civic_wallet.js'));
wallet.initSync({ module: readFileSync(join(pkg, 'civic_wallet_bg.wasm')) });

const vectors = join(root, 'credential', 'tests', 'vectors');
const a3 = JSON.parse(readFileSync(join(vectors, 'rfc9901_appendix_a3_sd_jwt_vc_issuance.json'), 'utf8'));
const keys = JSON.parse(readFileSync(join(vectors, 'rfc9901_example_keys.json'), 'utf8'));
let passed = 0;
let failed = 0;
function check(name, cond, detail = '') {
  if (cond) { passed++; console.log(`ok   ${name}`); } else { failed++; console.log(`FAIL ${name} ${detail}`); }
}
const b64json = (s) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));

// 1. A fresh holder key.
const k1 = JSON.parse(wallet.generateHolderKey());
const k2 = JSON.parse(wallet.generateHolderKey());
check('holder key is a private P-256 JWK', k1.kty === 'EC' && k1.crv === 'P-256' && typeof k1.d === 'string');
check('holder keys are fresh', k1.x !== k2.x);

// 2. Verify the RFC's credential with the RFC issuer key (p256 inside WASM), then its card.
const iat = 1683000000;
const card = JSON.parse(wallet.verifyReceived(a3.sd_jwt, JSON.stringify([a3.issuer_jwk]), iat + 10));
check('card issuer', card.issuer === 'https://pid-issuer.bund.de.example', card.issuer);
check('card holds all claims', card.claims.given_name === 'Erika' && card.claims.address.locality === 'Köln');
let rejected = false;
try { wallet.verifyReceived(a3.sd_jwt, JSON.stringify([keys.holder_jwk]), iat + 10); } catch (e) { rejected = JSON.parse(e).message.includes('signature'); }
check('a wrong issuer key is refused', rejected);

// 3. Present only age_equal_or_over.18 with the RFC holder key.
const request = { paths: [['age_equal_or_over', '18']], client_id: 'redirect_uri:https://verifier.example/cb', nonce: 'n-123' };
const now = Math.floor(Date.now() / 1000);
const vp = wallet.present(a3.sd_jwt, JSON.stringify(request), JSON.stringify(keys.holder_private_jwk), now);
const parts = vp.split('~');
const kb = parts.pop();
const disclosures = parts.slice(1).map(b64json);
const names = disclosures.map((d) => (d.length === 3 ? d[1] : '(element)')).sort();
check('only age_equal_or_over and its "18" are disclosed', JSON.stringify(names) === JSON.stringify(['18', 'age_equal_or_over']), JSON.stringify(names));
const [h, p, sig] = kb.split('.');
const header = b64json(h);
const payload = b64json(p);
check('KB-JWT typ', header.typ === 'kb+jwt' && header.alg === 'ES256');
check('KB-JWT aud, nonce, iat', payload.aud === request.client_id && payload.nonce === 'n-123' && payload.iat === now);
const sdHash = createHash('sha256').update(parts.join('~') + '~').digest('base64url');
check('KB-JWT sd_hash', payload.sd_hash === sdHash);
const holderKey = createPublicKey({ key: keys.holder_jwk, format: 'jwk' });
const ok = verify('sha256', Buffer.from(`${h}.${p}`), { key: holderKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(sig, 'base64url'));
check('KB-JWT signature verifies with the holder key (node:crypto)', ok);

// 4. Bad input is a clear error, not a crash.
let code = '';
try { wallet.present('not-a-credential', JSON.stringify(request), JSON.stringify(k1), now); } catch (e) { code = JSON.parse(e).code; }
check('garbage credential gives an error code', code === 'credential_error', code);
try { wallet.present(a3.sd_jwt, '{', JSON.stringify(k1), now); } catch (e) { code = JSON.parse(e).code; }
check('malformed request gives invalid_request', code === 'invalid_request', code);

console.log(`wasm smoke: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
