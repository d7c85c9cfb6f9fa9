// The wallet page's languages (web/messages.js, web/i18n.js): every message exists in every
// language, none is empty, each language has the same placeholders and the plural forms its
// language needs; every key the page uses (index.html data-i18n, the JS) exists and every message
// is used; the claims' names match the core's table (credential/src/residency/labels.rs); the
// language follows the browser; claims, refusals and statuses are put into words.
//
// `wasmChecks(core, cred, check)`, run by smoke.mjs with the built WASM, also checks that the
// English words the page makes from claim paths and values are exactly the core's own labels.
//
//   node wallet-wasm/tests/i18n.mjs       (catalogue checks only, no WASM needed)
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const web = join(here, '..', 'web');
const root = join(here, '..', '..');
const i18n = await import(pathToFileURL(join(web, 'i18n.js')).href);
const { MESSAGES, LANGUAGE_NAMES, t, setLanguage, pickLanguage } = i18n;

const placeholders = (text) => new Set([...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]));
const forms = (message) => (typeof message === 'string' ? [message] : Object.values(message));
const placeholdersOf = (message) => new Set(forms(message).flatMap((f) => [...placeholders(f)]));
const same = (a, b) => a.size === b.size && [...a].every((x) => b.has(x));

/** The catalogue against itself, the page's HTML and JS, and the core's claim table. */
export function catalogueChecks(check) {
  const languages = Object.keys(MESSAGES);
  const en = MESSAGES.en;
  const keys = Object.keys(en);
  check('catalogue: English and Dutch at least', languages.includes('en') && languages.includes('nl'), languages.join(','));
  check('catalogue: every language has its own name', languages.every((l) => typeof LANGUAGE_NAMES[l] === 'string' && LANGUAGE_NAMES[l].trim()), JSON.stringify(LANGUAGE_NAMES));

  for (const lang of languages) {
    const messages = MESSAGES[lang];
    const missing = keys.filter((k) => !Object.hasOwn(messages, k));
    const extra = Object.keys(messages).filter((k) => !Object.hasOwn(en, k));
    check(`catalogue ${lang}: every message exists`, missing.length === 0 && extra.length === 0, `missing ${JSON.stringify(missing)}, not in English ${JSON.stringify(extra)}`);
    const empty = Object.entries(messages).filter(([, m]) => forms(m).some((f) => typeof f !== 'string' || !f.trim()));
    check(`catalogue ${lang}: no empty message`, empty.length === 0, JSON.stringify(empty.map(([k]) => k)));
    const mismatched = keys.filter((k) => Object.hasOwn(messages, k) && !same(placeholdersOf(messages[k]), placeholdersOf(en[k])));
    check(`catalogue ${lang}: the same placeholders as English`, mismatched.length === 0,
      mismatched.map((k) => `${k}: ${[...placeholdersOf(messages[k])]} vs ${[...placeholdersOf(en[k])]}`).join('; '));
    // A plural message has each form the language needs, and only those, and counts with {n}.
    const categories = new Intl.PluralRules(lang).resolvedOptions().pluralCategories;
    const badPlural = keys.filter((k) => {
      const m = messages[k];
      if (typeof en[k] !== typeof m) return true;
      if (typeof m === 'string') return false;
      return !categories.every((c) => typeof m[c] === 'string') || Object.keys(m).some((c) => !categories.includes(c)) || !placeholdersOf(m).has('n');
    });
    check(`catalogue ${lang}: plural forms (${categories.join(', ')})`, badPlural.length === 0, JSON.stringify(badPlural));
  }

  // The page: every data-i18n key exists; every text in <body> is a message (or says its language).
  const html = readFileSync(join(web, 'index.html'), 'utf8');
  const htmlKeys = [...html.matchAll(/data-i18n="([^"]+)"/g)].map((m) => m[1]);
  const attrKeys = [...html.matchAll(/data-i18n-attr="([^"]+)"/g)].flatMap((m) => m[1].trim().split(/\s+/).map((p) => p.split(':')[1]));
  const unknownHtml = [...htmlKeys, ...attrKeys].filter((k) => !Object.hasOwn(en, k));
  check('index.html: every data-i18n key exists', htmlKeys.length > 30 && unknownHtml.length === 0, `${htmlKeys.length} keys; unknown ${JSON.stringify(unknownHtml)}`);
  const body = html.slice(html.indexOf('<body>'));
  const bare = [];
  for (const m of body.matchAll(/<([a-z0-9]+)([^>]*)>([^<]*)/gi)) {
    const [, tag, attrs, text] = m;
    if (!text.trim()) continue;
    // The text right after an opening tag: that element's text must come from the catalogue; a
    // <noscript> (no JS to translate it) speaks every language, each part marked with its lang.
    const inNoscript = body.slice(0, m.index).endsWith('<noscript>');
    if (/data-i18n=/.test(attrs) || /\blang=/.test(attrs) || (inNoscript && /\blang="nl"/.test(text + body.slice(m.index, body.indexOf('</noscript>', m.index))))) continue;
    bare.push(text.trim().slice(0, 40));
  }
  for (const m of body.matchAll(/<\/[a-z0-9]+>([^<]+)/gi)) if (m[1].trim()) bare.push(m[1].trim().slice(0, 40));
  check('index.html: no text outside the catalogue', bare.length === 0, JSON.stringify(bare));
  const english = (k) => forms(en[k])[0].replace(/\s+/g, ' ');
  const differs = htmlKeys.filter((k) => {
    const re = new RegExp(`data-i18n="${k.replace(/\./g, '\\.')}"[^>]*>([^<]*)<`);
    const text = re.exec(html)?.[1]?.replace(/\s+/g, ' ').trim();
    return text !== undefined && text !== '' && text !== english(k);
  });
  check('index.html: its English text is the catalogue\'s', differs.length === 0, JSON.stringify(differs));

  // The JS: every key-shaped string literal exists, and every message is used somewhere.
  const prefixes = new Set(keys.map((k) => k.split('.')[0]));
  const sources = ['app.js', 'i18n.js'].map((f) => readFileSync(join(web, f), 'utf8'));
  const literals = sources.flatMap((src) => [...src.matchAll(/'([a-z]+\.[A-Za-z_.]+)'/g)].map((m) => m[1]))
    .filter((k) => prefixes.has(k.split('.')[0]) && !k.endsWith('.js'));
  const unknownJs = [...new Set(literals.filter((k) => !Object.hasOwn(en, k)))];
  check('app.js, i18n.js: every message key used exists', literals.length > 80 && unknownJs.length === 0, `${literals.length} uses; unknown ${JSON.stringify(unknownJs)}`);
  // wallet.js: the reasons of its own errors (WalletError's third argument), said by the page as
  // `reason.<reason>`; in English exactly the error's message.
  const walletJs = readFileSync(join(web, 'wallet.js'), 'utf8');
  const reasons = [...walletJs.matchAll(/new WalletError\('\w+', ('[^']*'|`[^`]*`), '(\w+)'/g)].map((m) => [m[2], m[1]]);
  const badReasons = reasons.filter(([r, message]) => !Object.hasOwn(en, `reason.${r}`)
    || (message.startsWith("'") && en[`reason.${r}`] !== message.slice(1, -1)));
  check('wallet.js: each reason of its errors has a message, in English the error\'s own', reasons.length >= 10 && badReasons.length === 0, JSON.stringify(badReasons));
  const used = new Set([...literals, ...htmlKeys, ...attrKeys, ...reasons.map(([r]) => `reason.${r}`)]);
  // claim.<path>: looked up by the claim's path (i18n.js claimName).
  const unused = keys.filter((k) => !used.has(k) && !k.startsWith('claim.'));
  check('catalogue: every message is used', unused.length === 0, JSON.stringify(unused));

  // The claims' names: the core's table, one message per claim, the English name the core's.
  const labels = readFileSync(join(root, 'credential', 'src', 'residency', 'labels.rs'), 'utf8');
  const table = [...labels.matchAll(/label\(&\[([^\]]*)\], "([^"]*)"\)/g)]
    .map((m) => [`claim.${[...m[1].matchAll(/"([^"]*)"/g)].map((x) => x[1]).join('.')}`, m[2]]);
  const wrong = table.filter(([k, name]) => en[k] !== name);
  const notInTable = keys.filter((k) => k.startsWith('claim.') && k !== 'claim.age' && !table.some(([tk]) => tk === k));
  check('claims: one message per claim of the core\'s table, in its English words', table.length >= 11 && wrong.length === 0 && notInTable.length === 0,
    `${table.length} claims; differ ${JSON.stringify(wrong)}; not in the table ${JSON.stringify(notInTable)}`);
}

/** The language choice and the words made from structured data. */
export function behaviourChecks(check) {
  const pick = (pref, override) => pickLanguage(pref, override);
  const eq = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  check('language: a Dutch browser gets Dutch', eq(pick(['nl-NL', 'nl', 'en-US']), { lang: 'nl', locale: 'nl-NL' }));
  check('language: Flemish (nl-BE) gets Dutch, dates in nl-BE', eq(pick(['nl-BE']), { lang: 'nl', locale: 'nl-BE' }));
  check('language: the first language with a catalogue wins', eq(pick(['de-DE', 'nl', 'en']), { lang: 'nl', locale: 'nl' }) && eq(pick(['en-GB', 'nl-NL']), { lang: 'en', locale: 'en-GB' }));
  check('language: otherwise English', eq(pick(['de-DE', 'fr']), { lang: 'en', locale: 'en' }) && eq(pick([]), { lang: 'en', locale: 'en' }));
  check('language: the setting overrides the browser', eq(pick(['nl-NL'], 'en'), { lang: 'en', locale: 'en' }) && eq(pick(['en-US'], 'nl'), { lang: 'nl', locale: 'nl' }));
  check('language: "auto" or an unknown setting follows the browser', eq(pick(['nl-NL'], 'auto'), { lang: 'nl', locale: 'nl-NL' }) && eq(pick(['nl-NL'], 'xx'), { lang: 'nl', locale: 'nl-NL' }));

  const { sharedClaim, missingClaim, claimName, claimValue, statusWord, refusalReason, platformHost } = i18n;
  const code = ['residence', 'municipality_code'];
  const age = ['age_equal_or_over', '16'];
  const budget = ['pseudonyms', 'https://budget.example'];
  setLanguage(['en-US']);
  check('en: plural forms', t('copies.unused', { n: 1 }) === '1 unused copy' && t('copies.unused', { n: 5 }) === '5 unused copies' && t('copies.unused', { n: 0 }) === '0 unused copies');
  check('en: claims shared, in the core\'s words', sharedClaim(code, '0363') === 'Resident of municipality 0363' && sharedClaim(age, true) === '16 or older'
    && sharedClaim(age, false) === 'Not yet 16' && sharedClaim(age, null) === 'Whether you are 16 or older'
    && sharedClaim(budget, 'x') === 'Your pseudonym for budget.example' && sharedClaim(['address', 'street_address'], 'Dam 1') === 'Your street address: Dam 1'
    && sharedClaim(['nickname'], 'Ada') === 'nickname: Ada', [sharedClaim(code, '0363'), sharedClaim(budget, 'x')].join(' | '));
  check('en: a claim not held', missingClaim(code) === 'Municipality code' && missingClaim(age) === 'Whether you are 16 or older' && missingClaim(['a', 'b']) === 'a.b');
  check('did:web platforms as people read them', platformHost('did:web:v.example%3A8443:platforms:budget') === 'v.example:8443/platforms/budget'
    && platformHost('did:web:budget.example') === 'budget.example' && platformHost('http://localhost:8091') === 'localhost:8091');

  setLanguage(['nl-NL']);
  check('nl: plural forms', t('copies.unused', { n: 1 }) === '1 ongebruikte kopie' && t('copies.unused', { n: 5 }) === '5 ongebruikte kopieën');
  check('nl: claims shared', sharedClaim(code, '0363') === 'Inwoner van gemeente 0363' && sharedClaim(age, true) === '16 jaar of ouder'
    && sharedClaim(age, false) === 'Nog geen 16 jaar' && sharedClaim(budget, 'x') === 'Je pseudoniem voor budget.example'
    && sharedClaim(['given_name'], 'Anna') === 'Je voornaam: Anna', [sharedClaim(code, '0363'), sharedClaim(['given_name'], 'Anna')].join(' | '));
  check('nl: card fields', claimName('residence.municipality_code', 'x') === 'Gemeentecode' && claimName('age_equal_or_over.18', 'x') === '18 jaar of ouder'
    && claimName('nickname', 'Nickname') === 'Nickname' && claimValue(true) === 'ja' && claimValue('Dam 1') === 'Dam 1');
  check('nl: statuses', statusWord('valid') === 'geldig' && statusWord('revoked') === 'ingetrokken' && statusWord('unknown (http_error)') === 'onbekend (http_error)' && statusWord(undefined) === 'wordt gecontroleerd…');
  const prepared = (paths, clientId = 'redirect_uri:https://hostile.example/cb') => ({ client_id: clientId, paths, refused: 'core text' });
  check('nl: refusals from the pseudonyms asked for', refusalReason(prepared([budget, ['pseudonyms', 'https://b.example']])).startsWith('er wordt om meerdere pseudoniemen gevraagd')
    && refusalReason(prepared([['pseudonyms']])).startsWith('er wordt om al je pseudoniemen gevraagd')
    && refusalReason(prepared([budget, age])) === 'er wordt om je pseudoniem voor https://budget.example gevraagd, maar het verzoek komt van https://hostile.example, en een platform krijgt alleen zijn eigen pseudoniem'
    && refusalReason(prepared([budget], 'x509_hash:abc')).startsWith('deze partij (x509_hash:abc)')
    && refusalReason(prepared([age])) === 'core text');
  setLanguage(['en']);
}

/**
 * With the built WASM (`core`: pkg/civic_wallet.js, initialised) and a residency credential from
 * the Rust issuer side (`cred`): the page's English words are exactly the core's.
 */
export function wasmChecks(core, cred, check) {
  const { claimName, sharedClaim, dotted, refusalReason } = i18n;
  setLanguage(['en-US']);
  const now = Math.floor(Date.now() / 1000);
  const card = JSON.parse(core.verifyReceived(cred.sd_jwt, JSON.stringify([cred.issuer_jwk]), cred.issuer, now));
  const cardDiff = card.labels.filter(([path, label]) => claimName(path, undefined) !== label);
  check('wasm: the card fields\' English names are the core\'s labels', card.labels.length > 10 && cardDiff.length === 0, JSON.stringify(cardDiff));

  const platform = Object.keys(card.claims.pseudonyms ?? {})[0];
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const prepare = (paths, responseUri) => {
    const clientId = `redirect_uri:${responseUri}`;
    const request = `${b64({ alg: 'none', typ: 'oauth-authz-req+jwt' })}.${b64({
      response_type: 'vp_token', client_id: clientId, response_mode: 'direct_post', response_uri: responseUri, nonce: 'n-1', state: 's-1',
      dcql_query: { credentials: [{ id: 'residency', format: 'dc+sd-jwt', meta: { vct_values: [card.vct] }, claims: paths.map((path) => ({ path })) }] },
    })}.`;
    const link = `openid4vp://?${new URLSearchParams({ client_id: clientId, request_uri: `${new URL(responseUri).origin}/request/1` })}`;
    return JSON.parse(core.prepareRequest(request, link, '', JSON.stringify([cred.sd_jwt]), '', '[]', now));
  };
  const lookup = (path) => path.reduce((o, k) => (o !== null && typeof o === 'object' && Object.hasOwn(o, k) ? o[k] : undefined), card.claims);
  const paths = [
    ['residence', 'municipality_code'], ['residence', 'municipality'], ['residence', 'district'], ['resident_since'],
    ['age_equal_or_over', '16'], ['age_equal_or_over', '65'], ['given_name'], ['family_name'], ['birthdate'],
    ['address', 'street_address'], ['address', 'postal_code'], ['address', 'locality'], ['address', 'country'], ['nationalities'],
    ['pseudonyms', platform],
  ];
  const p = prepare(paths, `${platform}/response/1`);
  const differ = p.items.map((item, i) => [item, paths[i]])
    .filter(([item, path]) => item.claim !== dotted(path) || !item.available || sharedClaim(path, lookup(path)) !== item.label)
    .map(([item, path]) => `${item.label} / ${sharedClaim(path, lookup(path))}`);
  check('wasm: each consent item in the page\'s English is the core\'s label', p.items.length === paths.length && p.refused === null && differ.length === 0, JSON.stringify(differ));
  const asked = prepare([['age_equal_or_over', '21'], ['residence', 'municipality_code'], ['nickname']], `${platform}/response/2`);
  check('wasm: a claim not held: the core\'s words for what is asked', asked.items[0].label === sharedClaim(['age_equal_or_over', '21'], null), JSON.stringify(asked.items));
  const other = prepare([['pseudonyms', platform], ['age_equal_or_over', '16']], 'https://other.example/response/3');
  const several = prepare([['pseudonyms', platform], ['pseudonyms', 'https://b.example']], `${platform}/response/4`);
  check('wasm: refusals in the page\'s English are the core\'s', other.refused === refusalReason(other) && several.refused === refusalReason(several),
    JSON.stringify([other.refused, refusalReason(other), several.refused, refusalReason(several)]));
}

// Run alone: the catalogue and behaviour checks.
if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  let passed = 0;
  let failed = 0;
  const check = (name, cond, detail = '') => {
    if (cond) { passed++; console.log(`ok   ${name}`); } else { failed++; console.log(`FAIL ${name} ${detail}`); }
  };
  catalogueChecks(check);
  behaviourChecks(check);
  console.log(`i18n: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}
