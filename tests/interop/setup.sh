#!/usr/bin/env bash
# Installs the peer libraries project-locally (git-ignored):
#   .tools/venv       Python venv with requirements.txt
#   .tools/node       npm packages from package.json / package-lock.json
# Uses only PyPI and the npm registry.  Safe to re-run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/tests/interop"
TOOLS="$ROOT/.tools"
mkdir -p "$TOOLS/node"

if [ ! -x "$TOOLS/venv/bin/python" ]; then
  python3 -m venv "$TOOLS/venv"
fi
"$TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check -r "$HERE/requirements.txt"

cp "$HERE/package.json" "$HERE/package-lock.json" "$TOOLS/node/"
(cd "$TOOLS/node" && npm ci --no-audit --no-fund --loglevel=error)

echo "python: $("$TOOLS/venv/bin/python" -c 'from importlib.metadata import version as v; print(*(f"{n} {v(n)}" for n in ("sd-jwt", "jwcrypto", "token-status-list", "soft-webauthn", "fido2")))')"
echo "node:   $(cd "$TOOLS/node" && npm ls --depth=0 2>/dev/null | tail -n +2 | tr -d '│├└─┬ ' | tr '\n' ' ')"
