#!/usr/bin/env python3
"""kit/python/civic_platform.py's verify_webhook on the shared cases of signature_cases.json.

Prints "ok <case>" / "FAIL <case>: why", then "N passed, N failed"; exit 1 on any failure.
"""
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "kit" / "python"))
from civic_platform import WebhookError, sign_webhook, verify_webhook  # noqa: E402

spec = json.loads((HERE / "signature_cases.json").read_text())
passed = failed = 0
for case in spec["cases"]:
    try:
        event = verify_webhook(spec["secret"], case["header"], case["body"].encode(), now=case["now"], tolerance=spec["tolerance"])
        got = "ok" if event.get("id") else "no id"
    except WebhookError as e:
        got = "malformed" if e.malformed else "invalid"
    if got == case["expect"]:
        passed += 1
        print(f"ok   python-signature-{case['name']}")
    else:
        failed += 1
        print(f"FAIL python-signature-{case['name']}: expected {case['expect']}, got {got}")
# sign_webhook makes what verify_webhook accepts.
body = b'{"status":"expired","id":"x"}'
try:
    verify_webhook("s", sign_webhook("s", body), body)
    passed += 1
    print("ok   python-signature-sign-then-verify")
except WebhookError as e:
    failed += 1
    print(f"FAIL python-signature-sign-then-verify: {e}")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
