#!/usr/bin/env python3
"""civic-id platform kit for Python (standard library only).

A client for the civic-verifier REST API, a webhook signature check, and a tiny example back end
a platform can copy. Python 3.8 or newer.

    civic_platform.py create  VERIFIER_URL POLICY       # prints the new session (JSON)
    civic_platform.py result  VERIFIER_URL SESSION_ID   # prints the session's state or outcome
    civic_platform.py serve   --verifier URL --policy NAME [--listen 127.0.0.1:8000]

The API key is read from the environment (CIVIC_API_KEY), never from the command line; `serve`
also reads CIVIC_WEBHOOK_SECRET. Exit status: 0 ok, 1 the service refused (its `error` and
`error_description` on stderr), 2 usage.

As a library:

    client = CivicClient("https://verifier.example", api_key)
    session = client.create_session("vote")        # {id, openid4vp_url, qr_svg, expires_at, ...}
    outcome = client.get_session(session["id"])    # {status, eligibility?, ...}
    event = verify_webhook(secret, headers["Civic-Signature"], raw_body)   # or WebhookError
"""

import hashlib
import hmac
import json
import os
import re
import secrets
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SIGNATURE_HEADER = "Civic-Signature"
# The webhook's timestamp may be this many seconds away from our clock (either way).
DEFAULT_TOLERANCE = 300
# A session is final in these states; `pending` and `verifying` are not.
FINAL_STATES = ("complete", "rejected", "declined", "expired")


class CivicApiError(Exception):
    """A non-2xx answer of the verifier service, with its `error` and `error_description`."""

    def __init__(self, status, error, description):
        super().__init__(f"civic-verifier answered {status} {error}: {description}")
        self.status = status
        self.error = error
        self.description = description


class CivicClient:
    """The platform API of a civic-verifier service, authenticated with the platform's API key."""

    def __init__(self, base_url, api_key, timeout=15):
        if not api_key:
            raise ValueError("an API key is needed (civic-verifier new-api-key makes one)")
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.timeout = timeout

    def create_session(self, policy, redirect_uri=None):
        """Opens an eligibility check for `policy`: {id, openid4vp_url, request_uri, qr_svg, expires_at}."""
        body = {"policy": policy}
        if redirect_uri is not None:
            body["redirect_uri"] = redirect_uri
        return self._call("POST", "/v1/sessions", body)

    def get_session(self, session_id, response_code=None):
        """Where the session stands: {status, id, expires_at, eligibility?, rejection?}."""
        path = "/v1/sessions/" + urllib.parse.quote(session_id, safe="")
        if response_code is not None:
            path += "?" + urllib.parse.urlencode({"response_code": response_code})
        return self._call("GET", path)

    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        req.add_header("Authorization", "Bearer " + self._api_key)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                err = json.loads(raw)
                raise CivicApiError(e.code, err.get("error", "?"), err.get("error_description", "")) from None
            except (ValueError, AttributeError):
                text = raw.decode(errors="replace")[:200]
                raise CivicApiError(e.code, "http_error", text or e.reason) from None


class WebhookError(Exception):
    """A webhook that must be refused; `malformed` tells a broken header from a bad signature."""

    def __init__(self, message, malformed=False):
        super().__init__(message)
        self.malformed = malformed


_HEX64 = re.compile(r"[0-9a-f]{64}")
_INT = re.compile(r"-?[0-9]{1,15}")


def parse_signature_header(header):
    """`t=<unix seconds>,v1=<64 hex>` -> (t, v1). Spaces around parts are allowed, unknown keys
    ignored; a missing, repeated or ill-formed `t` or `v1` raises WebhookError(malformed=True)."""
    if not isinstance(header, str) or not header or len(header) > 512:
        raise WebhookError("missing or oversized Civic-Signature header", malformed=True)
    seen = {}
    for part in header.split(","):
        key, eq, value = part.strip().partition("=")
        if not eq:
            raise WebhookError("Civic-Signature: a part without '='", malformed=True)
        if key in ("t", "v1"):
            if key in seen:
                raise WebhookError(f"Civic-Signature: {key} given twice", malformed=True)
            seen[key] = value.strip()
    t, v1 = seen.get("t"), seen.get("v1")
    if t is None or not _INT.fullmatch(t):
        raise WebhookError("Civic-Signature: no valid t=<unix seconds>", malformed=True)
    if v1 is None or not _HEX64.fullmatch(v1):
        raise WebhookError("Civic-Signature: no valid v1=<64 lowercase hex>", malformed=True)
    return int(t), v1


def verify_webhook(secret, header, body, now=None, tolerance=DEFAULT_TOLERANCE):
    """Checks `header` (Civic-Signature) over the exact raw `body` (bytes) and returns the parsed
    event. Raises WebhookError for a malformed header, a timestamp more than `tolerance` seconds
    away, a wrong HMAC, or a body that is not a JSON object."""
    t, v1 = parse_signature_header(header)
    now = int(time.time()) if now is None else now
    if abs(now - t) > tolerance:
        raise WebhookError(f"Civic-Signature: timestamp {t} is more than {tolerance} s away from now")
    if isinstance(body, str):
        body = body.encode()
    expected = hmac.new(secret.encode(), str(t).encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, v1):
        raise WebhookError("Civic-Signature: the signature does not match")
    try:
        event = json.loads(body)
    except ValueError:
        raise WebhookError("webhook body is not JSON", malformed=True) from None
    if not isinstance(event, dict) or not isinstance(event.get("id"), str):
        raise WebhookError("webhook body has no session id", malformed=True)
    return event


def sign_webhook(secret, body, t=None):
    """The header the service sends for `body` (bytes) at `t`: for tests of your endpoint."""
    t = int(time.time()) if t is None else t
    mac = hmac.new(secret.encode(), str(t).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


# --- The example back end ------------------------------------------------------------------
# Three endpoints behind the platform's own origin; the API key and webhook secret stay here.
#   POST /civic/start        -> opens a session, binds it to this browser (cookie)
#   GET  /civic/status/{id}  -> that browser reads the outcome (final states only from the service)
#   POST /civic/webhook      -> the service's signed result, recorded
# It also serves the button's demo page at / and the button's files under /civic-button/.

BUTTON_DIR = Path(__file__).resolve().parent.parent / "button"
STATIC = {"civic-verify.js": "text/javascript", "civic-verify.css": "text/css",
          "demo.js": "text/javascript", "demo.css": "text/css"}
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
COOKIE = "civic_browser"
MAX_BODY = 64 * 1024


class Sessions:
    """Sessions this back end started, in memory (a platform keeps them in its database)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._by_id = {}

    def add(self, sid, browser, expires_at):
        with self._lock:
            self._by_id[sid] = {"browser": browser, "expires_at": expires_at, "outcome": None, "notified": False}

    def get(self, sid):
        with self._lock:
            s = self._by_id.get(sid)
            return None if s is None else dict(s)

    def record(self, sid, outcome, notified=False):
        """Keeps a final outcome (from the webhook or a read); False for an unknown session."""
        with self._lock:
            s = self._by_id.get(sid)
            if s is None:
                return False
            if s["outcome"] is None or notified:
                s["outcome"] = outcome
            s["notified"] = s["notified"] or notified
            return True


def browser_view(sid, outcome, notified):
    """What the resident's own browser may see: the state, yes/no and the pseudonym. The platform
    trusts only what its back end recorded, never what a browser sends back."""
    view = {"id": sid, "status": outcome.get("status", "pending"), "notified": notified}
    e = outcome.get("eligibility")
    if view["status"] == "complete" and isinstance(e, dict):
        view["eligible"] = e.get("eligible") is True
        if view["eligible"] and e.get("pseudonym"):
            view["pseudonym"] = e["pseudonym"]
    return view


def make_handler(client, policy, webhook_secret, sessions):
    """The request handler of the example back end."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "civic-platform-example"

        def log_message(self, fmt, *args):  # one short line per request, on stderr
            sys.stderr.write("backend: " + (fmt % args) + "\n")

        def _send(self, status, body=b"", ctype="application/json", headers=()):
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Content-Security-Policy", CSP)
            self.send_header("Referrer-Policy", "no-referrer")
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def _error(self, status, error, description):
            self._send(status, {"error": error, "error_description": description})

        def _body(self):
            n = int(self.headers.get("Content-Length") or 0)
            if n > MAX_BODY:
                raise ValueError("body too large")
            return self.rfile.read(n)

        def _browser(self):
            c = SimpleCookie(self.headers.get("Cookie", ""))
            return c[COOKIE].value if COOKIE in c else None

        def do_GET(self):
            path = urllib.parse.urlsplit(self.path).path
            if path in ("/", "/index.html"):
                return self._send(200, (BUTTON_DIR / "demo.html").read_bytes(), "text/html; charset=utf-8")
            name = path[len("/civic-button/"):] if path.startswith("/civic-button/") else None
            if name in STATIC:
                return self._send(200, (BUTTON_DIR / name).read_bytes(), STATIC[name] + "; charset=utf-8")
            if path.startswith("/civic/status/"):
                return self._status(path[len("/civic/status/"):])
            if path == "/favicon.ico":
                return self._send(204, b"", "image/x-icon")
            self._error(404, "not_found", "no such page")

        def do_POST(self):
            path = urllib.parse.urlsplit(self.path).path
            if path == "/civic/start":
                return self._start()
            if path == "/civic/webhook":
                return self._webhook()
            self._error(404, "not_found", "no such endpoint")

        def _start(self):
            # A JSON body and a same-origin fetch: another site cannot start sessions in our name.
            if not (self.headers.get("Content-Type") or "").startswith("application/json") or \
                    self.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
                return self._error(403, "forbidden", "start a session from this site's own page")
            try:
                self._body()
            except ValueError:
                return self._error(413, "too_large", "body too large")
            try:
                s = client.create_session(policy)
            except CivicApiError as e:
                sys.stderr.write(f"backend: the verifier refused: {e}\n")
                return self._send(502, {"error": e.error, "error_description": e.description, "upstream_status": e.status})
            except OSError as e:
                return self._error(502, "verifier_unreachable", str(e))
            # A fresh token per session (never one the browser brings), in production as a
            # `__Host-` cookie with `Secure`.
            browser = secrets.token_urlsafe(32)
            sessions.add(s["id"], browser, s["expires_at"])
            cookie = f"{COOKIE}={browser}; Path=/civic; HttpOnly; SameSite=Strict"
            view = {k: s[k] for k in ("id", "openid4vp_url", "qr_svg", "expires_at")}
            self._send(200, view, headers=[("Set-Cookie", cookie)])

        def _status(self, sid):
            s = sessions.get(sid)
            b = self._browser()
            if s is None or b is None or not hmac.compare_digest(s["browser"], b):
                return self._error(404, "not_found", "no such session for this browser")
            outcome = s["outcome"]
            if outcome is None:  # no webhook yet: ask the service
                try:
                    outcome = client.get_session(sid)
                except CivicApiError as e:
                    return self._send(502, {"error": e.error, "error_description": e.description, "upstream_status": e.status})
                except OSError as e:
                    return self._error(502, "verifier_unreachable", str(e))
                if outcome.get("status") in FINAL_STATES:
                    sessions.record(sid, outcome)
            self._send(200, browser_view(sid, outcome, s["notified"]))

        def _webhook(self):
            try:
                raw = self._body()
            except ValueError:
                return self._error(413, "too_large", "webhook body too large")
            try:
                event = verify_webhook(webhook_secret, self.headers.get(SIGNATURE_HEADER), raw)
            except WebhookError as e:
                sys.stderr.write(f"backend: webhook refused: {e}\n")
                return self._error(400 if e.malformed else 401, "invalid_signature", str(e))
            known = sessions.record(event["id"], event, notified=True)
            # Here a platform records the vote, signature or account link under the pseudonym.
            self._send(200, {"recorded": known})

    return Handler


def serve(argv):
    """`serve --verifier URL --policy NAME [--listen HOST:PORT]` with CIVIC_API_KEY and CIVIC_WEBHOOK_SECRET."""
    import argparse
    p = argparse.ArgumentParser(prog="civic_platform.py serve")
    p.add_argument("--verifier", required=True, help="the civic-verifier service's URL")
    p.add_argument("--policy", required=True, help="the policy sessions are opened for")
    p.add_argument("--listen", default="127.0.0.1:8000")
    a = p.parse_args(argv)
    secret = os.environ.get("CIVIC_WEBHOOK_SECRET")
    if not secret:
        p.error("set CIVIC_WEBHOOK_SECRET (the platform's webhook_secret in the verifier's config)")
    client = CivicClient(a.verifier, os.environ.get("CIVIC_API_KEY", ""))
    host, _, port = a.listen.rpartition(":")
    httpd = ThreadingHTTPServer((host, int(port)), make_handler(client, a.policy, secret, Sessions()))
    print(f"backend: listening on http://{host}:{httpd.server_address[1]}/", flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass


def main(argv):
    if len(argv) >= 1 and argv[0] == "serve":
        return serve(argv[1:])
    if len(argv) != 3 or argv[0] not in ("create", "result"):
        sys.stderr.write(__doc__)
        return 2
    cmd, base, arg = argv
    try:
        client = CivicClient(base, os.environ.get("CIVIC_API_KEY", ""))
        out = client.create_session(arg) if cmd == "create" else client.get_session(arg)
    except ValueError as e:
        sys.stderr.write(f"error: {e}; set CIVIC_API_KEY\n")
        return 2
    except CivicApiError as e:
        sys.stderr.write(f"error: {e}\n")
        return 1
    except OSError as e:
        sys.stderr.write(f"error: cannot reach {base}: {e}\n")
        return 1
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
