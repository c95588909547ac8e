#!/usr/bin/env bash
# The OpenAPI document as SDK generators meet it (issue 17): produced without a server listening
# (scripts/openapi-document.ts), linted by Redocly's recommended rules (redocly.yaml) with no
# problem at all — warnings fail too — then turned into TypeScript types by openapi-typescript, which
# a small strict program must type-check against (real paths, bodies and the shared error schema;
# lines marked @ts-expect-error prove the types are not `any`). Run by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
# Neither tool may phone home from CI.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

node --import tsx scripts/openapi-document.ts "$tmp/openapi.json"

node_modules/.bin/redocly lint "$tmp/openapi.json" --config redocly.yaml --format=json >"$tmp/lint.json" 2>"$tmp/lint.err" || true
if ! node -e '
  const r = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
  for (const p of r.problems) console.error(`${p.severity} ${p.ruleId}: ${p.message} at ${p.location?.[0]?.pointer ?? "?"}`);
  console.log(`redocly lint: ${r.totals.errors} errors, ${r.totals.warnings} warnings`);
  process.exit(r.totals.errors + r.totals.warnings === 0 ? 0 : 1);
' "$tmp/lint.json"; then
  cat "$tmp/lint.err" >&2
  exit 1
fi

node_modules/.bin/openapi-typescript "$tmp/openapi.json" -o "$tmp/api.d.ts" --silent

cat >"$tmp/tsconfig.json" <<'JSON'
{
  "compilerOptions": {
    "strict": true,
    "noUncheckedIndexedAccess": true,
    "exactOptionalPropertyTypes": true,
    "noEmit": true,
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "target": "ES2022",
    "types": []
  },
  "files": ["usage.ts"]
}
JSON
cat >"$tmp/usage.ts" <<'TS'
import type { components, operations, paths } from './api.js';

type Json<T> = T extends { content: { 'application/json': infer B } } ? B : never;

// The one error schema, as every refusal carries it.
type ErrorBody = components['schemas']['Error'];
export const refusal: ErrorBody = {
  error: { code: 'ENDPOINT_NOT_FOUND', message: 'No such endpoint', details: [{ path: 'url', message: 'x' }] },
};
// @ts-expect-error details are required
export const noDetails: ErrorBody = { error: { code: 'X', message: 'm' } };

// Publishing: one event, or a batch.
type Publish = Json<operations['publishEvents']['requestBody']>;
export const one: Publish = { type: 'invoice.created', data: { amount: 1 } };
export const batch: Publish = { events: [{ type: 'invoice.created', data: {} }] };
// @ts-expect-error an event needs its type
export const untyped: Publish = { data: {} };

// Creating an endpoint answers its secret; a missing one answers the shared error.
type CreateEndpoint = paths['/v1/tenants/{tenantId}/endpoints']['post'];
export const secretOf = (r: Json<CreateEndpoint['responses'][201]>): string => r.secret;
export const codeOf = (r: Json<operations['getEndpoint']['responses'][404]>): string => r.error.code;
export const page = (r: Json<operations['listDeliveries']['responses'][200]>): string | null => r.nextCursor;
TS
node_modules/.bin/tsc -p "$tmp/tsconfig.json"
echo "openapi: lint clean, types generated and type-checked"
