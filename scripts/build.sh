#!/usr/bin/env bash
# `npm run build` (and `npm pack`'s prepack): compiles src/ to dist/ (JavaScript + .d.ts), so an
# installed Herald runs compiled code (bin/herald.js) and 'herald/verify' and 'herald/client' resolve.
# The files the server reads at run time beside its modules are copied to the same places under dist/:
# the migrations (src/db/migrate.ts) and the dashboard's static files (src/web/web-routes.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
# The stamp bin/herald.js compares src/ against carries the build's start time: a source file
# changed while the build runs is newer than it, so that build is never taken for current.
started=$(mktemp)
trap 'rm -f "$started"' EXIT
rm -rf dist
npx tsc -p tsconfig.build.json
cp -R src/db/migrations dist/db/migrations
cp -R src/web/static dist/web/static
# bin/herald.js runs dist/ from a source checkout only while no source file is newer than this stamp.
mv "$started" dist/.built
