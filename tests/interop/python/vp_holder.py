#!/usr/bin/env python3
"""OID4VP 1.0 holder (redirect_uri: client id, direct_post or direct_post.jwt, DCQL, dc+sd-jwt).

    vp_holder.py --request 'openid4vp://?client_id=...&request_uri=...' --wallet FILE.json
                 [--index N] [--kb-aud AUD] [--kb-nonce NONCE] [--decline]

FILE.json is what js/oid4vci_wallet.mjs wrote ({credentials, holder_public_jwks,
holder_private_jwks}).  A link by reference: the script fetches the request object with urllib
and accepts only an unsigned one (``alg none``, ``typ oauth-authz-req+jwt``, empty signature).
A link by value: the request's parameters are read from the link (``dcql_query`` and
``client_metadata`` as JSON).  Either way the ``client_id`` must use the ``redirect_uri:``
prefix and equal the link's.  It picks a credential for each DCQL
credential query, discloses exactly the requested claim paths with the PyPI ``sd-jwt`` holder
(``SDJWTHolder.create_presentation`` with nonce, aud = client_id and the holder key bound in
``cnf.jwk``) and POSTs ``vp_token`` (JSON) and ``state`` as a form to ``response_uri``.
``--kb-aud`` / ``--kb-nonce`` put other values into the KB-JWT (negative tests: expect a 400).
``--decline`` sends ``error=access_denied`` instead.  A ``direct_post.jwt`` request gets the
parameters encrypted (jwcrypto, ECDH-ES) in one ``response`` field; ``--plain`` sends them in
plain text anyway (negative test: expect a 400).

stdout: the verifier's answer (JSON).  Exit 0 on a 2xx answer, 1 otherwise (``FAIL: ...`` on
stderr), 2 usage.
"""

import argparse
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from base64 import urlsafe_b64decode

from jwcrypto.jwe import JWE
from jwcrypto.jwk import JWK
from sd_jwt.common import SD_DIGESTS_KEY, SD_LIST_PREFIX
from sd_jwt.holder import SDJWTHolder

PREFIX = "redirect_uri:"
REQUEST_TYP = "oauth-authz-req+jwt"
KB_ALG = "ES256"


class Failure(Exception):
    pass


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def b64json(part: str):
    return json.loads(urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def http(method, url, body=None, headers=None):
    """(status, content_type, text); HTTP errors are answers too, not exceptions."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=15) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode("utf-8", "replace")
    except urllib.error.URLError as e:
        raise Failure(f"{method} {url}: {e.reason}") from e


def parse_link(link):
    parts = urllib.parse.urlsplit(link)
    if parts.scheme != "openid4vp":
        raise Failure(f"link scheme {parts.scheme!r} is not openid4vp")
    query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
    if any(len(v) != 1 for v in query.values()):
        raise Failure("link repeats a parameter")
    if "request" in query or "client_id" not in query:
        raise Failure("link must carry client_id (and no request object, which this holder does not read)")
    client_id = query["client_id"][0]
    if not client_id.startswith(PREFIX):
        raise Failure(f"client_id {client_id!r} does not use the {PREFIX} prefix")
    return client_id, {k: v[0] for k, v in query.items()}


def request_by_value(params):
    """The request's parameters given in the link (OpenID4VP 1.0 section 5)."""
    req = dict(params)
    for name in ("dcql_query", "client_metadata"):
        if name in req:
            try:
                req[name] = json.loads(req[name])
            except ValueError as e:
                raise Failure(f"{name} in the link is not JSON: {e}") from e
    return req


def fetch_request(request_uri):
    status, ctype, text = http("GET", request_uri, headers={"Accept": f"application/{REQUEST_TYP}"})
    if status != 200:
        raise Failure(f"GET {request_uri}: HTTP {status} {text[:300]}")
    if not ctype.startswith(f"application/{REQUEST_TYP}"):
        raise Failure(f"request_uri answered Content-Type {ctype!r}, not application/{REQUEST_TYP}")
    parts = text.strip().split(".")
    if len(parts) != 3 or parts[2] != "":
        raise Failure("request object is not an unsigned JWT (b64.b64. with empty signature)")
    header, req = b64json(parts[0]), b64json(parts[1])
    if header.get("alg") != "none" or header.get("typ") != REQUEST_TYP:
        raise Failure(f"request object header {header}: want alg none, typ {REQUEST_TYP}")
    return req


def seal(form, metadata):
    """direct_post.jwt (OpenID4VP 1.0 section 8.3): the response parameters as a JSON object
    (``vp_token`` as an object), encrypted with jwcrypto to the request's key: ECDH-ES, A256GCM
    when offered (HAIP 1.0 section 5), the key's ``kid`` in the header."""
    keys = [k for k in (metadata.get("jwks") or {}).get("keys", []) if k.get("kty") == "EC" and k.get("crv") == "P-256"]
    if not keys:
        raise Failure("the request asks for an encrypted answer but names no P-256 key")
    offered = metadata.get("encrypted_response_enc_values_supported") or ["A128GCM"]
    enc = "A256GCM" if "A256GCM" in offered else "A128GCM"
    if enc not in offered:
        raise Failure(f"no content encryption this holder supports in {offered}")
    params = dict(form)
    if "vp_token" in params:
        params["vp_token"] = json.loads(params["vp_token"])
    header = {"alg": "ECDH-ES", "enc": enc}
    if keys[0].get("kid"):
        header["kid"] = keys[0]["kid"]
    token = JWE(json.dumps(params).encode("utf-8"), protected=json.dumps(header))
    token.add_recipient(JWK(**{k: keys[0][k] for k in ("kty", "crv", "x", "y")}))
    log(f"encrypted: ECDH-ES {enc} kid={header.get('kid', '-')}")
    return token.serialize(compact=True)


def check_request(req, client_id):
    checks = [
        (req.get("client_id") == client_id, f"client_id {req.get('client_id')!r} != link's {client_id!r}"),
        (req.get("response_type") == "vp_token", f"response_type {req.get('response_type')!r}"),
        (req.get("response_mode") in ("direct_post", "direct_post.jwt"), f"response_mode {req.get('response_mode')!r}"),
        (req.get("response_uri") == client_id[len(PREFIX):], f"response_uri {req.get('response_uri')!r} != client_id without prefix"),
        (isinstance(req.get("nonce"), str) and req["nonce"] != "", "nonce missing or not a string"),
        (isinstance(req.get("state", ""), str), "state is not a string"),
        (isinstance(req.get("dcql_query"), dict), "dcql_query missing"),
    ]
    for why in [why for ok, why in checks if not ok][:1]:
        raise Failure(f"request object: {why}")
    formats = (req.get("client_metadata") or {}).get("vp_formats_supported") or {}
    if KB_ALG not in (formats.get("dc+sd-jwt") or {}).get("kb-jwt_alg_values", [KB_ALG]):
        raise Failure(f"verifier does not accept {KB_ALG} KB-JWTs ({formats})")
    return req


def unpack(node, decoded):
    """Claims with the disclosures in `decoded` (digest -> decoded disclosure) applied."""
    if isinstance(node, dict):
        out = {k: unpack(v, decoded) for k, v in node.items() if k != SD_DIGESTS_KEY}
        for digest in node.get(SD_DIGESTS_KEY, []):
            if digest in decoded and len(decoded[digest]) == 3:
                out[decoded[digest][1]] = unpack(decoded[digest][2], decoded)
        return out
    if isinstance(node, list):
        items = []
        for e in node:
            if isinstance(e, dict) and list(e) == [SD_LIST_PREFIX]:
                if e[SD_LIST_PREFIX] in decoded:
                    items.append(unpack(decoded[e[SD_LIST_PREFIX]][1], decoded))
            else:
                items.append(unpack(e, decoded))
        return items
    return node


_MISSING = object()


def lookup(claims, path):
    for k in path:
        if not isinstance(claims, dict) or k not in claims:
            return _MISSING
        claims = claims[k]
    return claims


def leaf_paths(value, path):
    if isinstance(value, dict) and value:
        return [leaf for k, v in value.items() for leaf in leaf_paths(v, path + [k])]
    return [path]


def match_dcql(query, credentials, index):
    """[(query id, credential index, holder, paths)] for every credential query."""
    if "credential_sets" in query:
        log("note: credential_sets ignored; answering every credential query")
    answers = []
    for cq in query.get("credentials") or []:
        if cq.get("format") != "dc+sd-jwt":
            raise Failure(f"credential query {cq.get('id')}: format {cq.get('format')} not supported")
        claims = cq.get("claims") or []
        if cq.get("claim_sets"):  # the first claim set is the verifier's preference
            by_id = {c.get("id"): c for c in claims}
            claims = [by_id[i] for i in cq["claim_sets"][0]]
        for c in claims:
            if not all(isinstance(e, str) for e in c["path"]):
                raise Failure(f"claim path {c['path']}: only string elements are supported")
        reasons = []
        for i in ([index] if index is not None else range(len(credentials))):
            holder = SDJWTHolder(credentials[i])
            full = unpack(holder.sd_jwt_payload, holder._hash_to_decoded_disclosure)
            vcts = (cq.get("meta") or {}).get("vct_values")
            if vcts is not None and full.get("vct") not in vcts:
                reasons.append(f"[{i}] vct {full.get('vct')}")
                continue
            missing = [c["path"] for c in claims
                       if lookup(full, c["path"]) is _MISSING or ("values" in c and lookup(full, c["path"]) not in c["values"])]
            if missing:
                reasons.append(f"[{i}] lacks {missing}")
                continue
            answers.append((cq["id"], i, holder, full, [c["path"] for c in claims]))
            break
        else:
            raise Failure(f"no credential matches query {cq.get('id')}: {'; '.join(reasons)}")
    if not answers:
        raise Failure("dcql_query has no credential queries")
    return answers


def holder_key(wallet, cnf_jwk):
    for pub, priv in zip(wallet.get("holder_public_jwks") or [], wallet.get("holder_private_jwks") or []):
        if cnf_jwk and all(pub.get(f) == cnf_jwk.get(f) for f in ("kty", "crv", "x", "y")):
            return JWK(**priv)
    raise Failure("credential cnf.jwk is none of the wallet's holder keys")


def present(wallet, answer, nonce, aud):
    qid, i, holder, full, paths = answer
    # A path to an object means the whole object; the library's True would disclose it empty.
    paths = [leaf for p in paths for leaf in leaf_paths(lookup(full, p), list(p))]
    frame = {}
    for path in paths:
        node = frame
        for k in path[:-1]:
            node = node[k] if isinstance(node.get(k), dict) else node.setdefault(k, {})
        node[path[-1]] = True
    if not nonce or not aud:
        log("note: empty KB nonce or aud: sd-jwt 0.10.4 then silently omits the KB-JWT")
    key = holder_key(wallet, (full.get("cnf") or {}).get("jwk"))
    holder.create_presentation(frame, nonce=nonce, aud=aud, holder_key=key, sign_alg=KB_ALG)
    chosen = {d: holder._hash_to_decoded_disclosure[d] for d, enc in holder._hash_to_disclosure.items() if enc in holder.hs_disclosures}
    shown = unpack(holder.sd_jwt_payload, chosen)
    lost = [p for p in paths if lookup(shown, p) is _MISSING]
    if lost:
        raise Failure(f"presentation lacks {lost}")
    log(f"presenting credential {i} for query {qid}: {paths} ({len(holder.hs_disclosures)} disclosures, KB aud={aud!r} nonce={nonce!r})")
    return holder.sd_jwt_presentation


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--request", required=True, help="openid4vp://?client_id=...&request_uri=... (or the request by value)")
    ap.add_argument("--wallet", required=True, help="oid4vci_wallet.mjs --out file")
    ap.add_argument("--index", type=int, help="use this credential (default: the first that matches)")
    ap.add_argument("--kb-aud", help="KB-JWT aud instead of the client_id")
    ap.add_argument("--kb-nonce", help="KB-JWT nonce instead of the request's")
    ap.add_argument("--decline", action="store_true", help="answer error=access_denied")
    ap.add_argument("--plain", action="store_true", help="answer in plain text even when asked to encrypt (negative test)")
    args = ap.parse_args()
    with open(args.wallet, encoding="utf-8") as f:
        wallet = json.load(f)
    credentials = wallet.get("credentials") or []
    if not credentials:
        raise Failure(f"{args.wallet} has no credentials")
    if args.index is not None and not 0 <= args.index < len(credentials):
        raise Failure(f"--index {args.index}: wallet has {len(credentials)} credential(s)")
    if not all(c.endswith("~") for c in credentials):
        raise Failure("wallet credentials must be SD-JWTs in issuance form (ending with '~')")

    client_id, params = parse_link(args.request)
    if "request_uri" in params:
        log(f"fetching {params['request_uri']}")
        req = check_request(fetch_request(params["request_uri"]), client_id)
    else:
        log("request by value")
        req = check_request(request_by_value(params), client_id)
    log(f"request: client_id={client_id} nonce={req['nonce']} state={req.get('state', '-')}")
    if args.decline:
        form = {"error": "access_denied"}
    else:
        nonce = req["nonce"] if args.kb_nonce is None else args.kb_nonce
        aud = client_id if args.kb_aud is None else args.kb_aud
        vp_token = {}
        for answer in match_dcql(req["dcql_query"], credentials, args.index):
            vp_token[answer[0]] = [present(wallet, answer, nonce, aud)]
        form = {"vp_token": json.dumps(vp_token, separators=(",", ":"))}
    if "state" in req:
        form["state"] = req["state"]
    if req["response_mode"] == "direct_post.jwt" and not args.plain:
        form = {"response": seal(form, req.get("client_metadata") or {})}
    status, ctype, text = http("POST", req["response_uri"], urllib.parse.urlencode(form).encode("ascii"),
                               {"Content-Type": "application/x-www-form-urlencoded"})
    try:
        print(json.dumps(answer := json.loads(text)))
    except ValueError:
        print(json.dumps(answer := text))
    if not 200 <= status < 300:
        raise Failure(f"verifier answered HTTP {status}: {text[:500]}")
    if "application/json" not in ctype:
        log(f"note: answer Content-Type is {ctype!r}")
    redirect = f" redirect_uri={answer['redirect_uri']}" if isinstance(answer, dict) and "redirect_uri" in answer else ""
    log(f"ok: HTTP {status}{redirect}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failure as e:
        log(f"FAIL: {e}")
        sys.exit(1)
    except Exception as e:  # noqa: BLE001 - library errors come in many types
        log(f"FAIL: unexpected {type(e).__name__}: {e}")
        sys.exit(1)
