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
import {
  LANGUAGE_NAMES, claimName, claimValue as valueWords, dateLocale, missingClaim, refusalReason,
  setLanguage, sharedClaim, statusWord, t, translatePage,
} from './i18n.js';

const $ = (id) => document.getElementById(id);
const SCREENS = ['setup', 'unlock', 'receive', 'consent', 'present-done', 'wallet', 'open'];
const DEFAULTS = { autoLockMinutes: 5, copies: 5, language: 'auto' };

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

const when = (secs) => new Date(secs * 1000).toLocaleString(dateLocale(), { dateStyle: 'medium', timeStyle: 'short' });
const day = (secs) => new Date(secs * 1000).toLocaleDateString(dateLocale(), { dateStyle: 'long' });
const hostOf = (url) => { try { return new URL(url).host; } catch { return url; } };

/** The wallet's words for an error of the API, WebAuthn or the network (a detail is the service's
 *  or the wallet core's own text, in English). */
function explain(e) {
  if (e?.name === 'NotAllowedError') return t('error.passkeyCancelled');
  if (e?.name === 'InvalidStateError') return t('error.passkeyExists');
  if (e instanceof TypeError && /fetch|network/i.test(e.message)) return t('error.network');
  const code = e?.code;
  // The wallet's own reasons in words (a WalletError's `reason`); else the message as it comes.
  const detail = e?.reason ? t(`reason.${e.reason}`, e.params) : e?.message ?? String(e);
  switch (code) {
    case 'locked': return t('error.locked');
    case 'unlock_failed': return t('error.unlockFailed');
    case 'vault_rolled_back': return t('error.rolledBack');
    case 'prf_unavailable': return t('error.prfUnavailable');
    case 'tx_code_required': return t('receive.codeFirst');
    case 'invalid_grant': return t('error.offerUsed');
    case 'invalid_offer': return t('error.invalidOffer', { detail });
    case 'no_unused_copy': return t('error.noUnusedCopy');
    case 'no_credential': return t('consent.cannotAnswer');
    case 'invalid_request_uri': return t('error.requestClosed');
    case 'access_denied': return t('error.accessDenied');
    case 'no_refresh': return t('error.noRefresh', { detail });
    case 'credential_request_denied': return t('error.credentialDenied');
    case 'invalid_issuer': return t('error.invalidIssuer', { detail });
    case 'invalid_response': return t('error.invalidResponse', { detail });
    default: return t('error.other', { detail: detail.replace(/^POST |^GET /, '') });
  }
}

/** When copies run out: how to fetch a fresh batch. */
function freshBatchHelp(issuer) {
  return t('fresh.help', { where: issuer ? hostOf(issuer) : t('fresh.yourMunicipality') });
}

/** A link to the issuer's resident page, where a fresh batch is offered. */
function freshBatchLink(issuer) {
  if (!/^https?:\/\//.test(issuer ?? '')) return '';
  return el('a', { href: `${issuer.replace(/\/+$/, '')}/me`, text: t('fresh.link', { host: hostOf(issuer) }) });
}

// ---- language --------------------------------------------------------------------------------

/** The language setting's choices: as the browser, or each language in its own name. */
function languageOptions() {
  const auto = el('option', { value: 'auto', 'data-i18n': 'settings.languageAuto', text: t('settings.languageAuto') });
  const own = Object.entries(LANGUAGE_NAMES).map(([code, name]) => el('option', { value: code, lang: code, text: name }));
  $('language').replaceChildren(auto, ...own);
}

let spoken = null;
/** Speaks the browser's language, or the one the settings pin; puts the page's fixed texts into
 *  it when it changed. Returns whether it changed. */
function applyLanguage() {
  const lang = setLanguage(navigator.languages?.length ? navigator.languages : [navigator.language], settings.language);
  if (lang === spoken) return false;
  spoken = lang;
  translatePage();
  return true;
}

// ---- settings and keystore ------------------------------------------------------------------

async function loadSettings() {
  if ($('language').options.length === 0) languageOptions();
  const s = await storage.get('settings');
  settings = { ...DEFAULTS, ...(s ?? {}) };
  $('autolock-minutes').value = settings.autoLockMinutes;
  $('default-copies').value = settings.copies;
  $('copies').value = settings.copies;
  $('language').value = settings.language;
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
    p.textContent = t('protection.prf');
    p.className = 'protection ok';
  } else {
    p.textContent = t('protection.device');
    p.className = 'protection warning';
  }
}

async function createWallet() {
  let protection = 'device';
  let credentialId = null;
  let first = null;
  if (hasWebAuthn()) {
    status(t('create.prompt'));
    const pk = await createPasskey();
    credentialId = pk.credentialId;
    if (pk.prf) { protection = 'prf'; first = pk.secret; }
  }
  meta = { version: 1, protection, credentialId, created: Date.now() };
  try {
    if (protection === 'prf' && !first) status(t('create.unlockOnce'));
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
  status(meta.protection === 'prf' || meta.credentialId ? t('unlock.prompt') : t('unlock.unlocking'));
  await openWallet(keySource());
  await wallet.unlock();
  status(t('unlock.unlocked'));
}

function onLocked() {
  // Take every decrypted detail off the page.
  prepared = null;
  lastPrepared = null;
  for (const id of ['credentials', 'history', 'consent-items', 'consent-missing-items']) $(id).replaceChildren();
  $('consent-verifier').textContent = '';
  render();
  status(t('lock.locked'));
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
    $('setup-intro').textContent = t(pending ? 'setup.introPending' : 'setup.intro');
    return show('setup');
  }
  if (!wallet?.unlocked) {
    $('unlock-why').textContent = t({ receive: 'unlock.whyReceive', present: 'unlock.whyPresent', callback: 'unlock.whyCallback' }[pending?.kind] ?? 'unlock.why');
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
  status(t('receive.fetching'));
  const url = pending.url;
  forgetLink();
  try {
    const card = await wallet.finishIssuance(url, { copies: settings.copies });
    // Back from the wallet provider: on to the issuer's authorization page.
    if (card.next) {
      status(t('get.confirmed'));
      location.assign(card.next);
      return;
    }
    await showWallet();
    status(t('receive.added', { issuer: hostOf(card.issuer), copies: t('copies.singleUse', { n: card.unused_copies }) }), 'success');
  } catch (e) {
    await showWallet();
    status(explain(e), 'error');
  }
}

/** "Get my residency credential": to the issuer's sign-in page, coming back to /callback. */
async function getCredential() {
  const issuer = $('issuer-url').value.trim().replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+/.test(issuer)) {
    status(t('get.badAddress'), 'error');
    $('issuer-url').focus();
    return;
  }
  status(t('get.asking', { host: hostOf(issuer) }));
  const next = await wallet.startIssuance(issuer, {
    clientId: location.origin, redirectUri: `${location.origin}/callback`, copies: settings.copies,
  });
  settings = { ...settings, lastIssuer: issuer };
  await storage.put('settings', settings);
  status(t('get.goingTo', { host: hostOf(issuer) }));
  location.assign(next);
}

async function showReceive() {
  show('receive');
  $('receive-from').textContent = t('receive.reading');
  $('receive-button').disabled = true;
  try {
    const offer = await readOffer(pending.url);
    $('receive-from').textContent = t('receive.offers', { issuer: hostOf(offer.credential_issuer) });
    const tx = offer.tx_code;
    $('tx-code-field').hidden = !tx;
    if (tx) {
      // Our own words, then the issuer's description of the code (its text, in its language).
      const help = tx.length ? t('receive.txHelpLength', { n: tx.length }) : t('receive.txHelp');
      $('tx-code-help').textContent = tx.description ? `${help} ${t('receive.txIssuerSays', { text: tx.description })}` : help;
      $('tx-code').inputMode = tx.input_mode === 'text' ? 'text' : 'numeric';
      if (tx.length) $('tx-code').maxLength = tx.length;
    }
    $('receive-button').disabled = false;
    status(t(tx ? 'receive.enterCode' : 'receive.ready'));
    (tx ? $('tx-code') : $('receive-button')).focus();
  } catch (e) {
    $('receive-from').textContent = t('receive.cannotOpen');
    status(explain(e), 'error');
  }
}

async function receive() {
  const copies = Math.min(10, Math.max(1, Number($('copies').value) || settings.copies));
  const txCode = $('tx-code-field').hidden ? undefined : $('tx-code').value.trim();
  if (!$('tx-code-field').hidden && !txCode) {
    status(t('receive.codeFirst'), 'error');
    $('tx-code').focus();
    return;
  }
  status(t('receive.fetching'));
  const card = await wallet.receive(pending.url, { txCode, copies });
  forgetLink();
  await showWallet();
  status(t('receive.added', { issuer: hostOf(card.issuer), copies: t('copies.singleUse', { n: card.unused_copies }) }), 'success');
}

async function showConsent() {
  show();
  status(t('consent.reading'));
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
  // (The certificate's organization name and why it is not trusted are the core's text.)
  const host = prepared.verifier;
  $('consent-host').textContent = prepared.authenticated
    ? (prepared.verifier_name
      ? t('consent.verifiedNamed', { name: prepared.verifier_name, host })
      : t('consent.verifiedSigned', { host }))
    : (prepared.unauthenticated_reason
      ? t('consent.unverifiedCertificate', { host, reason: prepared.unauthenticated_reason })
      : t('consent.unverified', { host }));
  $('consent-host').classList.toggle('unverified', !prepared.authenticated);
  // Each claim in words, from its path and value (wallet.prepare gives both).
  $('consent-items').replaceChildren(...prepared.items.map((i) => (i.available
    ? el('li', { text: sharedClaim(i.path, i.value) })
    : el('li', { class: 'unavailable', text: t('consent.notInWallet', { claim: missingClaim(i.path) }) }))));
  const missing = prepared.missing ?? [];
  $('consent-missing').hidden = missing.length === 0;
  $('consent-missing-items').replaceChildren(...prepared.items.filter((i) => !i.available).map((i) => el('li', { text: missingClaim(i.path) })));
  const canShare = prepared.credential_id !== undefined && missing.length === 0 && !prepared.refused;
  const left = prepared.unused_copies ?? 0;
  $('consent-copies').textContent = !canShare ? '' : left > 0 ? t('consent.copiesLeft', { copies: t('copies.unused', { n: left }) }) : `${t('consent.noCopyLeft')} `;
  $('share').disabled = !canShare || left === 0;
  show('consent');
  if (canShare && left === 0) {
    const c = (await wallet.list()).find((x) => x.id === prepared.credential_id);
    $('consent-copies').append(freshBatchLink(c?.issuer));
    status(freshBatchHelp(c?.issuer), 'error');
  } else if (prepared.refused) {
    status(t('consent.refused', { reason: refusalReason(prepared) }), 'error');
  } else if (!canShare) {
    status(t('consent.cannotAnswer'), 'error');
  } else {
    status(t('consent.check'));
  }
  $('consent-title').focus();
}

async function share() {
  const req = prepared;
  status(t('share.sharing'));
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
      const why = /revoked/.test(e?.message) ? t('share.revoked')
        : /suspended/.test(e?.message) ? t('share.suspended') : explain(e);
      status(t('share.notAccepted', { reason: why }), 'error');
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
    status(t('share.goingBack'), 'success');
    location.assign(next);
    return;
  }
  show('present-done');
  status(t('share.done'), 'success');
  $('done-title').focus();
}

async function decline() {
  const req = prepared;
  prepared = null;
  forgetLink();
  try {
    await wallet.decline(req);
    status(t('decline.done'), 'success');
  } catch (e) {
    status(t('decline.notTold', { detail: explain(e) }), 'error');
  }
  await showWallet();
}

function claimValue(claims, dotted) {
  const v = dotted.split('.').reduce((o, k) => (o && typeof o === 'object' ? o[k] : undefined), claims);
  return v === undefined ? 'undefined' : valueWords(v);
}

function cardNode(c) {
  const name = t(c.vct.endsWith('/residency') ? 'card.residency' : 'card.other');
  const lower = name.toLocaleLowerCase(document.documentElement.lang);
  const issuer = hostOf(c.issuer);
  const claims = el('dl', { class: 'claims' });
  // Each claim's name from its path (the core's label for a claim the catalogue does not know).
  for (const [path, label] of c.labels) claims.append(el('dt', { text: claimName(path, label) }), el('dd', { text: claimValue(c.claims, path) }));
  const platforms = Object.keys(c.claims.pseudonyms ?? {}).map(hostOf);
  if (platforms.length) claims.append(el('dt', { text: t('card.pseudonymsFor') }), el('dd', { text: platforms.join(', ') }));
  const state = c.status ?? 'checking…'; // the core's word, for the style
  const li = el('li', { class: 'credential-card', 'aria-labelledby': `card-${c.id}` },
    el('h3', { id: `card-${c.id}`, text: name }),
    el('p', { class: 'issuer', text: t('card.issuedBy', { issuer }) }),
    el('p', { class: 'expiry', text: c.exp ? t('card.validUntil', { date: day(c.exp) }) : t('card.noExpiry') }),
    el('p', { class: 'status-line' }, `${t('card.statusLabel')} `, el('span', { class: `status status-${state.split(' ')[0].replace(/[^a-z]/g, '')}`, text: statusWord(c.status) })),
    el('p', { class: 'copies', text: t('copies.unused', { n: c.unused_copies }) }),
    claims,
    el('p', {}, el('button', {
      type: 'button', class: 'delete-credential secondary', 'data-id': c.id, 'aria-label': t('card.deleteLabel', { name: lower, issuer }), text: t('card.delete'),
    })));
  if (c.refreshable) {
    li.append(el('p', {}, el('button', {
      type: 'button', class: 'refresh-credential secondary', 'data-id': c.id, text: t('card.refresh'),
      'aria-label': t('card.refreshLabel', { name: lower, issuer }),
    })));
  } else if (c.unused_copies === 0) {
    li.append(el('p', { class: 'notice', text: `${freshBatchHelp(c.issuer)} ` }, freshBatchLink(c.issuer)));
  }
  return li;
}

function historyNode(h) {
  // Entries recorded before the wallet kept each claim's path and value have the core's English
  // sentences only.
  const shared = Array.isArray(h.items) ? h.items.map((i) => sharedClaim(i.path, i.value)) : h.claims;
  const what = h.outcome === 'declined' ? t('history.declined') : t('history.shared', { claims: shared.join('; ') });
  return el('li', {},
    el('time', { datetime: new Date(h.at * 1000).toISOString(), text: when(h.at) }),
    el('span', { class: 'to', text: ` ${t('history.to', { verifier: h.verifier ?? h.to })} ` }),
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
  status(t(meta.protection === 'prf' ? 'create.ready' : 'create.readyWeak'), 'success');
  await render();
});
action('unlock-button', async () => { await unlock(); await render(); });
action('lock-button', async () => { wallet?.lock(); });
action('receive-button', receive);
action('get-credential', getCredential);
action('receive-cancel', async () => { forgetLink(); await showWallet(); status(t('receive.notUsed')); });
action('share', share);
action('decline', decline);
action('done-button', showWallet);
action('clear-history', async () => {
  if (!window.confirm(t('history.confirmClear'))) return;
  await wallet.clearHistory();
  await showWallet();
  status(t('history.cleared'));
});
action('open-link', async () => {
  const link = linkKind($('paste-link').value);
  if (!link) {
    status(t('open.notALink'), 'error');
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
    language: $('language').value,
  };
  await storage.put('settings', settings);
  if (wallet) wallet.autoLockMs = autoLockMs();
  wallet?.touch();
  $('copies').value = settings.copies;
  if (applyLanguage()) await render();
  status(t('settings.saved'), 'success');
});
action('reset-button', async () => {
  if (!window.confirm(t('settings.confirmReset'))) return;
  if (wallet) await wallet.reset();
  else await storage.delete('vault');
  for (const k of ['meta', 'device-key']) await storage.delete(k);
  meta = null;
  wallet = null;
  forgetLink();
  await render();
  status(t('settings.wasReset'));
});
$('credentials').addEventListener('click', async (ev) => {
  const fresh = ev.target.closest('.refresh-credential');
  if (fresh && !busy) {
    busy = true;
    try {
      status(t('fresh.fetching'));
      const card = await wallet.refresh(fresh.dataset.id, { copies: settings.copies });
      await showWallet();
      status(t('fresh.done', { unused: t('copies.unused', { n: card.unused_copies }), deleted: t('copies.used', { n: card.deleted_copies }) }), 'success');
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
  if (!window.confirm(t('card.confirmDelete'))) return;
  busy = true;
  try {
    await wallet.delete(btn.dataset.id);
    await showWallet();
    status(t('card.deleted'));
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

// The browser's language first (before anything is shown), then the one the settings pin.
applyLanguage();
try {
  await loadSettings();
  applyLanguage();
  meta = await storage.get('meta');
  pending = linkFromLocation();
  if (location.search && !pending) {
    status(t('start.badLink'), 'error');
    history.replaceState(null, '', '/');
  }
  await render();
  if (!meta && pending) status(t('start.createFirst'));
  else if (pending && !wallet?.unlocked) {
    status(t({ receive: 'start.offerWaiting', present: 'start.requestWaiting', callback: 'start.callbackWaiting' }[pending.kind]));
  }
  document.documentElement.dataset.ready = 'true';
} catch (e) {
  status(t('start.failed', { detail: explain(e) }), 'error');
}
