// civic-id wallet: the JavaScript API the page is built on. It also runs under Node.js (>= 20)
// with an in-memory store, so scripts and tests can drive the wallet without a browser.
//
//   const wallet = await Wallet.open({ storage, keySource });  // storage: MemoryStorage | IndexedDbStorage
//   await wallet.unlock();                 // derives the vault key (passkey PRF, or a fallback key)
//   const card = await wallet.receive(offerUrl, { txCode, copies: 5 });
//   const cards = await wallet.list({ liveStatus: true });
//   const prepared = await wallet.prepare(openid4vpUrl);     // consent: prepared.items[] {path, value, label}
//   const { redirect_uri } = await wallet.present(prepared); // or: await wallet.decline(prepared)
//   wallet.history(); wallet.lock();
//
// Key sources: secretKeySource(bytes) (Node, tests), passkeyKeySource({credentialId}) (a passkey's
// WebAuthn PRF output, made with createPasskey()), deviceKeySource(storage) (the weaker fallback: a
// non-extractable WebCrypto key kept in IndexedDB).
//
// Protocol work (proofs, verification, DCQL matching, presentations) is done by the WASM core;
// this file does HTTP, storage and encryption. Holder private keys live only in WASM memory
// (KeyVault) while unlocked and are zeroized on lock; JS holds key ids. Stored are two
// AES-256-GCM blobs, the vault (credentials, history) and the keys; the AES key never leaves
// WebCrypto (non-extractable).

let corePromise = null;

/** Loads the WASM core once. `wasm`: bytes (Node) or a URL (browser, default: next to pkg). */
export function loadCore(wasm) {
  if (!corePromise) {
    corePromise = (async () => {
      const core = await import('./pkg/civic_wallet.js');
      if (wasm instanceof Uint8Array || wasm instanceof ArrayBuffer) core.initSync({ module: wasm });
      else await core.default(wasm ? { module_or_path: wasm } : undefined);
      return core;
    })();
  }
  return corePromise;
}

/**
 * A wallet error with a stable `code`. The wallet's own reasons also carry a stable `reason` (and
 * its `params`), so a page can say them in its own language instead of the English `message`.
 */
export class WalletError extends Error {
  constructor(code, message, reason = null, params = {}) {
    super(message);
    this.code = code;
    if (reason) { this.reason = reason; this.params = params; }
  }
}

const fromCore = (f) => {
  try {
    return f();
  } catch (e) {
    let parsed = null;
    try { parsed = JSON.parse(e); } catch { /* not JSON */ }
    throw parsed ? new WalletError(parsed.code, parsed.message) : e;
  }
};

/** Key-value storage in memory (Node, tests). */
export class MemoryStorage {
  #map = new Map();
  async get(key) { return this.#map.get(key) ?? null; }
  async put(key, value) { this.#map.set(key, value); }
  async delete(key) { this.#map.delete(key); }
}

/** Key-value storage in IndexedDB (browser). */
export class IndexedDbStorage {
  constructor(name = 'civic-wallet') { this.name = name; }
  #db() {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open(this.name, 1);
      req.onupgradeneeded = () => req.result.createObjectStore('kv');
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  async #run(mode, f) {
    const db = await this.#db();
    return new Promise((resolve, reject) => {
      const tx = db.transaction('kv', mode);
      const req = f(tx.objectStore('kv'));
      tx.oncomplete = () => resolve(req?.result ?? null);
      tx.onerror = () => reject(tx.error);
    });
  }
  get(key) { return this.#run('readonly', (s) => s.get(key)); }
  put(key, value) { return this.#run('readwrite', (s) => s.put(value, key)); }
  delete(key) { return this.#run('readwrite', (s) => s.delete(key)); }
}

const subtle = () => globalThis.crypto.subtle;

/** HKDF-SHA256 from secret bytes (a passkey's PRF output) to a non-extractable AES-256-GCM key. */
export async function keyFromSecret(secret, info = 'civic-wallet vault v1') {
  const base = await subtle().importKey('raw', secret, 'HKDF', false, ['deriveKey']);
  return subtle().deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: new TextEncoder().encode('civic-wallet'), info: new TextEncoder().encode(info) },
    base,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

/** A key source from fixed secret bytes (Node, tests, and the PRF output once obtained). */
export const secretKeySource = (secret, protection = 'prf') => ({
  protection,
  deriveKey: () => keyFromSecret(secret),
});

/** The wallet passkey's fixed PRF input (32 bytes): SHA-256 of a label. */
export async function prfSalt() {
  return new Uint8Array(await subtle().digest('SHA-256', new TextEncoder().encode('civic-wallet vault PRF salt v1')));
}

const randomBytes = (n) => globalThis.crypto.getRandomValues(new Uint8Array(n));

/** Whether this runtime can make passkeys at all (a browser with WebAuthn). */
export const hasWebAuthn = () => typeof globalThis.PublicKeyCredential === 'function' && !!globalThis.navigator?.credentials?.create;

/**
 * Creates the wallet's own passkey on this origin (discoverable, user verification required) and
 * asks for its PRF. Returns `{credentialId, prf, secret}`: `prf` tells whether the authenticator
 * supports the extension, `secret` is the PRF output when it was given at creation already
 * (otherwise passkeyKeySource asks for it with a sign-in).
 */
export async function createPasskey({ rpName = 'civic-id wallet', userName = 'My civic wallet' } = {}) {
  const salt = await prfSalt();
  const cred = await navigator.credentials.create({
    publicKey: {
      rp: { name: rpName },
      user: { id: randomBytes(16), name: userName, displayName: userName },
      challenge: randomBytes(32),
      pubKeyCredParams: [{ type: 'public-key', alg: -7 }, { type: 'public-key', alg: -257 }],
      authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'required' },
      attestation: 'none',
      timeout: 120_000,
      extensions: { prf: { eval: { first: salt } } },
    },
  });
  const prf = cred.getClientExtensionResults?.().prf ?? {};
  const first = prf.results?.first;
  return {
    credentialId: b64u.enc(cred.rawId),
    prf: prf.enabled === true || !!first,
    secret: first ? new Uint8Array(first) : null,
  };
}

/** Signs in with the wallet's passkey (user verification required); with `prf`, returns its PRF output. */
export async function passkeyAssertion(credentialId, { prf = true } = {}) {
  const cred = await navigator.credentials.get({
    publicKey: {
      challenge: randomBytes(32),
      allowCredentials: [{ type: 'public-key', id: b64u.dec(credentialId) }],
      userVerification: 'required',
      timeout: 120_000,
      ...(prf ? { extensions: { prf: { eval: { first: await prfSalt() } } } } : {}),
    },
  });
  if (!prf) return null;
  const first = cred.getClientExtensionResults?.().prf?.results?.first;
  if (!first) throw new WalletError('prf_unavailable', 'this passkey or browser does not support the PRF extension');
  return new Uint8Array(first);
}

/**
 * The vault key from the wallet passkey's PRF output (HKDF → AES-256-GCM): each unlock asks for
 * the passkey. `secret`: a PRF output already obtained (at creation), used for the first unlock only.
 */
export function passkeyKeySource({ credentialId, secret = null }) {
  let once = secret;
  return {
    protection: 'prf',
    async deriveKey() {
      const bytes = once ?? await passkeyAssertion(credentialId);
      once = null;
      try { return await keyFromSecret(bytes); } finally { bytes.fill(0); }
    },
  };
}

/**
 * The fallback where PRF is missing: a non-extractable AES-256-GCM key generated once and kept in
 * `storage` (IndexedDB stores the CryptoKey itself; its bytes cannot be read out). Weaker: anyone
 * who can run code in this browser profile can use it. `gate`: an optional check before each unlock
 * (such as a passkey sign-in), which guards the screen but not the encryption.
 */
export function deviceKeySource(storage, { gate = null, name = 'device-key' } = {}) {
  return {
    protection: 'device',
    async deriveKey() {
      if (gate) await gate();
      let key = await storage.get(name);
      if (!key) {
        key = await subtle().generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
        await storage.put(name, key);
      }
      return key;
    },
  };
}

const b64u = {
  enc: (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''),
  dec: (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0)),
};

async function http(method, url, { form, json, bearer, dpop, body: formBody, headers: extra } = {}) {
  const headers = { ...extra };
  let body;
  if (form) { headers['content-type'] = 'application/x-www-form-urlencoded'; body = new URLSearchParams(form).toString(); }
  if (formBody !== undefined) { headers['content-type'] = 'application/x-www-form-urlencoded'; body = formBody; }
  if (json) { headers['content-type'] = 'application/json'; body = JSON.stringify(json); }
  if (bearer) headers.authorization = `${dpop ? 'DPoP' : 'Bearer'} ${bearer}`;
  if (dpop) headers.dpop = dpop.proof;
  const res = await fetch(url, { method, headers, body, redirect: 'error' });
  // DPoP (RFC 9449): every answer may carry the nonce for the next proof.
  const nonce = res.headers.get('dpop-nonce');
  if (dpop && nonce) dpop.key.nonce = nonce;
  const text = await res.text();
  let data = text;
  try { data = JSON.parse(text); } catch { /* not JSON */ }
  if (!res.ok) {
    // A protected resource may say why only in its challenge (RFC 6750 §3, RFC 9449 §7.1, §9:
    // `WWW-Authenticate: DPoP error="use_dpop_nonce"` with an empty body).
    const challenge = /\berror="([^"]*)"/.exec(res.headers.get('www-authenticate') ?? '')?.[1];
    const code = typeof data === 'object' && data?.error ? data.error : challenge ?? 'http_error';
    const msg = typeof data === 'object' ? `${data.error}: ${data.error_description ?? ''}` : `${challenge ?? ''} ${text.slice(0, 200)}`;
    throw new WalletError(code, `${method} ${url}: ${res.status} ${msg}`);
  }
  return data;
}

const now = () => Math.floor(Date.now() / 1000);

/** The storage record of the WebCrypto keys client attestations bind, by authorization server. */
const ATTESTATION_KEYS = 'attestation-keys';

/** A compact ES256 JWS of `header` and `payload` with a WebCrypto P-256 key (its signature is r‖s). */
async function signEs256(privateKey, header, payload) {
  const text = (o) => b64u.enc(new TextEncoder().encode(JSON.stringify(o)));
  const input = `${text(header)}.${text(payload)}`;
  const sig = await subtle().sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey, new TextEncoder().encode(input));
  return `${input}.${b64u.enc(sig)}`;
}

/** The payload of a compact JWS, or null. */
function jwtPayload(jwt) {
  try { return JSON.parse(new TextDecoder().decode(b64u.dec(String(jwt).split('.')[1] ?? ''))); } catch { return null; }
}

/** The save number of a sealed record (0 for one written before records were numbered). */
const sealedNumber = (record) => (record.v === 2 && Number.isSafeInteger(record.n) ? record.n : 0);

/** What a sealed record is bound to: its name, its save number, the format. */
const sealedAad = (name, n) => new TextEncoder().encode(`civic-wallet/v2/${name}/${n}`);

/** Encrypts `bytes` (AES-GCM) as record `name` of save `n`. */
async function seal(key, bytes, name, n) {
  const iv = globalThis.crypto.getRandomValues(new Uint8Array(12));
  const data = await subtle().encrypt({ name: 'AES-GCM', iv, additionalData: sealedAad(name, n) }, key, bytes);
  return { v: 2, n, iv: b64u.enc(iv), data: b64u.enc(data) };
}

/** Decrypts record `name` (a numbered one with its associated data; an older one without). */
async function unseal(key, record, name) {
  const params = { name: 'AES-GCM', iv: b64u.dec(record.iv) };
  if (record.v === 2) params.additionalData = sealedAad(name, record.n);
  return new Uint8Array(await subtle().decrypt(params, key, b64u.dec(record.data)));
}

/** The published keys of `issuer`: the core finds its metadata and checks what comes back. */
async function issuerKeys(core, issuer) {
  const url = fromCore(() => core.issuerKeysUrl(issuer));
  const metadata = await http('GET', url);
  return JSON.parse(fromCore(() => core.issuerKeys(JSON.stringify(metadata), issuer)));
}

const PRE_AUTH = 'urn:ietf:params:oauth:grant-type:pre-authorized_code';

/** Reads an offer link without redeeming it: who offers, and whether a tx_code will be asked. */
export async function readOffer(offerUrl, { wasm } = {}) {
  const core = await loadCore(wasm);
  const link = JSON.parse(fromCore(() => core.parseOfferLink(offerUrl)));
  const offer = link.credential_offer ?? await http('GET', link.credential_offer_uri);
  const grant = offer.grants?.[PRE_AUTH];
  return {
    credential_issuer: offer.credential_issuer,
    credential_configuration_ids: offer.credential_configuration_ids ?? [],
    pre_authorized: !!grant,
    tx_code: grant?.tx_code ?? null,
  };
}

/** The wallet. */
export class Wallet {
  #core; #storage; #keySource; #key = null; #vault = null; #keys = null; #timer = null; #saves = 0;

  constructor(core, storage, keySource, autoLockMs, trustAnchors) {
    this.#core = core; this.#storage = storage; this.#keySource = keySource; this.autoLockMs = autoLockMs;
    this.trustAnchors = trustAnchors;
  }

  /**
   * Opens the wallet (locked). `trustAnchors`: CA certificates (base64 DER) that authenticate
   * certificate verifiers (`x509_hash:`), besides those of the platform registries of the
   * issuers the wallet holds credentials from.
   */
  static async open({ storage = new MemoryStorage(), keySource, wasm, autoLockMs = 5 * 60_000, trustAnchors = [] } = {}) {
    if (!keySource) throw new WalletError('invalid_request', 'a keySource is required');
    return new Wallet(await loadCore(wasm), storage, keySource, autoLockMs, trustAnchors);
  }

  /** How the vault key is protected: `prf` (passkey) or `device` (the weaker fallback). */
  get protection() { return this.#keySource.protection; }
  get unlocked() { return this.#vault !== null; }

  /**
   * Derives the key and decrypts the vault (or creates an empty one). Each save numbers the
   * vault and the key blob (bound into the encryption as associated data) and records the number
   * apart: a vault older than the last save (a copy put back to reuse spent single-use copies)
   * is refused with `vault_rolled_back`.
   */
  async unlock() {
    const key = await this.#keySource.deriveKey();
    const stored = await this.#storage.get('vault');
    let vault = { credentials: [], history: [] };
    let saves = 0;
    // Holder private keys live only in WASM memory (KeyVault); JS never keeps them.
    const keys = new this.#core.KeyVault();
    if (stored) {
      const stash = await this.#storage.get('keys');
      const last = (await this.#storage.get('saves'))?.n ?? 0;
      saves = sealedNumber(stored);
      if (saves < last || (stash && sealedNumber(stash) < saves)) {
        keys.free();
        throw new WalletError('vault_rolled_back', 'the stored wallet is older than its last save (an old copy was put back); it is not opened, so spent copies cannot be shown again');
      }
      try {
        const plain = await unseal(key, stored, 'vault');
        vault = JSON.parse(new TextDecoder().decode(plain));
        plain.fill(0);
        if (stash) {
          const raw = await unseal(key, stash, 'keys');
          try { keys.load(raw); } finally { raw.fill(0); }
        }
      } catch {
        keys.free();
        throw new WalletError('unlock_failed', 'this key does not open the wallet');
      }
    }
    this.#key = key; this.#vault = vault; this.#keys = keys; this.#saves = saves;
    this.#touch();
  }

  /** Forgets the key and every decrypted secret. Calls `wallet.onlock` (if set) when it was unlocked. */
  lock() {
    const was = this.#vault !== null;
    this.#key = null; this.#vault = null;
    if (this.#keys) { this.#keys.wipe(); this.#keys.free(); this.#keys = null; }
    clearTimeout(this.#timer);
    if (was) this.onlock?.();
  }

  /** Restarts the idle timer (the page calls it on user activity); nothing when locked. */
  touch() {
    if (this.#vault) this.#touch();
  }

  #touch() {
    clearTimeout(this.#timer);
    if (this.autoLockMs > 0) this.#timer = setTimeout(() => this.lock(), this.autoLockMs);
    this.#timer?.unref?.();
  }

  #open() {
    if (!this.#vault) throw new WalletError('locked', 'unlock the wallet first');
    this.#touch();
    return this.#vault;
  }

  /** Saves the vault and the keys under the next save number, then records that number. */
  async #save() {
    const n = this.#saves + 1;
    const raw = this.#keys.export();
    try { await this.#storage.put('keys', await seal(this.#key, raw, 'keys', n)); } finally { raw.fill(0); }
    await this.#storage.put('vault', await seal(this.#key, new TextEncoder().encode(JSON.stringify(this.#vault)), 'vault', n));
    await this.#storage.put('saves', { n });
    this.#saves = n;
  }

  /** Receives credentials from an offer link: `copies` single-use copies, each with its own key. */
  async receive(offerUrl, { txCode, copies = 5 } = {}) {
    const vault = this.#open();
    const link = JSON.parse(fromCore(() => this.#core.parseOfferLink(offerUrl)));
    const offer = link.credential_offer ?? await http('GET', link.credential_offer_uri);
    const issuer = offer.credential_issuer;
    const meta = await http('GET', `${issuer}/.well-known/openid-credential-issuer`);
    if (meta.credential_issuer !== issuer) throw new WalletError('invalid_offer', 'issuer metadata names another issuer', 'otherIssuer');
    const configId = offer.credential_configuration_ids?.[0];
    if (!meta.credential_configurations_supported?.[configId]) throw new WalletError('invalid_offer', `unknown configuration ${configId}`, 'unknownConfiguration', { detail: configId });
    const as = meta.authorization_servers?.[0] ?? issuer;
    const asMeta = await http('GET', `${as}/.well-known/oauth-authorization-server`);
    const grant = offer.grants?.['urn:ietf:params:oauth:grant-type:pre-authorized_code'];
    if (!grant) throw new WalletError('invalid_offer', 'only pre-authorized offers are supported', 'preAuthorizedOnly');
    if (grant.tx_code && !txCode) throw new WalletError('tx_code_required', grant.tx_code.description ?? 'enter the transaction code');
    const form = { grant_type: 'urn:ietf:params:oauth:grant-type:pre-authorized_code', 'pre-authorized_code': grant['pre-authorized_code'] };
    if (txCode) form.tx_code = txCode;
    // The token is bound to a key made for this issuance (DPoP, RFC 9449) when the issuer
    // supports it, as HAIP asks; the key stays in WebAssembly and is forgotten afterwards.
    const dpop = this.#dpopKey(asMeta);
    try {
      const token = await this.#post(asMeta.token_endpoint, dpop, { form });
      return await this.#issue(vault, { issuer, meta, configId, token, dpop, copies });
    } finally {
      if (dpop) this.#keys.remove(JSON.stringify([dpop.id]));
    }
  }

  /**
   * Starts getting a credential from `issuer` by the authorization code flow (HAIP 1.0 §4), as
   * the wallet `clientId` registered with it, coming back to `redirectUri`: pushes the request
   * (PAR, RFC 9126) with PKCE S256 and the credential's scope, and returns the issuer's
   * authorization page to send the browser to. The resident signs in there with the passkey and
   * confirms; the wallet finishes with {@link Wallet#finishIssuance}. What it needs then (the
   * PKCE verifier, the state, the DPoP key) is saved, encrypted, with the vault.
   */
  async startIssuance(issuer, { clientId, redirectUri, copies = 5 }) {
    const vault = this.#open();
    issuer = String(issuer).replace(/\/+$/, '');
    if (!/^https:\/\/|^http:\/\/(localhost|127\.0\.0\.1)(:|\/|$)/.test(issuer)) throw new WalletError('invalid_issuer', 'the issuer must be an https URL', 'httpsOnly');
    const meta = await http('GET', `${issuer}/.well-known/openid-credential-issuer`);
    if (meta.credential_issuer !== issuer) throw new WalletError('invalid_issuer', 'issuer metadata names another issuer', 'otherIssuer');
    const [configId, config] = Object.entries(meta.credential_configurations_supported ?? {}).find(([, c]) => c?.scope) ?? [];
    if (!config) throw new WalletError('invalid_issuer', 'the issuer offers no credential a wallet can ask for', 'nothingToAskFor');
    const as = meta.authorization_servers?.[0] ?? issuer;
    const asMeta = await http('GET', `${as}/.well-known/oauth-authorization-server`);
    if (!asMeta.pushed_authorization_request_endpoint || !asMeta.authorization_endpoint || !asMeta.code_challenge_methods_supported?.includes('S256')) {
      throw new WalletError('invalid_issuer', 'the issuer does not take pushed authorization requests with PKCE', 'noPar');
    }
    // Wallet attestation (HAIP 1.0 §4.4.1): from the issuer's own wallet provider, when it runs
    // one and this wallet holds no valid attestation for it yet. The resident signs in there;
    // the browser comes back to `redirectUri` and on to the authorization page.
    const clientAuth = await this.#clientAuth(as, clientId);
    if (!clientAuth && asMeta.civic_wallet_provider_endpoint && asMeta.token_endpoint_auth_methods_supported?.includes('attest_jwt_client_auth')) {
      return this.#askAttestation(asMeta.civic_wallet_provider_endpoint, { issuer, as, clientId, redirectUri, copies });
    }
    const verifier = b64u.enc(globalThis.crypto.getRandomValues(new Uint8Array(32)));
    const challenge = b64u.enc(await subtle().digest('SHA-256', new TextEncoder().encode(verifier)));
    const state = b64u.enc(globalThis.crypto.getRandomValues(new Uint8Array(16)));
    const pushed = await http('POST', asMeta.pushed_authorization_request_endpoint, {
      form: {
        client_id: clientId, response_type: 'code', redirect_uri: redirectUri, scope: config.scope, state,
        code_challenge: challenge, code_challenge_method: 'S256',
      },
      headers: clientAuth,
    });
    const dpop = this.#dpopKey(asMeta);
    vault.pending_issuance = {
      issuer, as, configId, state, verifier, clientId, redirectUri, copies, dpopId: dpop?.id ?? null,
      tokenEndpoint: asMeta.token_endpoint, started_at: now(),
    };
    await this.#save();
    const page = new URL(asMeta.authorization_endpoint);
    page.searchParams.set('client_id', clientId);
    page.searchParams.set('request_uri', pushed.request_uri);
    return page.toString();
  }

  /** Whether an issuance started with {@link Wallet#startIssuance} waits for the issuer's answer. */
  get issuancePending() {
    const vault = this.#open();
    return !!(vault.pending_issuance || vault.pending_attestation);
  }

  /**
   * Sends the resident to the wallet provider `endpoint` to have a fresh WebCrypto key of this
   * wallet attested (non-extractable, kept in the wallet's storage): returns the page.
   */
  async #askAttestation(endpoint, { issuer, as, clientId, redirectUri, copies }) {
    const vault = this.#open();
    const pair = await subtle().generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
    const { kty, crv, x, y } = await subtle().exportKey('jwk', pair.publicKey);
    await this.#storage.put(ATTESTATION_KEYS, { ...(await this.#storage.get(ATTESTATION_KEYS)), [as]: pair });
    const state = b64u.enc(globalThis.crypto.getRandomValues(new Uint8Array(16)));
    vault.pending_attestation = { issuer, as, clientId, redirectUri, copies, state, x, y, started_at: now() };
    await this.#save();
    const page = new URL(endpoint);
    for (const [k, v] of Object.entries({ client_id: clientId, redirect_uri: redirectUri, state, jwk: JSON.stringify({ kty, crv, x, y }) })) {
      page.searchParams.set(k, v);
    }
    return page.toString();
  }

  /**
   * Back from the wallet provider: checks the state, the provider (`iss`) and that the
   * attestation is for this wallet and its key; keeps it; returns the issuer's authorization
   * page to go on to.
   */
  async #finishAttestation(answer, asked) {
    const vault = this.#open();
    delete vault.pending_attestation;
    await this.#save();
    if (answer.get('iss') !== asked.as) throw new WalletError('invalid_response', 'the answer comes from another issuer than the one asked', 'answerFromOtherIssuer');
    if (answer.get('error')) throw new WalletError(answer.get('error'), answer.get('error_description') ?? 'the municipality did not confirm this wallet');
    const jwt = answer.get('client_attestation') ?? '';
    const claims = jwtPayload(jwt);
    const key = claims?.cnf?.jwk;
    if (claims?.sub !== asked.clientId || key?.x !== asked.x || key?.y !== asked.y || !(claims.exp > now())) {
      throw new WalletError('invalid_response', 'the attestation is not for this wallet’s key', 'attestationNotOurs');
    }
    vault.attestations = { ...(vault.attestations ?? {}), [asked.as]: { jwt, clientId: asked.clientId, exp: claims.exp } };
    await this.#save();
    return this.startIssuance(asked.issuer, { clientId: asked.clientId, redirectUri: asked.redirectUri, copies: asked.copies });
  }

  /**
   * The headers of client attestation-based authentication at `as` (HAIP 1.0 §4.4.1): the
   * attestation this wallet holds for `clientId` and a fresh PoP for `as`; null without one.
   */
  async #clientAuth(as, clientId) {
    const held = this.#open().attestations?.[as];
    if (!held || held.clientId !== clientId || held.exp <= now() + 60) return null;
    const pair = (await this.#storage.get(ATTESTATION_KEYS))?.[as];
    if (!pair?.privateKey) return null;
    const t = now();
    const pop = await signEs256(pair.privateKey, { alg: 'ES256', typ: 'oauth-client-attestation-pop+jwt' }, {
      iss: clientId, aud: as, jti: b64u.enc(globalThis.crypto.getRandomValues(new Uint8Array(16))), iat: t, exp: t + 60,
    });
    return { 'OAuth-Client-Attestation': held.jwt, 'OAuth-Client-Attestation-PoP': pop };
  }

  /**
   * Finishes the issuance the browser came back from (`callbackUrl`: the redirect URI with
   * `code`, `state` and `iss`, or an `error`): checks the state and the issuer (RFC 9207),
   * redeems the code with the PKCE verifier and a DPoP proof, and receives the batch. Back from
   * the wallet provider instead (the state of the attestation request): keeps the attestation
   * and returns `{ next }`, the issuer's authorization page to go on to.
   */
  async finishIssuance(callbackUrl, { copies } = {}) {
    const vault = this.#open();
    const pendingIssuance = vault.pending_issuance;
    const answer = new URL(callbackUrl).searchParams;
    const asked = vault.pending_attestation;
    if (asked && answer.get('state') === asked.state) return { next: await this.#finishAttestation(answer, asked) };
    if (!pendingIssuance || answer.get('state') !== pendingIssuance.state) {
      throw new WalletError('invalid_response', 'no request of this wallet waits for this answer', 'nothingWaiting');
    }
    if (answer.get('iss') !== pendingIssuance.issuer) throw new WalletError('invalid_response', 'the answer comes from another issuer than the one asked', 'answerFromOtherIssuer');
    delete vault.pending_issuance;
    const dpop = pendingIssuance.dpopId ? { id: pendingIssuance.dpopId, nonce: '' } : null;
    let keepKey = false;
    try {
      if (answer.get('error')) throw new WalletError(answer.get('error'), answer.get('error_description') ?? 'the issuer did not grant the credential');
      const meta = await http('GET', `${pendingIssuance.issuer}/.well-known/openid-credential-issuer`);
      const as = pendingIssuance.as ?? pendingIssuance.issuer;
      const token = await this.#post(pendingIssuance.tokenEndpoint, dpop, {
        form: {
          grant_type: 'authorization_code', code: answer.get('code') ?? '', code_verifier: pendingIssuance.verifier,
          redirect_uri: pendingIssuance.redirectUri, client_id: pendingIssuance.clientId,
        },
        headers: await this.#clientAuth(as, pendingIssuance.clientId),
      });
      // A refresh token stays with the credential, with the DPoP key it is bound to.
      const refresh = token.refresh_token && dpop
        ? { token: token.refresh_token, dpopId: dpop.id, tokenEndpoint: pendingIssuance.tokenEndpoint, clientId: pendingIssuance.clientId, as }
        : null;
      const card = await this.#issue(vault, {
        issuer: pendingIssuance.issuer, meta, configId: pendingIssuance.configId, token, dpop, copies: copies ?? pendingIssuance.copies, refresh,
      });
      if (refresh) keepKey = true;
      return card;
    } finally {
      if (dpop && !keepKey) this.#keys.remove(JSON.stringify([dpop.id]));
      await this.#save();
    }
  }

  /** A DPoP key made in WebAssembly for one issuance, when the authorization server takes ES256. */
  #dpopKey(asMeta) {
    return asMeta.dpop_signing_alg_values_supported?.includes('ES256')
      ? { id: JSON.parse(fromCore(() => this.#keys.generate(1)))[0], nonce: '' }
      : null;
  }

  /**
   * With an access token: a fresh holder key per copy, their proofs, one batch request; every
   * credential verified before it is stored.
   */
  async #issue(vault, { issuer, meta, configId, token, dpop, copies, refresh = null }) {
    const received = await this.#batch({ issuer, meta, configId, token, dpop, copies });
    const id = b64u.enc(globalThis.crypto.getRandomValues(new Uint8Array(12)));
    const record = { id, issuer, config: configId, received_at: now(), copies: received.map((r) => r.copy) };
    if (refresh) record.refresh = refresh;
    vault.credentials.push(record);
    await this.#readRegistry(vault, issuer);
    await this.#save();
    return { id, ...received[0].card, unused_copies: received.length };
  }

  /** The nonce, `copies` fresh holder keys and their proofs, one batch request, each credential verified. */
  async #batch({ issuer, meta, configId, token, dpop, copies }) {
    const n = Math.min(copies, meta.batch_credential_issuance?.batch_size ?? 1);
    const { c_nonce } = await http('POST', meta.nonce_endpoint);
    const holders = JSON.parse(fromCore(() => this.#keys.generate(n)));
    const proofs = JSON.parse(fromCore(() => this.#keys.proofs(JSON.stringify(holders), issuer, c_nonce, now())));
    const request = { credential_configuration_id: configId, proofs: { jwt: proofs } };
    // Sealed to a key made for this response when the issuer offers it (OID4VCI §8.2): nothing
    // between the issuer and this page reads the credentials.
    const offered = meta.credential_response_encryption;
    const enc = offered?.alg_values_supported?.includes('ECDH-ES')
      ? ['A256GCM', 'A128GCM'].find((e) => offered.enc_values_supported?.includes(e))
      : undefined;
    const sealKey = enc ? JSON.parse(fromCore(() => this.#keys.generate(1)))[0] : null;
    let resp;
    try {
      if (sealKey) {
        const jwk = JSON.parse(fromCore(() => this.#keys.publicKey(sealKey)));
        request.credential_response_encryption = { jwk: { ...jwk, alg: 'ECDH-ES', use: 'enc' }, enc };
      }
      resp = await this.#post(meta.credential_endpoint, dpop, { bearer: token.access_token, json: request });
      if (sealKey) {
        if (typeof resp !== 'string') throw new WalletError('invalid_response', 'the issuer answered in plain text though asked to seal', 'notSealed');
        resp = JSON.parse(fromCore(() => this.#keys.openSealed(sealKey, resp.trim())));
      }
    } finally {
      if (sealKey) this.#keys.remove(JSON.stringify([sealKey]));
    }
    const keys = await issuerKeys(this.#core, issuer);
    return resp.credentials.map((c, i) => {
      const card = JSON.parse(fromCore(() => this.#core.verifyReceived(c.credential, JSON.stringify(keys), issuer, now())));
      return { card, copy: { credential: c.credential, holder: holders[i], used: false } };
    });
  }

  /** Whether credential `id` can be topped up without signing in at the issuer (a refresh token). */
  canRefresh(id) {
    return !!this.#open().credentials.find((c) => c.id === id)?.refresh;
  }

  /**
   * Tops credential `id` up to `copies` unused copies with the refresh token the issuer gave
   * (HAIP 1.0 §4.4), presented with its DPoP key; the used copies and their keys are deleted.
   * A refresh token the issuer no longer honours (used, expired, the resident revoked) is
   * forgotten: the next batch then needs a sign-in at the issuer.
   */
  async refresh(id, { copies = 5 } = {}) {
    const vault = this.#open();
    const c = vault.credentials.find((x) => x.id === id);
    if (!c?.refresh) throw new WalletError('no_refresh', 'get this credential again from your municipality', 'getAgain');
    const meta = await http('GET', `${c.issuer}/.well-known/openid-credential-issuer`);
    const dpop = { id: c.refresh.dpopId, nonce: '' };
    const forget = () => {
      this.#keys.remove(JSON.stringify([c.refresh.dpopId]));
      delete c.refresh;
    };
    let token;
    try {
      token = await this.#post(c.refresh.tokenEndpoint, dpop, {
        form: { grant_type: 'refresh_token', refresh_token: c.refresh.token, client_id: c.refresh.clientId },
        headers: await this.#clientAuth(c.refresh.as ?? c.issuer, c.refresh.clientId),
      });
    } catch (e) {
      if (['invalid_grant', 'credential_request_denied', 'invalid_dpop_proof'].includes(e.code)) {
        forget();
        await this.#save();
      }
      throw e;
    }
    // The next refresh token is kept before anything else can fail: the old one is spent.
    if (token.refresh_token) c.refresh.token = token.refresh_token;
    else forget();
    await this.#save();
    const unused = c.copies.filter((k) => !k.used);
    const fresh = await this.#batch({
      issuer: c.issuer, meta, configId: c.config, token, dpop, copies: Math.max(1, copies - unused.length),
    });
    const used = c.copies.filter((k) => k.used).map((k) => k.holder);
    this.#keys.remove(JSON.stringify(used));
    c.copies = [...unused, ...fresh.map((r) => r.copy)];
    c.received_at = now();
    await this.#save();
    return { id, ...fresh[0].card, unused_copies: c.copies.length, deleted_copies: used.length };
  }

  /**
   * POSTs to an issuer endpoint: with a DPoP proof of `dpop`'s key when there is one (sent
   * once more with the issuer's nonce when it asks for one), as Bearer otherwise.
   */
  async #post(url, dpop, options) {
    if (!dpop) return http('POST', url, options);
    for (let attempt = 0; ; attempt++) {
      const proof = fromCore(() => this.#keys.dpopProof(dpop.id, url, dpop.nonce, options.bearer ?? '', now()));
      try {
        return await http('POST', url, { ...options, dpop: { proof, key: dpop } });
      } catch (e) {
        if (e.code !== 'use_dpop_nonce' || attempt > 0) throw e;
      }
    }
  }

  /**
   * Reads the issuer's platform registry (the trust anchors of certificate verifiers) into the
   * vault. Only when talking to the issuer anyway (receiving): fetching it while presenting would
   * tell the issuer when the resident shows a credential somewhere. A registry that cannot be
   * read keeps the last one.
   */
  async #readRegistry(vault, issuer) {
    try {
      const registry = await http('GET', `${issuer}/platform-registry`);
      const anchors = Array.isArray(registry?.trust_anchors) ? registry.trust_anchors.filter((a) => typeof a === 'string') : [];
      vault.registries = { ...(vault.registries ?? {}), [issuer]: { trust_anchors: anchors, read_at: now() } };
    } catch { /* keep the last one */ }
  }

  /** The trust anchors for certificate verifiers: the configured ones and the registries'. */
  #anchors(vault) {
    const fromRegistries = Object.values(vault.registries ?? {}).flatMap((r) => r.trust_anchors ?? []);
    return [...new Set([...this.trustAnchors, ...fromRegistries])];
  }

  /** The stored credentials as cards; with `liveStatus`, their status from the status list. */
  async list({ liveStatus = false } = {}) {
    const vault = this.#open();
    return Promise.all(vault.credentials.map(async (c) => {
      const card = JSON.parse(fromCore(() => this.#core.credentialCard(c.copies[0].credential)));
      const out = { id: c.id, ...card, unused_copies: c.copies.filter((k) => !k.used).length, refreshable: !!c.refresh };
      if (liveStatus) out.status = await this.#status(c).catch((e) => `unknown (${e.code ?? e.message})`);
      return out;
    }));
  }

  async #status(c) {
    const payload = JSON.parse(new TextDecoder().decode(b64u.dec(c.copies[0].credential.split('.')[1])));
    const ref = payload.status?.status_list;
    if (!ref) return 'valid';
    const keys = await issuerKeys(this.#core, c.issuer);
    const token = await http('GET', ref.uri);
    return fromCore(() => this.#core.statusOf(String(token), JSON.stringify(keys), ref.uri, ref.idx, now()));
  }

  /** Deletes one credential (all its copies). */
  async delete(id) {
    const vault = this.#open();
    const gone = vault.credentials.filter((c) => c.id === id)
      .flatMap((c) => [...c.copies.map((k) => k.holder), ...(c.refresh ? [c.refresh.dpopId] : [])]);
    vault.credentials = vault.credentials.filter((c) => c.id !== id);
    this.#keys.remove(JSON.stringify(gone));
    await this.#save();
  }

  /** Deletes everything, including the encrypted vault. */
  async reset() {
    await this.#storage.delete('vault');
    await this.#storage.delete('keys');
    await this.#storage.delete('saves');
    await this.#storage.delete(ATTESTATION_KEYS);
    this.lock();
  }

  /** Opens a presentation request and explains it for the consent screen. */
  async prepare(requestUrl) {
    const vault = this.#open();
    // By reference (request_uri) the request object is fetched, by POST with the wallet's
    // metadata and a nonce the request must echo where the link asks; by value the core reads
    // it from the link itself. A DID verifier's request is signed: the core checks it with the
    // DID's document.
    const plan = JSON.parse(fromCore(() => this.#core.fetchPlan(requestUrl)));
    let requestObject = '';
    if (plan.request_uri) requestObject = plan.post ? await http('POST', plan.request_uri, { body: plan.post.form }) : await http('GET', plan.request_uri);
    const walletNonce = plan.post?.wallet_nonce ?? '';
    const unused = vault.credentials.map((c) => c.copies.find((k) => !k.used)?.credential ?? c.copies[0].credential);
    const didDocument = plan.did_document_url ? JSON.stringify(await http('GET', plan.did_document_url)) : '';
    // A certificate verifier's chain is checked against the anchors (the platform registries).
    const anchors = JSON.stringify(this.#anchors(vault));
    const prepared = JSON.parse(fromCore(() => this.#core.prepareRequest(String(requestObject), requestUrl, didDocument, JSON.stringify(unused), walletNonce, anchors, now())));
    if (prepared.credential !== null && prepared.credential !== undefined) {
      const c = vault.credentials[prepared.credential];
      prepared.credential_id = c.id;
      prepared.unused_copies = c.copies.filter((k) => !k.used).length;
    }
    this.#itemValues(prepared, unused);
    return prepared;
  }

  /**
   * Gives each consent item its claim `path` (an array, from `prepared.paths`, in the same order)
   * and the `value` it would share (null when not held), so that a page can say it in its own
   * words and language: from the answering credential, or, when none answers in full, from the
   * one holding most of what is asked (as the core picks it for the consent screen).
   */
  #itemValues(prepared, credentials) {
    const claimsOf = (sdJwt) => JSON.parse(fromCore(() => this.#core.credentialCard(sdJwt))).claims;
    const lookup = (claims, path) => path.reduce((o, k) => (o !== null && typeof o === 'object' && k !== null && Object.hasOwn(o, k) ? o[k] : undefined), claims);
    let claims = null;
    if (prepared.credential !== null && prepared.credential !== undefined) {
      claims = claimsOf(credentials[prepared.credential]);
    } else {
      let held = 0;
      for (const sdJwt of credentials) {
        const c = claimsOf(sdJwt);
        const n = prepared.paths.filter((p) => lookup(c, p) !== undefined).length;
        if (n > held) { held = n; claims = c; }
      }
    }
    prepared.items.forEach((item, i) => {
      item.path = prepared.paths[i];
      const value = item.available && claims ? lookup(claims, item.path) : undefined;
      item.value = value === undefined ? null : value;
    });
  }

  /** Shares exactly the requested claims with an unused copy, and follows the verifier's answer. */
  async present(prepared) {
    const vault = this.#open();
    const c = vault.credentials.find((x) => x.id === prepared.credential_id);
    if (!c) throw new WalletError('no_credential', `missing: ${prepared.missing.join(', ') || 'a matching credential'}`);
    const copy = c.copies.find((k) => !k.used);
    if (!copy) throw new WalletError('no_unused_copy', 'all copies are used: receive a fresh batch');
    const vp = fromCore(() => this.#keys.vpToken(JSON.stringify(prepared), copy.credential, copy.holder, now()));
    copy.used = true; // a copy is never shown twice, even if the post fails
    // `claims`: the core's English sentences; `items`: what a page needs to say them in its own
    // language (each claim's path and value; no pseudonym value, which no sentence shows).
    const items = prepared.items.map(({ path, value }) => ({ path, value: path?.[0] === 'pseudonyms' ? null : value ?? null }));
    vault.history.push({ at: now(), to: prepared.client_id, verifier: prepared.verifier, claims: prepared.items.map((i) => i.label), items, outcome: 'shared' });
    await this.#save();
    const params = { vp_token: JSON.parse(vp) };
    if (prepared.state) params.state = prepared.state;
    // Plain for direct_post; one `response` field, encrypted to the verifier, for direct_post.jwt.
    const form = JSON.parse(fromCore(() => this.#core.responseForm(JSON.stringify(prepared), JSON.stringify(params))));
    const answer = await http('POST', prepared.response_uri, { form });
    return { redirect_uri: answer?.redirect_uri ?? null };
  }

  /**
   * For measurements: times `n` answers (the WASM part of `present`: disclosures, KB-JWT signature,
   * and the encryption when the verifier asks for it) for `prepared` with a stored copy. Nothing
   * is posted and no copy is used up. Returns the durations in milliseconds.
   */
  timeVpToken(prepared, n = 20) {
    const vault = this.#open();
    const c = vault.credentials.find((x) => x.id === prepared.credential_id) ?? vault.credentials[0];
    if (!c) throw new WalletError('no_credential', 'no stored credential to measure with');
    const copy = c.copies.find((k) => !k.used) ?? c.copies[0];
    const req = JSON.stringify(prepared);
    const clock = globalThis.performance ?? Date;
    const times = [];
    for (let i = 0; i < n; i++) {
      const t0 = clock.now();
      const vp = fromCore(() => this.#keys.vpToken(req, copy.credential, copy.holder, now()));
      const params = { vp_token: JSON.parse(vp), state: prepared.state ?? '' };
      fromCore(() => this.#core.responseForm(req, JSON.stringify(params)));
      times.push(clock.now() - t0);
    }
    return times;
  }

  /** Declines: tells the verifier `access_denied`. */
  async decline(prepared) {
    const vault = this.#open();
    vault.history.push({ at: now(), to: prepared.client_id, verifier: prepared.verifier, claims: [], items: [], outcome: 'declined' });
    await this.#save();
    const params = { error: 'access_denied' };
    if (prepared.state) params.state = prepared.state;
    const form = JSON.parse(fromCore(() => this.#core.responseForm(JSON.stringify(prepared), JSON.stringify(params))));
    await http('POST', prepared.response_uri, { form });
  }

  /** Every presentation and decline: when, to whom, which claims. */
  history() { return structuredClone(this.#open().history); }

  /** Clears the history. */
  async clearHistory() {
    this.#open().history = [];
    await this.#save();
  }
}
