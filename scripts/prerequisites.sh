#!/usr/bin/env bash
# The system packages the tests need beyond Node.js, installed from Debian's packages when missing
# (as root, or with sudo): php-cli runs the receivers two seed products document in PHP
# (test/profiles), and with `--e2e` Chromium, the browser the e2e suite drives. `npm test` itself
# installs nothing; it stops with a message pointing here when php is missing.
set -euo pipefail
missing=()
command -v php >/dev/null || missing+=(php-cli)
if [ "${1:-}" = "--e2e" ] && [ ! -x /usr/bin/chromium ]; then missing+=(chromium); fi
[ "${#missing[@]}" -eq 0 ] && exit 0
sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo)
echo "installing ${missing[*]} (Debian packages)" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
