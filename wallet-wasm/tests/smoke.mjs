// Loads the built wallet (wallet-wasm/web/pkg) under Node.js and drives its JS API:
// verify a residency credential freshly issued by civic-credential (the `interop` example),
// show its card, present only what a request asks for with key binding, and check what the
// presentation carries; the RFC 9901 A.3 credential (no `kid`) and wrong keys are refused; the
// page's message catalogue and its words for claims (tests/i18n.mjs).
// Exit code 1 on any failure.
//
//   node wallet-wasm/tests/smoke.mjs
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const pkg = join(root, 'wallet-wasm', 'web', 'pkg');
const wallet = await import(join(pkg, 'civic_wallet.js'));
wallet.initSync({ module: readFileSync(join(pkg, 'civic_wallet_bg.wasm')) });

// A fresh credential from the Rust issuer side.
const out = join(root, 'target', 'wasm-smoke');
mkdirSync(out, { recursive: true });
const credFile = join(out, 'credential.json');
execFileSync('cargo', ['run', '-q', '-p', 'civic-credential', '--example', 'interop', '--', 'issue', credFile], {
  cwd: root,
  stdio: ['ignore', 'ignore', 'inherit'],
});
const cred = JSON.parse(readFileSync(credFile, 'utf8'));
const vectors = join(root, 'credential', 'tests', 'vectors');
const a3 = JSON.parse(readFileSync(join(vectors, 'rfc9901_appendix_a3_sd_jwt_vc_issuance.json'), 'utf8'));

let passed = 0;
let failed = 0;
function check(name, cond, detail = '') {
  if (cond) { passed++; console.log(`ok   ${name}`); } else { failed++; console.log(`FAIL ${name} ${detail}`); }
}
const b64json = (s) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
const errorOf = (f) => { try { f(); return null; } catch (e) { return JSON.parse(e); } };
const now = Math.floor(Date.now() / 1000);

// 1. Fresh holder keys, made and kept inside WebAssembly: JavaScript sees ids and public keys.
const vault = new wallet.KeyVault();
const [id1, id2] = JSON.parse(vault.generate(2));
const k1 = JSON.parse(vault.publicKey(id1));
const k2 = JSON.parse(vault.publicKey(id2));
check('holder keys are P-256 keys whose private part stays in WASM', k1.kty === 'EC' && k1.crv === 'P-256' && k1.d === undefined);
check('holder keys are fresh', k1.x !== k2.x && id1 !== id2);
check('the old exports that took private keys from JavaScript are gone', ['generateHolderKey', 'present', 'proofs', 'vpToken'].every((f) => wallet[f] === undefined));

// 2. Verify the received credential (p256 inside WASM), then its card.
const card = JSON.parse(wallet.verifyReceived(cred.sd_jwt, JSON.stringify([cred.issuer_jwk]), cred.issuer, now));
check('card issuer and type', card.issuer === cred.issuer && card.vct === cred.vct, card.issuer);
check('card holds all claims', card.claims.given_name === 'Ada' && card.claims.residence.municipality_code === '0363');
check('card has labels', card.labels.some(([p, l]) => p === 'age_equal_or_over.16' && l === '16 or older'));
let err = errorOf(() => wallet.verifyReceived(cred.sd_jwt, JSON.stringify([{ ...cred.holder_jwk, kid: 'key-1' }]), cred.issuer, now));
check('a wrong issuer key is refused', err && err.message.includes('signature'), JSON.stringify(err));
err = errorOf(() => wallet.verifyReceived(cred.sd_jwt, JSON.stringify([cred.issuer_jwk]), cred.issuer, now + 400 * 86400));
check('an expired credential is refused', err && err.message.includes('expired'), JSON.stringify(err));
err = errorOf(() => wallet.verifyReceived(cred.sd_jwt, JSON.stringify([cred.issuer_jwk]), 'https://another-issuer.example', now));
check('a credential naming another issuer than the one it came from is refused', err && err.code === 'invalid_credential', JSON.stringify(err));
err = errorOf(() => wallet.verifyReceived(a3.sd_jwt, JSON.stringify([a3.issuer_jwk]), 'https://pid-issuer.bund.de.example', 1683000010));
check('the RFC A.3 credential without kid is refused', err && err.message.includes('kid'), JSON.stringify(err));

// 3. Present only residence.municipality_code with the copy's holder key. The credential was
// issued outside the wallet, so its key is imported into the vault (as an unlock does).
const imported = new wallet.KeyVault();
const holderId = 'imported';
imported.load(new TextEncoder().encode(JSON.stringify({ [holderId]: cred.holder_private_jwk })));
const prepared = {
  client_id: 'redirect_uri:https://verifier.example/cb', verifier: 'verifier.example', response_uri: 'https://verifier.example/cb',
  nonce: 'n-123', state: null, query_id: 'residency', paths: [['residence', 'municipality_code']], items: [], missing: [], credential: 0, refused: null,
};
const vp = JSON.parse(imported.vpToken(JSON.stringify(prepared), cred.sd_jwt, holderId, now)).residency[0];
const parts = vp.split('~');
const kb = parts.pop();
const names = parts.slice(1).map(b64json).map((d) => (d.length === 3 ? d[1] : '(element)')).sort();
check('only residence and its municipality_code are disclosed', JSON.stringify(names) === '["municipality_code","residence"]', JSON.stringify(names));
const [h, p, sig] = kb.split('.');
const header = b64json(h);
const payload = b64json(p);
check('KB-JWT typ', header.typ === 'kb+jwt' && header.alg === 'ES256');
check('KB-JWT aud, nonce, iat', payload.aud === prepared.client_id && payload.nonce === 'n-123' && payload.iat === now);
const sdHash = createHash('sha256').update(parts.join('~') + '~').digest('base64url');
check('KB-JWT sd_hash', payload.sd_hash === sdHash);
const holderKey = createPublicKey({ key: cred.holder_jwk, format: 'jwk' });
const ok = verify('sha256', Buffer.from(`${h}.${p}`), { key: holderKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(sig, 'base64url'));
check('KB-JWT signature verifies with the holder key (node:crypto)', ok);
const exported = imported.export();
check('the vault exports its keys as one byte array for encryption', exported instanceof Uint8Array && exported.length > 50);
exported.fill(0);

// 4. Bad input is a clear error, not a crash.
err = errorOf(() => imported.vpToken(JSON.stringify(prepared), 'not-a-credential', holderId, now));
check('garbage credential gives an error code', err && err.code === 'credential_error', JSON.stringify(err));
err = errorOf(() => imported.vpToken('{', cred.sd_jwt, holderId, now));
check('malformed request gives invalid_request', err && err.code === 'invalid_request', JSON.stringify(err));
err = errorOf(() => vault.vpToken(JSON.stringify(prepared), cred.sd_jwt, id1, now));
check('a key other than the credential\'s cnf key is refused', err && err.code === 'invalid_key', JSON.stringify(err));
err = errorOf(() => imported.load(new TextEncoder().encode('{"x":' + JSON.stringify(cred.holder_jwk) + '}')));
check('a vault blob with a public key is refused', err && err.code === 'unlock_failed', JSON.stringify(err));

// 5. The page's languages (tests/i18n.mjs): the message catalogue, and the page's English words
// for claims, made from their paths and values, are exactly the core's labels.
const languages = await import('./i18n.mjs');
languages.catalogueChecks(check);
languages.behaviourChecks(check);
languages.wasmChecks(wallet, cred, check);

console.log(`wasm smoke: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
