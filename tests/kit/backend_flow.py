#!/usr/bin/env python3
"""One example back end of the kit (Python or Node) against the real civic-verifier service.

    backend_flow.py --lang python|node --backend URL --verifier URL --bad-backend URL
                    --present-with js|python --decline-with js|python --index N
                    --wallet WALLET.json --child-wallet WALLET.json --secret WEBHOOK_SECRET --api-key KEY --wallet-python PY

A resident's browser (a cookie jar) starts a session through the back end; a wallet we did not
write (tests/interop/js/oid4vp_wallet.mjs or tests/interop/python/vp_holder.py) answers the
link; the service's signed webhook reaches the back end, which reports the outcome to that
browser only; the kit's own CLI reads the same session from the service. Then a decline, forged
and malformed webhooks (refused, nothing changes), starts from another site (refused), and a
back end holding a wrong API key (the service's error comes through).

Prints "ok <check>" / "FAIL <check>: why", then "N passed, N failed"; exit 1 on any failure.
"""
import argparse
import hashlib
import hmac
import http.cookiejar
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
PERSONAL = ("Anna", "de Vries", "1990-04-12", "Dam 1")
passed = failed = 0


def check(name, fn):
    """Runs fn; None or a (truthy) detail passes, a returned string starting with '!' or an exception fails."""
    global passed, failed
    try:
        r = fn()
        if isinstance(r, str) and r.startswith("!"):
            raise AssertionError(r[1:])
        passed += 1
        print(f"ok   {A.lang}-{name}" + (f" ({r})" if isinstance(r, str) and r else ""), flush=True)
        return True
    except Exception as e:  # noqa: BLE001 - every failure is reported, the run goes on
        failed += 1
        print(f"FAIL {A.lang}-{name}: {e}", flush=True)
        print(f"FAIL {A.lang}-{name}: {e}", file=sys.stderr, flush=True)
        return False


def browser():
    """A resident's browser: cookies kept, same-origin fetches."""
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))


def call(opener, method, url, body=None, headers=None):
    """(status, headers, parsed JSON or text)."""
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with opener.open(req, timeout=20) as r:
            status, hdrs, raw = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, hdrs, raw = e.code, e.headers, e.read()
    try:
        return status, hdrs, json.loads(raw)
    except ValueError:
        return status, hdrs, raw.decode(errors="replace")


def start(opener, base=None):
    return call(opener, "POST", (base or A.backend) + "/civic/start", {}, {"Content-Type": "application/json", "Sec-Fetch-Site": "same-origin"})


def wallet(which, url, index, decline=False, file=None):
    if which == "js":
        cmd = ["node", str(ROOT / "tests/interop/js/oid4vp_wallet.mjs")]
    else:
        cmd = [A.wallet_python, str(ROOT / "tests/interop/python/vp_holder.py")]
    cmd += ["--request", url, "--wallet", file or A.wallet, "--index", str(index)] + (["--decline"] if decline else [])
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError(f"{which} wallet exit {r.returncode}: {r.stderr.strip()[-400:]}")
    return f"{which} wallet: {r.stdout.strip()[:60]}"


def wait_notified(opener, sid, seconds=20):
    """Polls the back end until the webhook has arrived; the last view."""
    deadline = time.time() + seconds
    view = None
    while time.time() < deadline:
        status, _, view = call(opener, "GET", f"{A.backend}/civic/status/{sid}")
        if status != 200:
            raise AssertionError(f"status answered {status}: {view}")
        if view.get("notified"):
            return view
        time.sleep(0.25)
    raise AssertionError(f"no webhook within {seconds} s; last view {view}")


def kit_cli(*args, key=None):
    """The kit's own command line for this language, with CIVIC_API_KEY = key."""
    if A.lang == "python":
        cmd = [sys.executable, str(ROOT / "kit/python/civic_platform.py"), *args]
    else:
        cmd = ["node", str(ROOT / "kit/node/civic-platform.mjs"), *args]
    env = dict(os.environ)
    env.pop("CIVIC_API_KEY", None)
    if key is not None:
        env["CIVIC_API_KEY"] = key
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=30)


def post_webhook(body, header):
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["Civic-Signature"] = header
    return call(urllib.request.build_opener(), "POST", A.backend + "/civic/webhook", body, headers)


def sign(body, t, secret=None):
    mac = hmac.new((secret or A.secret).encode(), str(t).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def main():
    resident = browser()
    s = {}

    def started():
        status, hdrs, body = start(resident)
        if status != 200:
            return f"!start answered {status}: {body}"
        s.update(body)
        if not body.get("openid4vp_url", "").startswith("openid4vp://"):
            return f"!openid4vp_url {body.get('openid4vp_url')!r}"
        if "<svg" not in body.get("qr_svg", "") or not isinstance(body.get("expires_at"), int):
            return "!no qr_svg or expires_at"
        cookie = hdrs.get("Set-Cookie", "")
        if "HttpOnly" not in cookie or "SameSite=Strict" not in cookie:
            return f"!session cookie {cookie!r}"
        csp = hdrs.get("Content-Security-Policy", "")
        if "default-src 'none'" not in csp:
            return f"!CSP {csp!r}"
        return f"session {body['id'][:8]}…"

    if not check("start-session", started):
        return
    check("pending-before-answer", lambda: None if call(resident, "GET", f"{A.backend}/civic/status/{s['id']}")[2].get("status") == "pending" else "!not pending")
    check("wallet-presents", lambda: wallet(A.present_with, s["openid4vp_url"], A.index))
    view = {}

    def notified():
        view.update(wait_notified(resident, s["id"]))
        if view.get("status") != "complete" or view.get("eligible") is not True or not view.get("pseudonym"):
            return f"!view {view}"
        return f"eligible, pseudonym {view['pseudonym'][:8]}…"

    check("signed-webhook-received-eligible", notified)

    def service_read():
        r = kit_cli("result", A.verifier, s["id"], key=A.api_key)
        if r.returncode != 0:
            return f"!exit {r.returncode}: {r.stderr}"
        out = json.loads(r.stdout)
        e = out.get("eligibility") or {}
        if out.get("status") != "complete" or e.get("eligible") is not True:
            return f"!{out}"
        if e.get("pseudonym") != view.get("pseudonym"):
            return f"!pseudonym {e.get('pseudonym')!r} != back end's {view.get('pseudonym')!r}"
        if any(p in r.stdout or p in json.dumps(view) for p in PERSONAL):
            return "!personal data in the result"
        return "same pseudonym, no personal data"

    check("client-reads-result", service_read)
    check("other-browser-cannot-read", lambda: None if call(browser(), "GET", f"{A.backend}/civic/status/{s['id']}")[0] == 404 else "!not 404")

    # A ten-year-old resident: the presentation is verified, the policy says no, and no
    # pseudonym reaches the browser.
    def not_eligible():
        child = browser()
        status, _, body = start(child)
        if status != 200:
            return f"!start answered {status}: {body}"
        wallet(A.present_with, body["openid4vp_url"], 0, file=A.child_wallet)
        v = wait_notified(child, body["id"])
        if v.get("status") != "complete" or v.get("eligible") is not False or "pseudonym" in v:
            return f"!view {v}"
        r = kit_cli("result", A.verifier, body["id"], key=A.api_key)
        failed_rules = [p["rule"] for p in json.loads(r.stdout)["eligibility"]["predicates"] if not p["satisfied"]]
        return f"not eligible: {failed_rules}" if failed_rules == ["age_equal_or_over.16 == true"] else f"!failed rules {failed_rules}"

    check("too-young-not-eligible", not_eligible)

    # A decline, through the other wallet.
    d = {}

    def declined():
        status, _, body = start(resident)
        if status != 200:
            return f"!start answered {status}: {body}"
        d.update(body)
        wallet(A.decline_with, body["openid4vp_url"], A.index, decline=True)
        v = wait_notified(resident, body["id"])
        return None if v.get("status") == "declined" and "eligible" not in v else f"!view {v}"

    check("decline-recorded", declined)

    # Forged and malformed webhooks: refused, and nothing changes.
    now = int(time.time())
    forged = json.dumps({"status": "complete", "id": d.get("id", "x"), "eligibility": {"eligible": True, "pseudonym": "forged"}}).encode()
    cases = [
        ("webhook-wrong-signature-refused", forged, f"t={now},v1={secrets.token_hex(32)}", 401),
        ("webhook-wrong-secret-refused", forged, sign(forged, now, secret="not-the-secret"), 401),
        ("webhook-old-timestamp-refused", forged, sign(forged, now - 3600), 401),
        ("webhook-future-timestamp-refused", forged, sign(forged, now + 3600), 401),
        ("webhook-malformed-header-refused", forged, "garbage", 400),
        ("webhook-non-numeric-t-refused", forged, "t=yesterday,v1=" + "0" * 64, 400),
        ("webhook-missing-header-refused", forged, None, 400),
    ]
    def refused(body, header, want):
        status, _, out = post_webhook(body, header)
        return f"{status} {out.get('error_description')}" if status == want else f"!answered {status}: {out}"

    for name, body, header, want in cases:
        check(name, lambda body=body, header=header, want=want: refused(body, header, want))
    check("refused-webhooks-changed-nothing", lambda: None if call(resident, "GET", f"{A.backend}/civic/status/{d.get('id')}")[2].get("status") == "declined" else "!state changed")

    def good_unknown():
        body = json.dumps({"status": "declined", "id": "not-a-session-of-ours"}).encode()
        status, _, out = post_webhook(body, sign(body, int(time.time())))
        return None if status == 200 and out == {"recorded": False} else f"!answered {status}: {out}"

    check("webhook-signed-here-accepted", good_unknown)

    def cross_site():
        status, _, _ = call(browser(), "POST", A.backend + "/civic/start", {}, {"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"})
        status2, _, _ = call(browser(), "POST", A.backend + "/civic/start", b"policy=x", {"Content-Type": "application/x-www-form-urlencoded"})
        return None if status == 403 and status2 == 403 else f"!answered {status}, {status2}"

    check("start-from-other-site-refused", cross_site)

    def wrong_key_backend():
        status, _, body = start(browser(), A.bad_backend)
        ok = status == 502 and body.get("error") == "invalid_client" and body.get("upstream_status") == 401 \
            and "unknown API key" in body.get("error_description", "")
        return f"502 {body.get('error')}: {body.get('error_description')}" if ok else f"!answered {status}: {body}"

    check("wrong-api-key-surfaced-by-backend", wrong_key_backend)

    def wrong_key_cli():
        r = kit_cli("create", A.verifier, "resident-16", key="not-the-key")
        want = "civic-verifier answered 401 invalid_client: unknown API key"
        return r.stderr.strip() if r.returncode == 1 and want in r.stderr else f"!exit {r.returncode}: {r.stderr!r}"

    check("wrong-api-key-surfaced-by-client", wrong_key_cli)

    def unknown_policy_cli():
        r = kit_cli("create", A.verifier, "no-such-policy", key=A.api_key)
        return r.stderr.strip() if r.returncode == 1 and "400 invalid_request" in r.stderr else f"!exit {r.returncode}: {r.stderr!r}"

    check("unknown-policy-surfaced-by-client", unknown_policy_cli)
    check("no-api-key-is-a-usage-error", lambda: None if kit_cli("create", A.verifier, "resident-16").returncode == 2 else "!not exit 2")


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    for opt in ("lang", "backend", "verifier", "bad-backend", "present-with", "decline-with", "wallet", "child-wallet", "secret", "api-key", "wallet-python"):
        p.add_argument("--" + opt, required=True)
    p.add_argument("--index", type=int, default=0)
    A = p.parse_args()
    A.backend = A.backend.rstrip("/")
    main()
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
