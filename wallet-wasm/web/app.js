// The wallet page: screens on top of the wallet's JS API (wallet.js). No framework; every text
// from outside (credentials, verifiers, errors) goes into the page as textContent, never as HTML.
//
// Screens: #setup (no wallet yet), #unlock (locked), #receive (an offer), #consent (a request),
// #present-done, #wallet (credentials, history, settings); #open (paste a link) under them.
// A link opens the page as /receive?credential_offer_uri=… or /present?client_id=…&request_uri=…
// (or the request by value: /present?client_id=…&response_type=…&dcql_query=…); an issuer sends
// the browser back to /callback?code=…&state=…&iss=… after the resident signed in there
// ("Get my residency credential", the authorization code flow). Each is kept while the resident
// creates or unlocks the wallet, then handled.
import {
  Wallet, WalletError, IndexedDbStorage, createPasskey, deviceKeySource, hasWebAuthn,
  passkeyAssertion, passkeyKeySource, readOffer,
} from './wallet.js';

const $ = (id) => document.getElementById(id);
const SCREENS = ['setup', 'unlock', 'receive', 'consent', 'present-done', 'wallet', 'open'];
const DEFAULTS = { autoLockMinutes: 5, copies: 5 };

const storage = new IndexedDbStorage('civic-wallet');
let meta = null; // {version, protection: 'prf'|'device', credentialId, created}: not secret
let settings = { ...DEFAULTS };
let wallet = null; // a Wallet once the WASM is loaded (lazily, on the first create or unlock)
let pending = null; // {kind: 'receive'|'present'|'callback', url}
let prepared = null; // the request on the consent screen
let lastPrepared = null; // the last request seen, for the measurement hook
let busy = false;

// ---- small helpers -------------------------------------------------------------------------

function show(...ids) {
  for (const id of SCREENS) $(id).hidden = !ids.includes(id);
  $('lock-button').hidden = !wallet?.unlocked;
}

function status(text, kind = 'info') {
  const el = $('status');
  el.textContent = text;
  el.className = kind === 'info' ? '' : kind;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
const when = (secs) => new Date(secs * 1000).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const day = (secs) => new Date(secs * 1000).toLocaleDateString(undefined, { dateStyle: 'long' });
const hostOf = (url) => { try { return new URL(url).host; } catch { return url; } };

/** The wallet's words for an error of the API, WebAuthn or the network. */
function explain(e) {
  if (e?.name === 'NotAllowedError') return 'The passkey prompt was cancelled or timed out. Please try again.';
  if (e?.name === 'InvalidStateError') return 'This device already has a passkey for this wallet.';
  if (e instanceof TypeError && /fetch|network/i.test(e.message)) return 'Could not reach the service. Check your connection and try again.';
  const code = e?.code;
  const msg = e?.message ?? String(e);
  switch (code) {
    case 'locked': return 'The wallet locked itself. Unlock it and try again.';
    case 'unlock_failed': return 'This key does not open the wallet.';
    case 'vault_rolled_back': return 'The wallet\'s stored data is older than its last save: an old copy was put back. It is not opened, so used single-use copies cannot be shown again.';
    case 'prf_unavailable': return 'Your passkey cannot give the wallet its key on this browser.';
    case 'tx_code_required': return `Enter the transaction code: ${msg}`;
    case 'invalid_grant': return 'This offer was already used or has expired. Ask for a new one.';
    case 'invalid_offer': return `This offer cannot be used: ${msg}`;
    case 'no_unused_copy': return 'All single-use copies of this credential are used.';
    case 'invalid_request_uri': return 'This request is no longer open. Start again on the platform.';
    case 'access_denied': return 'You cancelled at your municipality. Nothing was added.';
    case 'no_refresh': return `No fresh copies without signing in again: ${msg}.`;
    case 'credential_request_denied': return 'Your municipality no longer issues this credential to you.';
    case 'invalid_issuer': return `This address cannot give you a credential: ${msg}`;
    case 'invalid_response': return `Your municipality's answer cannot be used: ${msg}. Start again.`;
    default: return msg.replace(/^POST |^GET /, '');
  }
}

/** When copies run out: how to fetch a fresh batch. */
function freshBatchHelp(issuer) {
  const where = issuer ? `${hostOf(issuer)}` : 'your municipality’s page';
  return `All single-use copies of your residency credential are used. To get a fresh batch: sign in at ${where} `
    + '(your municipality), press “Add residency credential to my wallet” and open the link on this device.';
}

/** A link to the issuer's resident page, where a fresh batch is offered. */
function freshBatchLink(issuer) {
  if (!/^https?:\/\//.test(issuer ?? '')) return '';
  return el('a', { href: `${issuer.replace(/\/+$/, '')}/me`, text: `Get a fresh batch from ${hostOf(issuer)}` });
}

// ---- settings and keystore ------------------------------------------------------------------

async function loadSettings() {
  const s = await storage.get('settings');
  settings = { ...DEFAULTS, ...(s ?? {}) };
  $('autolock-minutes').value = settings.autoLockMinutes;
  $('default-copies').value = settings.copies;
  $('copies').value = settings.copies;
}

const autoLockMs = () => Math.max(1, Number(settings.autoLockMinutes) || DEFAULTS.autoLockMinutes) * 60_000;

/** The key source as the stored meta says: the passkey's PRF, or the weaker device key. */
function keySource(first = null) {
  if (meta.protection === 'prf') return passkeyKeySource({ credentialId: meta.credentialId, secret: first });
  const gate = meta.credentialId ? () => passkeyAssertion(meta.credentialId, { prf: false }) : null;
  return deviceKeySource(storage, { gate });
}

async function openWallet(source) {
  if (wallet?.unlocked) wallet.lock();
  wallet = await Wallet.open({ storage, keySource: source, autoLockMs: autoLockMs() });
  wallet.onlock = onLocked;
  return wallet;
}

function showProtection() {
  const p = $('protection');
  p.hidden = !meta;
  if (!meta) return;
  if (meta.protection === 'prf') {
    p.textContent = 'Protected by your passkey: the key that encrypts this wallet comes from your passkey (WebAuthn PRF).';
    p.className = 'protection ok';
  } else {
    p.textContent = 'Less protected: this browser cannot derive a key from a passkey (no WebAuthn PRF), so the key '
      + 'that encrypts this wallet is kept by this browser. Anyone who can use this browser profile could open it.';
    p.className = 'protection warning';
  }
}

async function createWallet() {
  let protection = 'device';
  let credentialId = null;
  let first = null;
  if (hasWebAuthn()) {
    status('Follow the prompt on your device to make the wallet’s passkey…');
    const pk = await createPasskey();
    credentialId = pk.credentialId;
    if (pk.prf) { protection = 'prf'; first = pk.secret; }
  }
  meta = { version: 1, protection, credentialId, created: Date.now() };
  try {
    if (protection === 'prf' && !first) status('Unlock the new wallet with your passkey once more…');
    await openWallet(keySource(first));
    await wallet.unlock();
  } catch (e) {
    if (protection !== 'prf' || e?.code !== 'prf_unavailable') throw e;
    meta.protection = 'device'; // the authenticator said PRF but gave no output: fall back
    await openWallet(keySource());
    await wallet.unlock();
  }
  await wallet.clearHistory(); // writes the (empty) encrypted vault
  await storage.put('meta', meta);
  showProtection();
}

async function unlock() {
  status(meta.protection === 'prf' || meta.credentialId ? 'Follow the prompt on your device…' : 'Unlocking…');
  await openWallet(keySource());
  await wallet.unlock();
  status('Unlocked.');
}

function onLocked() {
  // Take every decrypted detail off the page.
  prepared = null;
  lastPrepared = null;
  for (const id of ['credentials', 'history', 'consent-items', 'consent-missing-items']) $(id).replaceChildren();
  $('consent-verifier').textContent = '';
  render();
  status('The wallet is locked.');
}

// ---- links ----------------------------------------------------------------------------------

/** What a link asks for: a credential offer or a presentation request. */
function linkKind(text) {
  const s = (text ?? '').trim();
  if (!s) return null;
  if (/^openid-credential-offer:\/\//i.test(s)) return { kind: 'receive', url: s };
  if (/^(openid4vp|haip|eudi-openid4vp):\/\//i.test(s)) return { kind: 'present', url: s.replace(/^[a-z-]+:\/\//i, 'openid4vp://') };
  let u;
  try { u = new URL(s); } catch { return null; }
  if (u.searchParams.has('credential_offer_uri') || u.searchParams.has('credential_offer')) return { kind: 'receive', url: s };
  // A presentation request by reference (request_uri) or by value (request, dcql_query).
  if (['request_uri', 'request', 'dcql_query'].some((p) => u.searchParams.has(p))) return { kind: 'present', url: s };
  return null;
}

function linkFromLocation() {
  const { pathname, search } = location;
  if (!search) return null;
  if (pathname === '/receive' || pathname === '/present') return linkKind(location.href);
  if (pathname === '/callback') return { kind: 'callback', url: location.href };
  return null;
}

function forgetLink() {
  pending = null;
  if (location.pathname !== '/' || location.search) history.replaceState(null, '', '/');
}

// ---- screens --------------------------------------------------------------------------------

/** Shows what fits the state: setup, unlock, the pending link, or the wallet. */
async function render() {
  showProtection();
  if (!meta) {
    $('setup').querySelector('p').textContent = pending
      ? 'To continue, create your wallet first. It keeps your credentials on this device, encrypted, and opens with a passkey: your phone’s screen lock, fingerprint or face.'
      : 'Your wallet keeps your residency credentials on this device, encrypted. You open it with a passkey: your phone’s screen lock, fingerprint or face.';
    return show('setup');
  }
  if (!wallet?.unlocked) {
    $('unlock-why').textContent = pending?.kind === 'receive'
      ? 'Unlock your wallet with your passkey to add the offered credential.'
      : pending?.kind === 'present'
        ? 'Unlock your wallet with your passkey to see what is asked.'
        : pending?.kind === 'callback'
          ? 'Unlock your wallet with your passkey to add the credential from your municipality.'
          : 'Unlock it with your passkey to see your credentials.';
    return show('unlock', 'open');
  }
  if (pending?.kind === 'receive') return showReceive();
  if (pending?.kind === 'present') return showConsent();
  if (pending?.kind === 'callback') return finishIssuance();
  return showWallet();
}

/** Back from the issuer (the authorization code flow): the credential, or why not. */
async function finishIssuance() {
  show();
  status('Fetching your credential: making fresh keys, one per copy…');
  const url = pending.url;
  forgetLink();
  try {
    const card = await wallet.finishIssuance(url, { copies: settings.copies });
    // Back from the wallet provider: on to the issuer's authorization page.
    if (card.next) {
      status('Your municipality confirmed this wallet. Going on to ask for your credential…');
      location.assign(card.next);
      return;
    }
    await showWallet();
    status(`Added: residency credential from ${hostOf(card.issuer)}, with ${plural(card.unused_copies, 'single-use copy', 'single-use copies')}.`, 'success');
  } catch (e) {
    await showWallet();
    status(explain(e), 'error');
  }
}

/** "Get my residency credential": to the issuer's sign-in page, coming back to /callback. */
async function getCredential() {
  const issuer = $('issuer-url').value.trim().replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+/.test(issuer)) {
    status('Enter your municipality’s web address, starting with https://.', 'error');
    $('issuer-url').focus();
    return;
  }
  status(`Asking ${hostOf(issuer)}…`);
  const next = await wallet.startIssuance(issuer, {
    clientId: location.origin, redirectUri: `${location.origin}/callback`, copies: settings.copies,
  });
  settings = { ...settings, lastIssuer: issuer };
  await storage.put('settings', settings);
  status(`Going to ${hostOf(issuer)}: sign in there with your passkey.`);
  location.assign(next);
}

async function showReceive() {
  show('receive');
  $('receive-from').textContent = 'Reading the offer…';
  $('receive-button').disabled = true;
  try {
    const offer = await readOffer(pending.url);
    $('receive-from').textContent = `${hostOf(offer.credential_issuer)} offers you a residency credential.`;
    const tx = offer.tx_code;
    $('tx-code-field').hidden = !tx;
    if (tx) {
      $('tx-code-help').textContent = tx.description || `Your municipality gave you this code${tx.length ? ` (${tx.length} characters)` : ''}.`;
      $('tx-code').inputMode = tx.input_mode === 'text' ? 'text' : 'numeric';
      if (tx.length) $('tx-code').maxLength = tx.length;
    }
    $('receive-button').disabled = false;
    status(tx ? 'Enter the transaction code, then add the credential.' : 'Ready to add the credential.');
    (tx ? $('tx-code') : $('receive-button')).focus();
  } catch (e) {
    $('receive-from').textContent = 'This offer cannot be opened.';
    status(explain(e), 'error');
  }
}

async function receive() {
  const copies = Math.min(10, Math.max(1, Number($('copies').value) || settings.copies));
  const txCode = $('tx-code-field').hidden ? undefined : $('tx-code').value.trim();
  if (!$('tx-code-field').hidden && !txCode) {
    status('Enter the transaction code first.', 'error');
    $('tx-code').focus();
    return;
  }
  status('Fetching your credential: making fresh keys, one per copy…');
  const card = await wallet.receive(pending.url, { txCode, copies });
  forgetLink();
  await showWallet();
  status(`Added: residency credential from ${hostOf(card.issuer)}, with ${plural(card.unused_copies, 'single-use copy', 'single-use copies')}.`, 'success');
}

async function showConsent() {
  show();
  status('Reading the request…');
  try {
    prepared = await wallet.prepare(pending.url);
  } catch (e) {
    forgetLink();
    await showWallet();
    status(explain(e), 'error');
    return;
  }
  lastPrepared = prepared;
  $('consent-verifier').textContent = prepared.client_id;
  // Signed and verified, or not: say which, in plain words.
  $('consent-host').textContent = prepared.authenticated
    ? (prepared.verifier_name
      ? `Verified: ${prepared.verifier_name} (${prepared.verifier}), certified by your municipality's platform registry. The answer goes there.`
      : `Verified: the request is signed by ${prepared.verifier}, and the answer goes there.`)
    : (prepared.unauthenticated_reason
      ? `Not verified: ${prepared.verifier} showed a certificate your municipality's platform registry does not vouch for (${prepared.unauthenticated_reason}). Share only if this is the platform you are using.`
      : `Not verified: this platform did not prove who it is. The answer goes to ${prepared.verifier}; share only if this is the platform you are using.`);
  $('consent-host').classList.toggle('unverified', !prepared.authenticated);
  const bare = (label) => label.replace(/:? \?$/, '');
  $('consent-items').replaceChildren(...prepared.items.map((i) => (i.available
    ? el('li', { text: i.label })
    : el('li', { class: 'unavailable', text: `${bare(i.label)} (not in your wallet)` }))));
  const missing = prepared.missing ?? [];
  $('consent-missing').hidden = missing.length === 0;
  $('consent-missing-items').replaceChildren(...prepared.items.filter((i) => !i.available).map((i) => el('li', { text: bare(i.label) })));
  const canShare = prepared.credential_id !== undefined && missing.length === 0 && !prepared.refused;
  const left = prepared.unused_copies ?? 0;
  $('consent-copies').textContent = !canShare ? '' : left > 0 ? `${plural(left, 'unused copy', 'unused copies')} left; sharing uses one.` : 'No unused copy left. ';
  $('share').disabled = !canShare || left === 0;
  show('consent');
  if (canShare && left === 0) {
    const c = (await wallet.list()).find((x) => x.id === prepared.credential_id);
    $('consent-copies').append(freshBatchLink(c?.issuer));
    status(freshBatchHelp(c?.issuer), 'error');
  } else if (prepared.refused) {
    status(`Your wallet will not answer this request: ${prepared.refused}.`, 'error');
  } else if (!canShare) {
    status('Your wallet cannot answer this request: it does not hold what is asked.', 'error');
  } else {
    status('Check what is asked, then share or decline.');
  }
  $('consent-title').focus();
}

async function share() {
  const req = prepared;
  status('Sharing…');
  let answer;
  try {
    answer = await wallet.present(req);
  } catch (e) {
    forgetLink();
    prepared = null;
    await showWallet();
    if (e?.code === 'no_unused_copy') {
      const c = (await wallet.list()).find((x) => x.id === req.credential_id);
      status(freshBatchHelp(c?.issuer), 'error');
    } else {
      const why = /revoked/.test(e?.message) ? 'the issuer has revoked this credential'
        : /suspended/.test(e?.message) ? 'the issuer has suspended this credential' : explain(e);
      status(`The platform did not accept the answer: ${why}.`, 'error');
    }
    return;
  }
  forgetLink();
  prepared = null;
  // Copies running low: topped up with the refresh token, when the issuer gave one.
  const left = (await wallet.list()).find((x) => x.id === req.credential_id);
  if (left?.refreshable && left.unused_copies <= 1) {
    await wallet.refresh(left.id, { copies: settings.copies }).catch((e) => console.warn('refresh', e));
  }
  const next = answer?.redirect_uri;
  if (next && /^https?:\/\//i.test(next)) {
    status('Shared. Going back to the platform…', 'success');
    location.assign(next);
    return;
  }
  show('present-done');
  status('Shared. You can return to the platform.', 'success');
  $('done-title').focus();
}

async function decline() {
  const req = prepared;
  prepared = null;
  forgetLink();
  try {
    await wallet.decline(req);
    status('Declined. Nothing was shared.', 'success');
  } catch (e) {
    status(`Declined here, but the platform could not be told: ${explain(e)}`, 'error');
  }
  await showWallet();
}

function claimValue(claims, dotted) {
  const v = dotted.split('.').reduce((o, k) => (o && typeof o === 'object' ? o[k] : undefined), claims);
  if (v === true) return 'yes';
  if (v === false) return 'no';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function cardNode(c) {
  const name = c.vct.endsWith('/residency') ? 'Residency credential' : 'Credential';
  const claims = el('dl', { class: 'claims' });
  for (const [path, label] of c.labels) claims.append(el('dt', { text: label }), el('dd', { text: claimValue(c.claims, path) }));
  const platforms = Object.keys(c.claims.pseudonyms ?? {}).map(hostOf);
  if (platforms.length) claims.append(el('dt', { text: 'Pseudonyms for' }), el('dd', { text: platforms.join(', ') }));
  const statusWord = c.status ?? 'checking…';
  const li = el('li', { class: 'credential-card', 'aria-labelledby': `card-${c.id}` },
    el('h3', { id: `card-${c.id}`, text: name }),
    el('p', { class: 'issuer', text: `Issued by ${hostOf(c.issuer)}` }),
    el('p', { class: 'expiry', text: c.exp ? `Valid until ${day(c.exp)}` : 'No expiry date' }),
    el('p', { class: 'status-line' }, 'Status: ', el('span', { class: `status status-${statusWord.split(' ')[0].replace(/[^a-z]/g, '')}`, text: statusWord })),
    el('p', { class: 'copies', text: plural(c.unused_copies, 'unused copy', 'unused copies') }),
    claims,
    el('p', {}, el('button', {
      type: 'button', class: 'delete-credential secondary', 'data-id': c.id, 'aria-label': `Delete ${name.toLowerCase()} from ${hostOf(c.issuer)}`, text: 'Delete',
    })));
  if (c.refreshable) {
    li.append(el('p', {}, el('button', {
      type: 'button', class: 'refresh-credential secondary', 'data-id': c.id, text: 'Get fresh copies',
      'aria-label': `Get fresh copies of the ${name.toLowerCase()} from ${hostOf(c.issuer)}`,
    })));
  } else if (c.unused_copies === 0) {
    li.append(el('p', { class: 'notice', text: `${freshBatchHelp(c.issuer)} ` }, freshBatchLink(c.issuer)));
  }
  return li;
}

function historyNode(h) {
  const what = h.outcome === 'declined' ? 'Declined: nothing shared' : `Shared: ${h.claims.join('; ')}`;
  return el('li', {},
    el('time', { datetime: new Date(h.at * 1000).toISOString(), text: when(h.at) }),
    el('span', { class: 'to', text: ` to ${h.verifier ?? h.to} ` }),
    el('code', { class: 'client-id', text: h.to }),
    el('p', { class: 'claims-shared', text: what }));
}

let listSeq = 0;
async function showWallet() {
  const cards = await wallet.list();
  $('credentials').replaceChildren(...cards.map(cardNode));
  $('no-credentials').hidden = cards.length > 0;
  const hist = wallet.history().reverse();
  $('history').replaceChildren(...hist.map(historyNode));
  $('no-history').hidden = hist.length > 0;
  const issuers = [...new Set([settings.lastIssuer, ...cards.map((c) => c.issuer)].filter(Boolean))];
  $('known-issuers').replaceChildren(...issuers.map((i) => el('option', { value: i })));
  if (!$('issuer-url').value && issuers.length) $('issuer-url').value = issuers[0];
  $('clear-history').hidden = hist.length === 0;
  show('wallet', 'open');
  // Then the live status from each issuer's status list.
  const seq = ++listSeq;
  if (!cards.length) return;
  const live = await wallet.list({ liveStatus: true }).catch(() => null);
  if (!live || seq !== listSeq || !wallet.unlocked) return;
  $('credentials').replaceChildren(...live.map(cardNode));
}

// ---- events ---------------------------------------------------------------------------------

/** Runs a button's action once at a time, reporting errors in #status. */
function action(id, f) {
  $(id).addEventListener('click', async (ev) => {
    ev.preventDefault();
    if (busy) return;
    busy = true;
    $(id).setAttribute('aria-busy', 'true');
    try {
      await f(ev);
    } catch (e) {
      console.warn(e);
      status(explain(e), 'error');
    } finally {
      busy = false;
      $(id).removeAttribute('aria-busy');
    }
  });
}

action('create-wallet', async () => {
  await createWallet();
  status(meta.protection === 'prf' ? 'Your wallet is ready, protected by your passkey.' : 'Your wallet is ready, but less protected (see above).', 'success');
  await render();
});
action('unlock-button', async () => { await unlock(); await render(); });
action('lock-button', async () => { wallet?.lock(); });
action('receive-button', receive);
action('get-credential', getCredential);
action('receive-cancel', async () => { forgetLink(); await showWallet(); status('Offer not used.'); });
action('share', share);
action('decline', decline);
action('done-button', showWallet);
action('clear-history', async () => {
  if (!window.confirm('Clear the history of what you shared?')) return;
  await wallet.clearHistory();
  await showWallet();
  status('History cleared.');
});
action('open-link', async () => {
  const link = linkKind($('paste-link').value);
  if (!link) {
    status('This is not a credential offer or a sharing request link.', 'error');
    $('paste-link').focus();
    return;
  }
  $('paste-link').value = '';
  pending = link;
  await render();
});
action('save-settings', async () => {
  settings = {
    autoLockMinutes: Math.min(120, Math.max(1, Number($('autolock-minutes').value) || DEFAULTS.autoLockMinutes)),
    copies: Math.min(10, Math.max(1, Number($('default-copies').value) || DEFAULTS.copies)),
  };
  await storage.put('settings', settings);
  if (wallet) wallet.autoLockMs = autoLockMs();
  wallet?.touch();
  $('copies').value = settings.copies;
  status('Settings saved.', 'success');
});
action('reset-button', async () => {
  if (!window.confirm('Delete every credential, key and the history from this wallet? This cannot be undone.')) return;
  if (wallet) await wallet.reset();
  else await storage.delete('vault');
  for (const k of ['meta', 'device-key']) await storage.delete(k);
  meta = null;
  wallet = null;
  forgetLink();
  await render();
  status('The wallet was reset. Its passkey may still be listed on your device; you can remove it there.');
});
$('credentials').addEventListener('click', async (ev) => {
  const fresh = ev.target.closest('.refresh-credential');
  if (fresh && !busy) {
    busy = true;
    try {
      status('Fetching fresh copies from your municipality…');
      const card = await wallet.refresh(fresh.dataset.id, { copies: settings.copies });
      await showWallet();
      status(`Fresh copies: ${plural(card.unused_copies, 'unused copy', 'unused copies')}; ${plural(card.deleted_copies, 'used copy', 'used copies')} deleted.`, 'success');
    } catch (e) {
      await showWallet();
      status(explain(e), 'error');
    } finally {
      busy = false;
    }
    return;
  }
  const btn = ev.target.closest('.delete-credential');
  if (!btn || busy) return;
  if (!window.confirm('Delete this credential and all its copies?')) return;
  busy = true;
  try {
    await wallet.delete(btn.dataset.id);
    await showWallet();
    status('Credential deleted.');
  } catch (e) {
    status(explain(e), 'error');
  } finally {
    busy = false;
  }
});
// Enter in a field clicks the form's submit button (handled above); the form itself never posts.
for (const form of ['receive-form', 'open-form', 'settings-form', 'get-form']) $(form).addEventListener('submit', (ev) => ev.preventDefault());

// Any activity keeps an unlocked wallet open; idleness locks it (settings: minutes).
let lastTouch = 0;
for (const type of ['pointerdown', 'keydown', 'touchstart', 'scroll']) {
  addEventListener(type, () => {
    const t = Date.now();
    if (t - lastTouch > 1000) { lastTouch = t; wallet?.touch(); }
  }, { passive: true, capture: true });
}

// For measurements (tests/browser/wallet_e2e.mjs): times `n` answers (the WASM part of sharing:
// the vp_token, sealed when the verifier asks for encryption) with a stored copy, without posting
// and without using a copy up; says which encryption the answer gets (null: none).
window.__civicWalletBench = (n = 20) => {
  if (!wallet?.unlocked) throw new WalletError('locked', 'unlock first');
  if (!lastPrepared) throw new WalletError('invalid_request', 'open a sharing request first');
  const times = wallet.timeVpToken(lastPrepared, n);
  const sorted = [...times].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { n, median_ms: median, times_ms: times, encryption: lastPrepared.encryption?.enc ?? null };
};

// ---- start ----------------------------------------------------------------------------------

try {
  await loadSettings();
  meta = await storage.get('meta');
  pending = linkFromLocation();
  if (location.search && !pending) {
    status('This link is not a credential offer or a sharing request.', 'error');
    history.replaceState(null, '', '/');
  }
  await render();
  if (!meta && pending) status('Create your wallet to continue.');
  else if (pending && !wallet?.unlocked) {
    status({
      receive: 'A credential offer is waiting. Unlock your wallet.',
      present: 'A platform asks you to share. Unlock your wallet.',
      callback: 'Your municipality answered. Unlock your wallet to add the credential.',
    }[pending.kind]);
  }
  document.documentElement.dataset.ready = 'true';
} catch (e) {
  status(`The wallet could not start: ${explain(e)}`, 'error');
}
