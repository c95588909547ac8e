#!/usr/bin/env bash
# Checks the systemd units of deploy/ with `systemd-analyze verify`, which .ci/run calls; skipped,
# saying so, where the tool is missing. A unit runs /opt/herald/bin/herald, where
# `npm install --global --prefix /opt/herald` puts the package's `herald` bin; verify insists the
# command exists, so each unit is checked with that path pointing at the bin this checkout's
# package.json declares (what the install links there). verify reports unknown or misspelt settings
# as warnings with exit code 0: any output fails the check.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v systemd-analyze >/dev/null; then
  echo "systemd-analyze not found: skipped verifying deploy/*.service"
  exit 0
fi

bin_rel="$(node -p "require('./package.json').bin.herald")"
bin="$PWD/${bin_rel#./}"
if [ ! -x "$bin" ]; then
  echo "package.json's bin 'herald' ($bin_rel) is not an executable file" >&2
  exit 1
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
units=(deploy/*.service)
for unit in "${units[@]}"; do
  if ! grep -qE '^ExecStart=/opt/herald/bin/herald (serve|api|worker)( |$)' "$unit"; then
    echo "$unit: ExecStart must run /opt/herald/bin/herald serve|api|worker" >&2
    exit 1
  fi
  sed "s#/opt/herald/bin/herald#${bin}#g" "$unit" >"$tmp/$(basename "$unit")"
done

out="$(systemd-analyze verify "$tmp"/*.service 2>&1)" || {
  printf '%s\n' "$out" >&2
  exit 1
}
if [ -n "$out" ]; then
  printf 'systemd-analyze verify warned:\n%s\n' "$out" >&2
  exit 1
fi
echo "systemd-analyze verify: ${#units[@]} units accepted (${units[*]})"
