// The wallet page's languages: which one to speak, its messages (messages.js), and the claims of a
// residency credential in its words. No DOM access on import, so Node tests can load it.
//
// The language follows the browser: the first of `navigator.languages` whose primary subtag has
// a catalogue (nl-BE → nl), else English. The settings can pin one instead. Dates use the
// browser's own tag when it is the same language (en-GB, nl-BE), else the language itself.
//
// Claims are put into words here from their paths and values, which the wallet core gives with
// every consent item and card, not from the core's English sentences: the English catalogue says
// exactly what the core says (wallet-wasm/tests/i18n.mjs compares the two).
import { LANGUAGE_NAMES, MESSAGES } from './messages.js';

export { LANGUAGE_NAMES, MESSAGES };
export const LANGUAGES = Object.keys(MESSAGES);
export const DEFAULT_LANGUAGE = 'en';

let lang = DEFAULT_LANGUAGE;
let locale = DEFAULT_LANGUAGE;

/**
 * The language to speak for the browser's `preferred` tags (navigator.languages) and a setting
 * (`override`: a language code, or anything else for "as the browser"): `{lang, locale}`.
 */
export function pickLanguage(preferred = [], override = null) {
  const tags = (Array.isArray(preferred) ? preferred : [preferred]).filter((x) => typeof x === 'string' && x);
  const primary = (tag) => tag.toLowerCase().split('-')[0];
  const chosen = Object.hasOwn(MESSAGES, override ?? '') ? override
    : tags.map(primary).find((p) => Object.hasOwn(MESSAGES, p)) ?? DEFAULT_LANGUAGE;
  return { lang: chosen, locale: tags.find((tag) => primary(tag) === chosen) ?? chosen };
}

/** Switches the page's language (see pickLanguage); returns it. */
export function setLanguage(preferred, override) {
  ({ lang, locale } = pickLanguage(preferred, override));
  return lang;
}

/** The language spoken now, and the locale for dates. */
export const language = () => lang;
export const dateLocale = () => locale;

/**
 * The message `key` in the current language (English when a language lacks it), with
 * `{name}` placeholders filled from `params`; `{n}` also picks a plural form.
 */
export function t(key, params = {}) {
  const message = MESSAGES[lang]?.[key] ?? MESSAGES[DEFAULT_LANGUAGE][key];
  if (message === undefined) {
    console.warn(`i18n: no message ${key}`);
    return key;
  }
  const text = typeof message === 'string' ? message
    : message[new Intl.PluralRules(lang).select(Number(params.n))] ?? message.other;
  return text.replace(/\{(\w+)\}/g, (all, name) => (Object.hasOwn(params, name) ? String(params[name]) : all));
}

/**
 * Puts the page's fixed texts into the current language: `data-i18n="key"` sets an element's
 * text, `data-i18n-attr="attr:key attr:key"` its attributes; `<html lang>` follows.
 */
export function translatePage(doc = document) {
  doc.documentElement.lang = lang;
  for (const node of doc.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of doc.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of node.dataset.i18nAttr.trim().split(/\s+/)) {
      const [attr, key] = pair.split(':');
      node.setAttribute(attr, t(key));
    }
  }
}

// ---- the residency credential's claims in words ---------------------------------------------

const AGE = 'age_equal_or_over';
const PSEUDONYMS = 'pseudonyms';

/** A claim value as text: strings as they are, anything else as JSON (as the core does). */
const asText = (v) => (typeof v === 'string' ? v : JSON.stringify(v));

/** A claim path (array) as the core writes it: keys joined with dots, `[n]`, `[*]`. */
export function dotted(path) {
  return path.map((el, i) => {
    if (el === null) return '[*]';
    if (typeof el === 'number') return `[${el}]`;
    return i === 0 ? el : `.${el}`;
  }).join('');
}

/**
 * A platform as people read it: the host of an origin (`budget.example`), or where a did:web
 * lives (`verifier.example:8443/platforms/budget`).
 */
export function platformHost(platform) {
  if (platform.startsWith('did:web:')) {
    const [host, ...segments] = platform.slice('did:web:'.length).split(':');
    try { return [decodeURIComponent(host), ...segments.map(decodeURIComponent)].join('/'); } catch { return platform; }
  }
  const at = platform.indexOf('://');
  const rest = at < 0 ? platform : platform.slice(at + 3);
  return rest.split(/[/?#]/)[0];
}

/** Whether `path` names one age threshold, and which: `['age_equal_or_over', '16']` → '16'. */
const ageOf = (path) => (path.length === 2 && path[0] === AGE && typeof path[1] === 'string' ? path[1] : null);
/** Whether `path` names one platform's pseudonym, and which. */
const pseudonymOf = (path) => (path.length === 2 && path[0] === PSEUDONYMS && typeof path[1] === 'string' ? path[1] : null);

/**
 * The name of the claim at `path` (an array, or a dotted path of the card), for a field label:
 * "Municipality code", "16 or older"; `fallback` (the core's) for a claim without a message.
 */
export function claimName(path, fallback) {
  const keys = typeof path === 'string' ? path.split('.') : path;
  const age = ageOf(keys);
  if (age !== null) return t('claim.age', { n: age });
  const key = `claim.${keys.join('.')}`;
  if (keys.every((k) => typeof k === 'string') && Object.hasOwn(MESSAGES[DEFAULT_LANGUAGE], key)) return t(key);
  return fallback ?? dotted(keys);
}

/**
 * What sharing the claim at `path` with `value` tells the platform, for the consent screen and
 * the history: "Resident of municipality 0363", "16 or older", "Your pseudonym for host";
 * `value` undefined or null when the wallet does not hold it (only asked: "Whether you are 16
 * or older").
 */
export function sharedClaim(path, value) {
  const age = ageOf(path);
  if (age !== null) {
    if (value === true) return t('say.ageYes', { n: age });
    if (value === false) return t('say.ageNo', { n: age });
    return t('say.ageAsked', { n: age });
  }
  const platform = pseudonymOf(path);
  if (platform !== null) return t('say.pseudonym', { platform: platformHost(platform) });
  const v = value === undefined || value === null ? '?' : asText(value);
  switch (dotted(path)) {
    case 'residence.municipality_code': return t('say.municipalityCode', { value: v });
    case 'residence.municipality': return t('say.municipality', { value: v });
    case 'residence.district': return t('say.district', { value: v });
    case 'resident_since': return t('say.residentSince', { value: v });
    default: {
      const name = claimName(path, null);
      return name === dotted(path)
        ? t('say.other', { path: dotted(path), value: v })
        : t('say.claim', { name: name.toLocaleLowerCase(lang), value: v });
    }
  }
}

/** A claim the wallet does not hold, for the consent screen's list of what is missing. */
export function missingClaim(path) {
  if (ageOf(path) !== null || pseudonymOf(path) !== null) return sharedClaim(path, null);
  return claimName(path, null);
}

/** A claim's value on a card: yes / no, text, or JSON. */
export function claimValue(value) {
  if (value === true) return t('value.yes');
  if (value === false) return t('value.no');
  return asText(value);
}

/** A card's status (`valid`, `revoked`, `suspended`, `status_N`, `unknown (…)`) in words. */
export function statusWord(status) {
  if (status === undefined || status === null) return t('card.statusChecking');
  if (status === 'valid') return t('card.statusValid');
  if (status === 'revoked') return t('card.statusRevoked');
  if (status === 'suspended') return t('card.statusSuspended');
  const other = /^status_(\w+)$/.exec(status);
  if (other) return t('card.statusOther', { detail: other[1] });
  const unknown = /^unknown \((.*)\)$/s.exec(status);
  return t('card.statusUnknown', { detail: unknown ? unknown[1] : status });
}

/**
 * The platform a verifier is, as the wallet core binds pseudonyms: the origin of a
 * `redirect_uri:` client's response URI, a `decentralized_identifier:` client's DID, or the
 * platform an anchored certificate proved (`prepared.platform`); null when none.
 */
function boundPlatform(prepared) {
  const id = prepared.client_id ?? '';
  if (id.startsWith('redirect_uri:')) {
    try { return new URL(id.slice('redirect_uri:'.length)).origin; } catch { return null; }
  }
  if (id.startsWith('decentralized_identifier:')) return id.slice('decentralized_identifier:'.length);
  return prepared.platform ?? null;
}

/**
 * Why the wallet will not answer (`prepared.refused` is set), in words, from the pseudonyms the
 * request asks for: several, all of them, or one that is not the verifier's own. A refusal of
 * another kind keeps the core's own words.
 */
export function refusalReason(prepared) {
  // In the core's order: the first path that asks for all of them, or for a second one, decides.
  let asked = null;
  for (const p of prepared.paths ?? []) {
    if (!Array.isArray(p) || p[0] !== PSEUDONYMS) continue;
    const platform = pseudonymOf(p);
    if (platform === null) return t('consent.refusedAll');
    if (asked !== null) return t('consent.refusedSeveral');
    asked = platform;
  }
  if (asked === null) return prepared.refused;
  const verifier = boundPlatform(prepared);
  if (verifier === null || verifier === asked) return t('consent.refusedUnbound', { verifier: prepared.client_id });
  return t('consent.refusedOther', { asked, verifier });
}
