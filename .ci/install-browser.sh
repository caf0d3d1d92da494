#!/usr/bin/env bash
# Installs what the real-browser tests (tests/browser/) need, on Debian 12, as root:
#   - Debian's chromium (/usr/bin/chromium), without recommends, plus fonts with Cyrillic;
#   - playwright-core and axe-core from tests/browser/package-lock.json (npm ci).
# Never downloads a browser of its own: playwright-core drives /usr/bin/chromium.
# Idempotent: a second run installs nothing new.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HARNESS="$ROOT/tests/browser"

log() { printf 'install-browser: %s\n' "$*"; }

# --- Debian packages ------------------------------------------------------------
PACKAGES=(chromium fonts-dejavu-core fonts-liberation)
missing=()
for pkg in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
        missing+=("$pkg")
    fi
done
if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        log "нужны права root, чтобы установить: ${missing[*]}" >&2
        exit 1
    fi
    log "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
else
    log "Debian packages already installed: ${PACKAGES[*]}"
fi
[[ -x /usr/bin/chromium ]] || { log "нет /usr/bin/chromium после установки" >&2; exit 1; }
/usr/bin/chromium --version 2>/dev/null || true

# --- Node.js packages -----------------------------------------------------------
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    log "нужны node (≥ 20) и npm" >&2
    exit 1
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if ((node_major < 20)); then
    log "нужен Node.js ≥ 20 (для playwright-core), а установлен $(node --version)" >&2
    exit 1
fi

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
lock="$HARNESS/package-lock.json"
stamp="$HARNESS/node_modules/.perechen-lock.sha256"
want="$(sha256sum "$lock" | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" \
      && -f "$HARNESS/node_modules/playwright-core/package.json" \
      && -f "$HARNESS/node_modules/axe-core/package.json" ]]; then
    log "node_modules up to date with package-lock.json"
else
    log "npm ci in tests/browser"
    (cd "$HARNESS" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
    printf '%s\n' "$want" >"$stamp"
fi
(cd "$HARNESS" && node -e '
const pw = require("playwright-core/package.json").version;
const axe = require("axe-core/package.json").version;
console.log(`install-browser: playwright-core ${pw}, axe-core ${axe}`);
')
