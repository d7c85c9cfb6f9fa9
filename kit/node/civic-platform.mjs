#!/usr/bin/env node
/*
 * civic-id platform kit for Node.js (18.3 or newer; no dependencies beyond node:).
 *
 * A client for the civic-verifier REST API, a webhook signature check, and a tiny example back
 * end a platform can copy.
 *
 *   node civic-platform.mjs create  VERIFIER_URL POLICY       # prints the new session (JSON)
 *   node civic-platform.mjs result  VERIFIER_URL SESSION_ID   # prints the session's state or outcome
 *   node civic-platform.mjs serve   --verifier URL --policy NAME [--listen 127.0.0.1:8000]
 *
 * The API key comes from the environment (CIVIC_API_KEY), never the command line; `serve` also
 * reads CIVIC_WEBHOOK_SECRET. Exit status: 0 ok, 1 the service refused (its `error` and
 * `error_description` on stderr), 2 usage.
 *
 * As a library:
 *   import { CivicClient, verifyWebhook } from './civic-platform.mjs';
 *   const client = new CivicClient('https://verifier.example', apiKey);
 *   const session = await client.createSession('vote');   // {id, openid4vp_url, qr_svg, expires_at, …}
 *   const outcome = await client.getSession(session.id);  // {status, eligibility?, …}
 *   const event = verifyWebhook(secret, req.headers['civic-signature'], rawBody); // or throws WebhookError
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const SIGNATURE_HEADER = 'civic-signature';
/** The webhook's timestamp may be this many seconds away from our clock (either way). */
export const DEFAULT_TOLERANCE = 300;
/** A session is final in these states; `pending` and `verifying` are not. */
export const FINAL_STATES = ['complete', 'rejected', 'declined', 'expired'];

/** A non-2xx answer of the verifier service, with its `error` and `error_description`. */
export class CivicApiError extends Error {
  constructor(status, error, description) {
    super(`civic-verifier answered ${status} ${error}: ${description}`);
    this.status = status;
    this.error = error;
    this.description = description;
  }
}

/** The platform API of a civic-verifier service, authenticated with the platform's API key. */
export class CivicClient {
  #apiKey;

  constructor(baseUrl, apiKey, { timeoutMs = 15000 } = {}) {
    if (!apiKey) throw new TypeError('an API key is needed (civic-verifier new-api-key makes one)');
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.#apiKey = apiKey;
    this.timeoutMs = timeoutMs;
  }

  /** Opens an eligibility check for `policy`: {id, openid4vp_url, request_uri, qr_svg, expires_at}. */
  createSession(policy, redirectUri) {
    const body = { policy };
    if (redirectUri !== undefined) body.redirect_uri = redirectUri;
    return this.#call('POST', '/v1/sessions', body);
  }

  /** Where the session stands: {status, id, expires_at, eligibility?, rejection?}. */
  getSession(id, responseCode) {
    let p = `/v1/sessions/${encodeURIComponent(id)}`;
    if (responseCode !== undefined) p += `?${new URLSearchParams({ response_code: responseCode })}`;
    return this.#call('GET', p);
  }

  async #call(method, p, body) {
    const headers = { authorization: `Bearer ${this.#apiKey}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(this.baseUrl + p, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      redirect: 'error', signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await res.text();
    if (res.ok) return JSON.parse(text);
    let err;
    try { err = JSON.parse(text); } catch { err = null; }
    if (err && typeof err === 'object' && typeof err.error === 'string') {
      throw new CivicApiError(res.status, err.error, err.error_description ?? '');
    }
    throw new CivicApiError(res.status, 'http_error', text.slice(0, 200) || res.statusText);
  }
}

/** A webhook that must be refused; `malformed` tells a broken header from a bad signature. */
export class WebhookError extends Error {
  constructor(message, malformed = false) {
    super(message);
    this.malformed = malformed;
  }
}

/** `t=<unix seconds>,v1=<64 hex>` -> {t, v1}. Spaces around parts are allowed, unknown keys
 *  ignored; a missing, repeated or ill-formed `t` or `v1` throws WebhookError(malformed). */
export function parseSignatureHeader(header) {
  if (typeof header !== 'string' || !header || header.length > 512) {
    throw new WebhookError('missing or oversized Civic-Signature header', true);
  }
  const seen = new Map();
  for (const part of header.split(',')) {
    const i = part.indexOf('=');
    if (i < 0) throw new WebhookError("Civic-Signature: a part without '='", true);
    const key = part.slice(0, i).trim();
    if (key !== 't' && key !== 'v1') continue;
    if (seen.has(key)) throw new WebhookError(`Civic-Signature: ${key} given twice`, true);
    seen.set(key, part.slice(i + 1).trim());
  }
  const t = seen.get('t');
  const v1 = seen.get('v1');
  if (t === undefined || !/^-?[0-9]{1,15}$/.test(t)) throw new WebhookError('Civic-Signature: no valid t=<unix seconds>', true);
  if (v1 === undefined || !/^[0-9a-f]{64}$/.test(v1)) throw new WebhookError('Civic-Signature: no valid v1=<64 lowercase hex>', true);
  return { t: Number(t), v1 };
}

/** HMAC-SHA256(secret, "<t>.<body>") as hex. */
const mac = (secret, t, body) => crypto.createHmac('sha256', secret)
  .update(`${t}.`).update(typeof body === 'string' ? Buffer.from(body) : body).digest('hex');

/** Checks `header` (Civic-Signature) over the exact raw `body` (Buffer) and returns the parsed
 *  event. Throws WebhookError for a malformed header, a timestamp more than `tolerance` seconds
 *  away, a wrong HMAC, or a body that is not a JSON object with an id. */
export function verifyWebhook(secret, header, body, { now = Math.floor(Date.now() / 1000), tolerance = DEFAULT_TOLERANCE } = {}) {
  const { t, v1 } = parseSignatureHeader(header);
  if (Math.abs(now - t) > tolerance) {
    throw new WebhookError(`Civic-Signature: timestamp ${t} is more than ${tolerance} s away from now`);
  }
  const expected = Buffer.from(mac(secret, t, body), 'ascii');
  if (!crypto.timingSafeEqual(expected, Buffer.from(v1, 'ascii'))) {
    throw new WebhookError('Civic-Signature: the signature does not match');
  }
  let event;
  try { event = JSON.parse(Buffer.isBuffer(body) ? body.toString('utf8') : body); } catch {
    throw new WebhookError('webhook body is not JSON', true);
  }
  if (!event || typeof event !== 'object' || typeof event.id !== 'string') {
    throw new WebhookError('webhook body has no session id', true);
  }
  return event;
}

/** The header the service sends for `body` at `t`: for tests of your endpoint. */
export function signWebhook(secret, body, t = Math.floor(Date.now() / 1000)) {
  return `t=${t},v1=${mac(secret, t, body)}`;
}

// --- The example back end ------------------------------------------------------------------
// Three endpoints behind the platform's own origin; the API key and webhook secret stay here.
//   POST /civic/start        -> opens a session, binds it to this browser (cookie)
//   GET  /civic/status/{id}  -> that browser reads the outcome (final states only from the service)
//   POST /civic/webhook      -> the service's signed result, recorded
// It also serves the button's demo page at / and the button's files under /civic-button/.

const BUTTON_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'button');
const STATIC = {
  'civic-verify.js': 'text/javascript', 'civic-verify.css': 'text/css', 'demo.js': 'text/javascript', 'demo.css': 'text/css',
};
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
  + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const COOKIE = 'civic_browser';
const MAX_BODY = 64 * 1024;

/** What the resident's own browser may see: the state, yes/no and the pseudonym. The platform
 *  trusts only what its back end recorded, never what a browser sends back. */
export function browserView(id, outcome, notified) {
  const view = { id, status: outcome.status ?? 'pending', notified };
  const e = outcome.eligibility;
  if (view.status === 'complete' && e && typeof e === 'object') {
    view.eligible = e.eligible === true;
    if (view.eligible && e.pseudonym) view.pseudonym = e.pseudonym;
  }
  return view;
}

/** The example back end's request handler; `sessions` is a Map (a platform uses its database). */
export function makeHandler({ client, policy, webhookSecret, sessions = new Map() }) {
  const send = (res, status, body, type = 'application/json', headers = {}) => {
    const data = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    res.writeHead(status, {
      'content-type': type, 'content-length': data.length, 'cache-control': 'no-store',
      'x-content-type-options': 'nosniff', 'content-security-policy': CSP, 'referrer-policy': 'no-referrer', ...headers,
    });
    res.end(data);
  };
  const error = (res, status, code, description) => send(res, status, { error: code, error_description: description });
  const upstream = (res, e) => (e instanceof CivicApiError
    ? send(res, 502, { error: e.error, error_description: e.description, upstream_status: e.status })
    : error(res, 502, 'verifier_unreachable', String(e?.message ?? e)));
  const browserOf = (req) => {
    for (const c of (req.headers.cookie ?? '').split(';')) {
      const [k, ...v] = c.trim().split('=');
      if (k === COOKIE) return v.join('=');
    }
    return null;
  };
  const readBody = (req) => new Promise((resolve, reject) => {
    const chunks = [];
    let n = 0;
    req.on('data', (c) => { n += c.length; if (n > MAX_BODY) { reject(new RangeError('too large')); req.destroy(); } else chunks.push(c); });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
  const same = (a, b) => a.length === b.length && crypto.timingSafeEqual(Buffer.from(a), Buffer.from(b));

  async function start(req, res) {
    // A JSON body and a same-origin fetch: another site cannot start sessions in our name.
    const site = req.headers['sec-fetch-site'] ?? 'same-origin';
    if (!(req.headers['content-type'] ?? '').startsWith('application/json') || !['same-origin', 'none'].includes(site)) {
      return error(res, 403, 'forbidden', "start a session from this site's own page");
    }
    await readBody(req);
    let s;
    try { s = await client.createSession(policy); } catch (e) {
      process.stderr.write(`backend: the verifier refused: ${e.message}\n`);
      return upstream(res, e);
    }
    // A fresh token per session (never one the browser brings), in production as a `__Host-`
    // cookie with `Secure`.
    const browser = crypto.randomBytes(32).toString('base64url');
    sessions.set(s.id, { browser, expiresAt: s.expires_at, outcome: null, notified: false });
    const { id, openid4vp_url, qr_svg, expires_at } = s;
    send(res, 200, { id, openid4vp_url, qr_svg, expires_at }, 'application/json',
      { 'set-cookie': `${COOKIE}=${browser}; Path=/civic; HttpOnly; SameSite=Strict` });
  }

  async function status(req, res, id) {
    const s = sessions.get(id);
    const browser = browserOf(req);
    if (!s || !browser || !same(s.browser, browser)) return error(res, 404, 'not_found', 'no such session for this browser');
    let outcome = s.outcome;
    if (!outcome) { // no webhook yet: ask the service
      try { outcome = await client.getSession(id); } catch (e) { return upstream(res, e); }
      if (FINAL_STATES.includes(outcome.status) && !s.outcome) s.outcome = outcome;
    }
    send(res, 200, browserView(id, outcome, s.notified));
  }

  async function webhook(req, res) {
    let raw;
    try { raw = await readBody(req); } catch { return error(res, 413, 'too_large', 'webhook body too large'); }
    let event;
    try { event = verifyWebhook(webhookSecret, req.headers[SIGNATURE_HEADER], raw); } catch (e) {
      if (!(e instanceof WebhookError)) throw e;
      process.stderr.write(`backend: webhook refused: ${e.message}\n`);
      return error(res, e.malformed ? 400 : 401, 'invalid_signature', e.message);
    }
    const s = sessions.get(event.id);
    if (s) { s.outcome = event; s.notified = true; }
    // Here a platform records the vote, signature or account link under the pseudonym.
    send(res, 200, { recorded: Boolean(s) });
  }

  return async (req, res) => {
    const { pathname } = new URL(req.url, 'http://backend.invalid');
    process.stderr.write(`backend: ${req.method} ${pathname}\n`);
    try {
      if (req.method === 'GET' && (pathname === '/' || pathname === '/index.html')) {
        return send(res, 200, fs.readFileSync(path.join(BUTTON_DIR, 'demo.html')), 'text/html; charset=utf-8');
      }
      const name = pathname.startsWith('/civic-button/') ? pathname.slice('/civic-button/'.length) : null;
      if (req.method === 'GET' && Object.hasOwn(STATIC, name ?? '')) {
        return send(res, 200, fs.readFileSync(path.join(BUTTON_DIR, name)), `${STATIC[name]}; charset=utf-8`);
      }
      if (req.method === 'GET' && pathname === '/favicon.ico') return send(res, 204, '', 'image/x-icon');
      if (req.method === 'GET' && pathname.startsWith('/civic/status/')) return await status(req, res, pathname.slice('/civic/status/'.length));
      if (req.method === 'POST' && pathname === '/civic/start') return await start(req, res);
      if (req.method === 'POST' && pathname === '/civic/webhook') return await webhook(req, res);
      return error(res, 404, 'not_found', 'no such endpoint');
    } catch (e) {
      process.stderr.write(`backend: ${e.stack ?? e}\n`);
      if (!res.headersSent) error(res, 500, 'server_error', 'internal error');
    }
  };
}

/** `serve --verifier URL --policy NAME [--listen HOST:PORT]` with CIVIC_API_KEY and CIVIC_WEBHOOK_SECRET. */
function serve(args) {
  const { values } = parseArgs({ args, options: { verifier: { type: 'string' }, policy: { type: 'string' }, listen: { type: 'string', default: '127.0.0.1:8000' } } });
  if (!values.verifier || !values.policy) throw new UsageError('serve needs --verifier URL and --policy NAME');
  const webhookSecret = process.env.CIVIC_WEBHOOK_SECRET;
  if (!webhookSecret) throw new UsageError("set CIVIC_WEBHOOK_SECRET (the platform's webhook_secret in the verifier's config)");
  const client = new CivicClient(values.verifier, process.env.CIVIC_API_KEY ?? '');
  const i = values.listen.lastIndexOf(':');
  const server = http.createServer(makeHandler({ client, policy: values.policy, webhookSecret }));
  server.listen(Number(values.listen.slice(i + 1)), values.listen.slice(0, i), () => {
    console.log(`backend: listening on http://${values.listen.slice(0, i)}:${server.address().port}/`);
  });
}

class UsageError extends Error {}

async function main(argv) {
  try {
    if (argv[0] === 'serve') return serve(argv.slice(1));
    if (argv.length !== 3 || !['create', 'result'].includes(argv[0])) throw new UsageError('usage: civic-platform.mjs create URL POLICY | result URL ID | serve --verifier URL --policy NAME');
    const [cmd, base, arg] = argv;
    const client = new CivicClient(base, process.env.CIVIC_API_KEY ?? '');
    const out = cmd === 'create' ? await client.createSession(arg) : await client.getSession(arg);
    console.log(JSON.stringify(out));
  } catch (e) {
    if (e instanceof UsageError || e instanceof TypeError && /API key/.test(e.message)) {
      process.stderr.write(`error: ${e.message}${/API key/.test(e.message) ? '; set CIVIC_API_KEY' : ''}\n`);
      process.exitCode = 2;
    } else if (e instanceof CivicApiError) {
      process.stderr.write(`error: ${e.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`error: cannot reach ${argv[1]}: ${e.cause?.message ?? e.message}\n`);
      process.exitCode = 1;
    }
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
