// civic-issuer resident pages: WebAuthn ceremonies and the credential offer dialog.
// Plain ES module, no dependencies. The server sends and expects base64url JSON (webauthn-rs).

const b64uToBuf = (s) => {
  const b = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4));
  return Uint8Array.from(b, (c) => c.charCodeAt(0)).buffer;
};
const bufToB64u = (buf) =>
  btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

const status = (msg, isError = false) => {
  const el = document.getElementById('status');
  if (!el) return;
  el.textContent = msg;
  el.classList.toggle('error', isError);
};

// The page's sentences in the resident's language (the server's catalogue, locales/*.ftl:
// the js-* and error-* messages), with English if the page has none.
const messages = (() => {
  try {
    return JSON.parse(document.body?.dataset.messages || '{}');
  } catch {
    return {};
  }
})();
const say = (id, english) => messages[id] ?? english;
// The service words its errors in English, more precisely than the page's catalogue ("…; 3
// tries left"): other languages show the catalogue's sentence for the error's code.
const translated = document.documentElement.lang !== 'en';

// Browser WebAuthn errors and the service's error codes in plain words.
const explain = (e) =>
  ({
    NotAllowedError: say('js-cancelled', 'The passkey prompt was cancelled or timed out. Please try again.'),
    InvalidStateError: say('js-has-passkey', 'This device already has a passkey for your account.'),
    NotSupportedError: say('js-no-passkeys', 'This browser or device does not support passkeys.'),
    SecurityError: say('js-wrong-address', 'Passkeys only work on the municipality’s own web address.'),
  })[e?.name] ?? (translated && e?.code && messages[`error-${e.code}`]) ?? e?.message ?? String(e);

const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content ?? '';

async function api(path, body, method = 'POST') {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf() },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = new Error(data.error_description || `request failed (${res.status})`);
    err.code = data.error;
    throw err;
  }
  return data;
}

function creationOptions(json) {
  const pk = structuredClone(json.publicKey);
  pk.challenge = b64uToBuf(pk.challenge);
  pk.user.id = b64uToBuf(pk.user.id);
  pk.excludeCredentials = (pk.excludeCredentials || []).map((c) => ({ ...c, id: b64uToBuf(c.id) }));
  return { publicKey: pk };
}

function requestOptions(json) {
  const pk = structuredClone(json.publicKey);
  pk.challenge = b64uToBuf(pk.challenge);
  pk.allowCredentials = (pk.allowCredentials || []).map((c) => ({ ...c, id: b64uToBuf(c.id) }));
  return { publicKey: pk };
}

function registrationJSON(cred) {
  return {
    id: cred.id,
    rawId: bufToB64u(cred.rawId),
    type: cred.type,
    response: {
      attestationObject: bufToB64u(cred.response.attestationObject),
      clientDataJSON: bufToB64u(cred.response.clientDataJSON),
      transports: cred.response.getTransports ? cred.response.getTransports() : [],
    },
    extensions: cred.getClientExtensionResults(),
  };
}

function authenticationJSON(cred) {
  return {
    id: cred.id,
    rawId: bufToB64u(cred.rawId),
    type: cred.type,
    response: {
      authenticatorData: bufToB64u(cred.response.authenticatorData),
      clientDataJSON: bufToB64u(cred.response.clientDataJSON),
      signature: bufToB64u(cred.response.signature),
      userHandle: cred.response.userHandle ? bufToB64u(cred.response.userHandle) : null,
    },
    extensions: cred.getClientExtensionResults(),
  };
}

async function register(startPath, finishPath, body) {
  const options = await api(startPath, body);
  status(say('js-follow-prompt', 'Follow the prompt on your device…'));
  const cred = await navigator.credentials.create(creationOptions(options));
  return api(finishPath, registrationJSON(cred));
}

const handlers = {
  'enroll-form': (form) =>
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        const done = await register('/api/enroll/start', '/api/enroll/finish', { code: form.code.value });
        location.assign(done.redirect || '/me');
      } catch (e) {
        status(explain(e), true);
      }
    }),
  'login-button': (btn) =>
    btn.addEventListener('click', async () => {
      try {
        const options = await api('/api/login/start');
        status(say('js-follow-prompt', 'Follow the prompt on your device…'));
        const cred = await navigator.credentials.get(requestOptions(options));
        const done = await api('/api/login/finish', authenticationJSON(cred));
        // Signing in on the authorization page: back to it, now signed in.
        if (btn.dataset.returnHere !== undefined) location.reload();
        else location.assign(done.redirect || '/me');
      } catch (e) {
        status(explain(e), true);
      }
    }),
  'add-passkey': (btn) =>
    btn.addEventListener('click', async () => {
      try {
        await register('/api/passkeys/start', '/api/passkeys/finish');
        location.reload();
      } catch (e) {
        status(explain(e), true);
      }
    }),
  'offer-button': (btn) =>
    btn.addEventListener('click', async () => {
      try {
        const offer = await api('/api/offers');
        document.getElementById('offer-qr').innerHTML = offer.qr_svg;
        const link = document.getElementById('offer-link');
        link.href = offer.wallet_link || offer.openid_credential_offer_url;
        if (offer.tx_code) {
          document.getElementById('offer-tx-code').textContent = offer.tx_code;
          document.getElementById('offer-tx').hidden = false;
        }
        document.getElementById('offer').hidden = false;
        status(say('js-offer-ready', 'Offer ready.'));
      } catch (e) {
        status(explain(e), true);
      }
    }),
  logout: (btn) =>
    btn.addEventListener('click', async () => {
      await api('/api/logout').catch(() => {});
      location.assign('/login');
    }),
};

for (const [id, attach] of Object.entries(handlers)) {
  const el = document.getElementById(id);
  if (el) attach(el);
}
// A page a wallet sent the browser to (another site) is loaded without the session cookie
// (SameSite=Strict). A resident who is signed in here is asked to sign in only if a request
// from this page itself, which carries the cookie, finds no session; otherwise the page loads
// again, now with it.
if (document.querySelector('#login-button[data-return-here]') && !sessionStorage.getItem('session-probed')) {
  sessionStorage.setItem('session-probed', '1');
  fetch('/api/me', { credentials: 'same-origin' })
    .then((res) => { if (res.ok) location.reload(); })
    .catch(() => {});
} else {
  sessionStorage.removeItem('session-probed');
}
// The authorization page: the resident's decision, then on to the wallet.
for (const btn of document.querySelectorAll('[data-authorize]')) {
  btn.addEventListener('click', async () => {
    try {
      const { clientId, requestUri } = document.getElementById('authorization').dataset;
      const done = await api('/api/authorize', {
        client_id: clientId,
        request_uri: requestUri,
        approve: btn.dataset.authorize === 'approve',
      });
      status(say('js-returning', 'Returning to your wallet…'));
      location.assign(done.redirect);
    } catch (e) {
      status(explain(e), true);
    }
  });
}
// The wallet provider's page: the resident confirms the wallet, which comes back with its
// attestation (or with access_denied).
for (const btn of document.querySelectorAll('[data-attest]')) {
  btn.addEventListener('click', async () => {
    try {
      const { clientId, redirectUri, state, jwk } = document.getElementById('wallet-attestation').dataset;
      const done = await api('/api/wallet-attestation', {
        client_id: clientId,
        redirect_uri: redirectUri,
        state,
        jwk,
        approve: btn.dataset.attest === 'approve',
      });
      status(say('js-returning', 'Returning to your wallet…'));
      location.assign(done.redirect);
    } catch (e) {
      status(explain(e), true);
    }
  });
}
for (const btn of document.querySelectorAll('[data-remove-passkey]')) {
  btn.addEventListener('click', async () => {
    try {
      await api(`/api/passkeys/${encodeURIComponent(btn.dataset.removePasskey)}`, undefined, 'DELETE');
      location.reload();
    } catch (e) {
      status(explain(e), true);
    }
  });
}
