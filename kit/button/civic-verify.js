/*
 * civic-verify.js: a "Verify as a resident of Teststad" button for civic platforms. No framework,
 * no dependencies, nothing inline (it runs under `script-src 'self'; style-src 'self'`).
 *
 *   <link rel="stylesheet" href="/civic-button/civic-verify.css">
 *   <div data-civic-verify data-place="Teststad"></div>
 *   <script src="/civic-button/civic-verify.js" defer></script>
 *
 * It talks only to the platform's own back end (the API key never reaches the browser):
 *   POST {data-start-url, default /civic/start}      -> {id, openid4vp_url, qr_svg, expires_at}
 *   GET  {data-status-url, default /civic/status/}{id} -> {status, eligible?, pseudonym?}
 * It shows the QR code (the service's SVG, copied element by element: no markup is injected)
 * and the same-device link, polls with back-off until a final state or expiry, then fires
 * `civic-verify:result` on the element (detail {id, status, eligible, pseudonym}) and calls
 * `onResult` if given to CivicVerify.mount(element, options).
 *
 * Options (data-* attributes or mount() options): place, lang ("en", "nl", or "page" for the
 * document's lang; default: the browser's languages, then the page's, then English), label
 * (the button's text), startUrl, statusUrl, messages ({en: {...}, nl: {...}} overrides).
 * The result a browser reports is for the page only: the platform's back end trusts only what it
 * recorded itself (webhook or its own read of the session).
 */
(function () {
  'use strict';

  /** The built-in strings; `{place}` is replaced by the place name. */
  var MESSAGES = {
    en: {
      button: 'Verify as a resident of {place}',
      retry: 'Try again',
      starting: 'Starting the check…',
      scan: 'Scan this QR code with your wallet app, or open the wallet on this device.',
      qrLabel: 'QR code for your wallet app',
      link: 'Open my wallet on this device',
      waiting: 'Waiting for your wallet…',
      verifying: 'Your wallet answered; checking…',
      verified: 'Verified: you are a resident of {place}.',
      notEligible: 'Your credential does not meet the conditions of this check.',
      rejected: 'The check failed: your wallet’s answer was not accepted. Please try again.',
      declined: 'You declined the request in your wallet.',
      expired: 'The request expired before your wallet answered. Please try again.',
      error: 'The check could not be started or completed. Please try again later.'
    },
    nl: {
      button: 'Bevestig dat u inwoner bent van {place}',
      retry: 'Opnieuw proberen',
      starting: 'De controle wordt gestart…',
      scan: 'Scan deze QR-code met uw wallet-app, of open de wallet op dit apparaat.',
      qrLabel: 'QR-code voor uw wallet-app',
      link: 'Open mijn wallet op dit apparaat',
      waiting: 'Wachten op uw wallet…',
      verifying: 'Uw wallet heeft geantwoord; bezig met controleren…',
      verified: 'Bevestigd: u bent inwoner van {place}.',
      notEligible: 'Uw bewijs voldoet niet aan de voorwaarden van deze controle.',
      rejected: 'De controle is mislukt: het antwoord van uw wallet is niet geaccepteerd. Probeer het opnieuw.',
      declined: 'U heeft het verzoek in uw wallet geweigerd.',
      expired: 'Het verzoek is verlopen voordat uw wallet antwoordde. Probeer het opnieuw.',
      error: 'De controle kon niet worden gestart of afgerond. Probeer het later opnieuw.'
    }
  };
  var FINAL = { complete: 1, rejected: 1, declined: 1, expired: 1 };
  var SVG_NS = 'http://www.w3.org/2000/svg';
  // What a QR code needs, and nothing that can run or load anything.
  var SVG_TAGS = { svg: 1, rect: 1, path: 1, g: 1 };
  var SVG_ATTRS = { width: 1, height: 1, viewBox: 1, x: 1, y: 1, d: 1, fill: 1, 'shape-rendering': 1, transform: 1 };

  /** The first supported language: explicit option, else the browser's, else the page's. */
  function pickLanguage(requested, messages) {
    var supported = messages || MESSAGES;
    var page = document.documentElement.lang;
    var wanted = requested === 'page' ? [page]
      : requested ? [requested]
        : [].concat(navigator.languages || [], navigator.language || [], page || []);
    for (var i = 0; i < wanted.length; i++) {
      var primary = String(wanted[i] || '').toLowerCase().split('-')[0];
      if (Object.prototype.hasOwnProperty.call(supported, primary)) return primary;
    }
    return 'en';
  }

  /** A copy of the service's QR SVG with only the allowed elements and attributes, or null. */
  function safeSvg(text) {
    var doc;
    try { doc = new DOMParser().parseFromString(String(text || ''), 'image/svg+xml'); } catch (e) { return null; }
    var root = doc && doc.documentElement;
    if (!root || root.namespaceURI !== SVG_NS || root.localName !== 'svg') return null;
    function copy(node) {
      if (node.namespaceURI !== SVG_NS || !SVG_TAGS[node.localName]) return null;
      var out = document.createElementNS(SVG_NS, node.localName);
      for (var i = 0; i < node.attributes.length; i++) {
        var a = node.attributes[i];
        if (!a.namespaceURI && SVG_ATTRS[a.name]) out.setAttribute(a.name, a.value);
      }
      for (var c = node.firstElementChild; c; c = c.nextElementSibling) {
        var cc = copy(c);
        if (cc) out.appendChild(cc);
      }
      return out;
    }
    return copy(root);
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }

  /** Turns `host` into the button; returns {start, reset, lang}. */
  function mount(host, options) {
    options = options || {};
    var data = host.dataset || {};
    var messages = {};
    var custom = options.messages || {};
    Object.keys(MESSAGES).concat(Object.keys(custom)).forEach(function (l) {
      messages[l] = Object.assign({}, MESSAGES.en, MESSAGES[l] || {}, custom[l] || {});
    });
    var lang = pickLanguage(options.lang || data.lang, messages);
    var place = options.place || data.place || 'Teststad';
    var startUrl = options.startUrl || data.startUrl || '/civic/start';
    var statusUrl = options.statusUrl || data.statusUrl || '/civic/status/';
    function t(key) { return messages[lang][key].split('{place}').join(place); }

    host.classList.add('civic-verify');
    host.setAttribute('lang', lang);
    host.textContent = '';
    var button = el('button', 'civic-verify__button', options.label || data.label || t('button'));
    button.type = 'button';
    var status = el('p', 'civic-verify__status');
    status.setAttribute('role', 'status');
    status.setAttribute('aria-live', 'polite');
    status.tabIndex = -1;
    var panel = el('div', 'civic-verify__panel');
    panel.hidden = true;
    var qr = el('div', 'civic-verify__qr');
    qr.setAttribute('role', 'img');
    qr.setAttribute('aria-label', t('qrLabel'));
    var link = el('a', 'civic-verify__link', t('link'));
    panel.appendChild(qr);
    panel.appendChild(link);
    host.appendChild(button);
    host.appendChild(status);
    host.appendChild(panel);

    var run = 0; // bumped on each start, so an old poll loop stops
    var timer = null;

    function say(key, kind) {
      status.textContent = t(key);
      host.setAttribute('data-state', kind || key);
    }

    function finish(result, key) {
      clearTimeout(timer);
      panel.hidden = true;
      qr.textContent = '';
      link.removeAttribute('href');
      say(key, result.status === 'complete' && result.eligible ? 'verified' : key);
      if (!(result.status === 'complete' && result.eligible)) {
        button.textContent = t('retry');
        button.disabled = false;
        button.hidden = false;
        button.focus();
      } else {
        button.hidden = true;
        status.focus();
      }
      var detail = { id: result.id || null, status: result.status, eligible: result.eligible === true, pseudonym: result.pseudonym || null };
      host.dispatchEvent(new CustomEvent('civic-verify:result', { detail: detail, bubbles: true }));
      if (typeof options.onResult === 'function') options.onResult(detail);
    }

    function outcomeKey(r) {
      if (r.status === 'complete') return r.eligible ? 'verified' : 'notEligible';
      return r.status;
    }

    function poll(id, expiresAt, mine, delay, errors) {
      timer = setTimeout(function () {
        if (mine !== run) return;
        fetch(statusUrl + encodeURIComponent(id), { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } })
          .then(function (res) {
            if (!res.ok) throw new Error('status ' + res.status);
            return res.json();
          })
          .then(function (r) {
            if (mine !== run) return;
            if (FINAL[r.status]) return finish(r, outcomeKey(r));
            if (r.status === 'verifying') say('verifying');
            // Still not final 30 s past expiry (a margin for clocks): give up, as expired.
            var late = Date.now() > (expiresAt + 30) * 1000;
            if (late) return finish({ id: id, status: 'expired' }, 'expired');
            poll(id, expiresAt, mine, Math.min(delay * 1.5, 5000), 0);
          })
          .catch(function () {
            if (mine !== run) return;
            if (errors >= 4) return finish({ id: id, status: 'error' }, 'error');
            poll(id, expiresAt, mine, Math.min(delay * 2, 8000), errors + 1);
          });
      }, delay);
    }

    function start() {
      var mine = ++run;
      clearTimeout(timer);
      button.disabled = true;
      say('starting');
      fetch(startUrl, {
        method: 'POST', credentials: 'same-origin', cache: 'no-store',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: '{}'
      })
        .then(function (res) {
          return res.json().catch(function () { return {}; }).then(function (body) {
            if (!res.ok || !body.id || !body.openid4vp_url) {
              throw new Error((body.error || 'http ' + res.status) + ': ' + (body.error_description || ''));
            }
            return body;
          });
        })
        .then(function (s) {
          if (mine !== run) return;
          qr.textContent = '';
          var svg = safeSvg(s.qr_svg);
          if (svg) {
            svg.setAttribute('aria-hidden', 'true');
            svg.setAttribute('focusable', 'false');
            qr.appendChild(svg);
          }
          qr.hidden = !svg;
          link.href = s.openid4vp_url;
          panel.hidden = false;
          button.hidden = true;
          say('scan', 'waiting');
          link.focus();
          poll(s.id, Number(s.expires_at) || Date.now() / 1000 + 600, mine, 1000, 0);
        })
        .catch(function (e) {
          if (mine !== run) return;
          if (window.console) console.warn('civic-verify: ' + e.message);
          finish({ status: 'error' }, 'error');
        });
    }

    button.addEventListener('click', start);
    host.civicVerify = { start: start, lang: lang };
    return host.civicVerify;
  }

  function mountAll() {
    var hosts = document.querySelectorAll('[data-civic-verify]');
    for (var i = 0; i < hosts.length; i++) if (!hosts[i].civicVerify) mount(hosts[i]);
  }

  window.CivicVerify = { mount: mount, mountAll: mountAll, pickLanguage: pickLanguage, safeSvg: safeSvg, messages: MESSAGES };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', mountAll);
  else mountAll();
}());
