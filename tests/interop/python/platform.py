"""A civic platform talking to the civic-verifier REST API (stdlib only).

  platform.py create BASE API_KEY POLICY       -> prints {"id", "openid4vp_url", ...}
  platform.py result BASE API_KEY SESSION_ID   -> prints the session outcome
"""
import json
import sys
import urllib.request
import urllib.error


def call(method, url, key, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Authorization", f"Bearer {key}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        print(f"FAIL: {url} answered {e.code}: {e.read().decode(errors='replace')}", file=sys.stderr)
        sys.exit(1)


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in ("create", "result"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    cmd, base, key, arg = sys.argv[1:]
    if cmd == "create":
        out = call("POST", f"{base}/v1/sessions", key, {"policy": arg})
    else:
        out = call("GET", f"{base}/v1/sessions/{arg}", key)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
