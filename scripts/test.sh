#!/usr/bin/env bash
# Runs every test file (Node 20's --test does not expand globs). Pass file paths to run only those.
# Tests use the machine's PostgreSQL (TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test)
# as well as embedded PGlite; without PostgreSQL its half is skipped and reported, unless CI=true.
set -euo pipefail
cd "$(dirname "$0")/.."
# Two seed products document their receivers in PHP; the tests run those receivers for real.
if ! command -v php >/dev/null; then
  echo "php not found: run 'bash scripts/prerequisites.sh' (installs php-cli), then the tests again" >&2
  exit 1
fi
if [ "$#" -gt 0 ]; then
  files=("$@")
else
  # Browser tests (*.browser.test.ts, Chromium) are `npm run e2e`'s.
  mapfile -t files < <(find test src -name '*.test.ts' -not -name '*.browser.test.ts' -not -path '*/node_modules/*' | sort)
fi
exec node --import tsx --test --test-concurrency="${TEST_CONCURRENCY:-2}" --test-reporter=spec "${files[@]}"
