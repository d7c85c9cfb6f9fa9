#!/usr/bin/env python3
"""Peer side of the civic-id SD-JWT VC interoperability tests (Python).

Uses the OpenWallet Foundation reference implementation of SD-JWT (PyPI
``sd-jwt``), ``jwcrypto`` and, for status lists, ``token-status-list``.

Subcommands (see ../README.md for the file formats):

    issue OUT.json          issue an SD-JWT VC + presentation with the peer library
    verify IN.json          verify someone else's SD-JWT VC + presentation
    status-encode OUT.json  encode Token Status Lists (bits 1/2/4/8) + a signed token
    status-decode IN.json   decode someone else's status lists / status list token
    jwe-encrypt OUT.json    encrypt responses (direct_post.jwt) to a fresh recipient key
    jwe-decrypt IN.json     decrypt someone else's encrypted responses

stdout carries only the JSON result (verify: the processed presentation claims);
progress and diagnostics go to stderr.  Exit code 0 = success, 1 = failure.
"""

# The subcommands live in modules next to this file (found through the script's
# directory on sys.path): interop_common.py (constants, helpers, file I/O),
# interop_issue.py (issue), interop_verify.py (verify) and interop_status.py
# (status-encode, status-decode), interop_jwe.py (jwe-encrypt, jwe-decrypt).

import argparse
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:  # a script's directory is on sys.path, except under python -P
    sys.path.append(_HERE)

from interop_common import InteropFailure, log  # noqa: E402
from interop_issue import cmd_issue  # noqa: E402
from interop_jwe import cmd_jwe_decrypt, cmd_jwe_encrypt  # noqa: E402
from interop_status import cmd_status_decode, cmd_status_encode  # noqa: E402
from interop_verify import cmd_verify  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("issue", help="issue an SD-JWT VC and a presentation")
    p.add_argument("out")
    p.set_defaults(fn=cmd_issue)
    p = sub.add_parser("verify", help="verify an SD-JWT VC and presentation file")
    p.add_argument("input")
    p.add_argument("--max-kb-age", type=int, default=0, help="reject KB-JWTs older than this many seconds (0 = no limit)")
    p.set_defaults(fn=cmd_verify)
    p = sub.add_parser("status-encode", help="encode status lists with token-status-list")
    p.add_argument("out")
    p.set_defaults(fn=cmd_status_encode)
    p = sub.add_parser("status-decode", help="decode status lists with token-status-list")
    p.add_argument("input")
    p.set_defaults(fn=cmd_status_decode)
    p = sub.add_parser("jwe-encrypt", help="encrypt responses to a fresh recipient key with jwcrypto")
    p.add_argument("out")
    p.set_defaults(fn=cmd_jwe_encrypt)
    p = sub.add_parser("jwe-decrypt", help="decrypt encrypted responses with jwcrypto")
    p.add_argument("input")
    p.set_defaults(fn=cmd_jwe_decrypt)
    args = parser.parse_args(argv)
    try:
        return args.fn(args)
    except InteropFailure as e:
        log(f"FAIL: {e}")
        return 1
    except Exception as e:  # noqa: BLE001
        log(f"FAIL: unexpected {type(e).__name__}: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
