#!/usr/bin/env bash
# CI's "packages" step (`npm run check:packages`): Herald and its libraries install and work as a
# user gets them. Packs @herald/verify, @herald/client and Herald itself (`npm pack`, which builds
# them: their prepack scripts), installs the two libraries into an empty project (no dependencies,
# so offline) and Herald's tarball into another (its dependencies from the npm cache that `npm ci`
# filled), and uses each: a real signature verified, the client's types checked by tsc, herald/verify
# and herald/client imported, and the installed `herald` command (compiled JavaScript) run, its
# server answering with its migrations applied and its dashboard's files served. Also checks that
# every dependency's engines cover package.json's, so `npm ci` has no EBADENGINE to print.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
say() { printf 'packages (%ss): %s\n' "$SECONDS" "$*"; }
npm_quiet=(--no-audit --no-fund --loglevel=error)

say "engines"
node --input-type=module - <<'EOF'
// npm warns EBADENGINE when the running Node is outside a package's engines: the declared range
// must lie inside every installed package's range, for every Node version it admits.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
const semver = createRequire(`${process.cwd()}/package.json`)('semver');
const declared = JSON.parse(readFileSync('package.json', 'utf8')).engines.node;
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const narrower = Object.entries(lock.packages)
  .filter(([path, p]) => path && p.engines?.node && !semver.subset(declared, p.engines.node))
  .map(([path, p]) => `${path.replace(/.*node_modules\//, '')} wants node ${p.engines.node}`);
if (narrower.length) {
  console.error(`engines "${declared}" admits Node versions these packages refuse:\n  ${narrower.join('\n  ')}`);
  process.exit(1);
}
EOF

say "pack"
mkdir -p "$work/tarballs"
# The three builds at once (each is one TypeScript compile; the machine has two cores).
pack_pids=()
for name in verify client herald; do
  dir=packages/$name
  [ "$name" = herald ] && dir=.
  (cd "$dir" && npm pack --pack-destination "$work/tarballs" >"$work/pack-$name.log" 2>&1) &
  pack_pids+=("$!")
done
packed=true
for pid in "${pack_pids[@]}"; do wait "$pid" || packed=false; done
if [ "$packed" != true ]; then
  cat "$work"/pack-*.log >&2
  exit 1
fi
verify_tgz=$(echo "$work"/tarballs/herald-verify-*.tgz)
client_tgz=$(echo "$work"/tarballs/herald-client-*.tgz)
herald_tgz=$(echo "$work"/tarballs/herald-[0-9]*.tgz)
for tgz in "$verify_tgz" "$client_tgz"; do
  node -e '
    const p = JSON.parse(process.argv[1]);
    if (Object.keys({ ...p.dependencies, ...p.peerDependencies, ...p.optionalDependencies }).length)
      throw new Error(`${p.name} has dependencies`);
    if (p.scripts?.install || p.scripts?.postinstall) throw new Error(`${p.name} runs install scripts`);
  ' "$(tar -xzOf "$tgz" package/package.json)"
  files=$(tar -tzf "$tgz" | wc -l)
  say "$(basename "$tgz"): $(stat -c %s "$tgz") bytes, $files files, no dependencies"
done
tar -tzf "$herald_tgz" >"$work/herald-files"
for file in dist/cli/main.js dist/verify/index.js dist/db/migrations/001_init.sql dist/web/static/dashboard.js; do
  grep -qx "package/$file" "$work/herald-files" || {
    echo "herald's tarball lacks $file" >&2
    exit 1
  }
done
if grep -q '^package/src/' "$work/herald-files"; then
  echo "herald's tarball ships src/: bin/herald.js must run dist/" >&2
  exit 1
fi

say "the libraries on their own"
mkdir -p "$work/receiver"
cd "$work/receiver"
echo '{"name": "receiver", "private": true, "type": "module"}' >package.json
npm install --offline "${npm_quiet[@]}" "$verify_tgz" "$client_tgz"
installed=$(npm ls --all --parseable | sed "s|^$PWD/\?||" | sed '/^$/d' | sort | tr '\n' ' ')
[ "$installed" = "node_modules/@herald/client node_modules/@herald/verify " ] || {
  echo "installing the libraries brought more than themselves: $installed" >&2
  exit 1
}
cat >receiver.js <<'EOF'
import { createHmac, randomBytes } from 'node:crypto';
import { createClient, HeraldApiError } from '@herald/client';
import { verifyWebhook, WebhookVerificationError } from '@herald/verify';

// A Standard Webhooks request signed here with node:crypto, independently of Herald's code.
const key = randomBytes(24);
const secret = `whsec_${key.toString('base64')}`;
const body = '{"type":"invoice.created","timestamp":"2024-01-01T00:00:00Z","data":{"id":42}}';
const id = 'evt_check';
const timestamp = String(Math.floor(Date.now() / 1000));
const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
const headers = { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` };

const payload = verifyWebhook({ profile: 'standard', secret, body, headers });
if (payload.data?.id !== 42) throw new Error(`unexpected payload ${JSON.stringify(payload)}`);
try {
  verifyWebhook({ profile: 'standard', secret, body: body.replace('42', '43'), headers });
  throw new Error('a forged body verified');
} catch (err) {
  if (!(err instanceof WebhookVerificationError) || err.code !== 'INVALID_SIGNATURE') throw err;
}
const herald = createClient({ baseUrl: 'http://127.0.0.1:9', apiKey: 'unused' });
if (typeof herald.events?.publish !== 'function' || typeof HeraldApiError !== 'function') {
  throw new Error('the client lacks events.publish');
}
EOF
node receiver.js
# The .d.ts files stand alone: a strict TypeScript consumer compiles against them (library files
# checked too), with only Node's types beside them.
cat >consumer.ts <<'EOF'
import { createClient, type Endpoint, type Page } from '@herald/client';
import { type VerifiedWebhook, verifyWebhookDetailed } from '@herald/verify';

export async function firstUrl(baseUrl: string): Promise<string | undefined> {
  const page: Page<Endpoint> = await createClient({ baseUrl }).endpoints.list('acme');
  return page.data[0]?.url;
}
export function check(body: Buffer, headers: Record<string, string>): VerifiedWebhook {
  return verifyWebhookDetailed({ profile: 'standard', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', body, headers });
}
EOF
cat >tsconfig.json <<EOF
{
  "compilerOptions": {
    "module": "NodeNext", "moduleResolution": "NodeNext", "target": "ES2022", "lib": ["ES2023"],
    "strict": true, "noEmit": true, "skipLibCheck": false,
    "types": ["node"], "typeRoots": ["$repo/node_modules/@types"]
  },
  "files": ["consumer.ts"]
}
EOF
"$repo/node_modules/.bin/tsc" -p tsconfig.json

say "herald installed"
mkdir -p "$work/app"
cd "$work/app"
echo '{"name": "app", "private": true, "type": "module"}' >package.json
# Its dependencies come from the cache `npm ci` filled; what it lacks (a first run) is fetched.
npm install --prefer-offline "${npm_quiet[@]}" "$herald_tgz"
node --input-type=module -e "
  const { verifyWebhook } = await import('herald/verify');
  const { createClient } = await import('herald/client');
  const herald = await import('herald');
  if (typeof verifyWebhook !== 'function' || typeof createClient !== 'function') throw new Error('missing exports');
  if (herald.verifyWebhook !== verifyWebhook || herald.createClient !== createClient) throw new Error('herald re-exports differ');
"
version=$(npx --no-install herald --version)
[ "$version" = "$(node -p "require('$repo/package.json').version")" ] || {
  echo "herald --version printed '$version'" >&2
  exit 1
}
# No src/ installed, so bin/herald.js ran dist/cli/main.js, not tsx.
[ ! -e node_modules/herald/src ] || {
  echo "an installed herald has src/" >&2
  exit 1
}
port=$(node -e "const s = require('node:net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); })")
# Started directly (not through npx), so $! is Herald's own pid and the cleanup stops it.
env -u DATABASE_URL node_modules/.bin/herald serve --port "$port" --data-dir "$work/data" --log-level warn \
  >"$work/serve.log" 2>&1 &
server_pid=$!
node --input-type=module -e "
  const base = 'http://127.0.0.1:$port';
  // A first start initialises the embedded database: seconds, more on a busy machine.
  const deadline = Date.now() + 120_000;
  for (;;) {
    const res = await fetch(base + '/readyz').catch(() => undefined);
    if (res?.ok) break;
    process.kill($server_pid, 0); // throws once herald serve has exited
    if (Date.now() > deadline) throw new Error('herald serve did not become ready');
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const path of ['/ui', '/ui/static/dashboard.js']) {
    const res = await fetch(base + path);
    if (!res.ok) throw new Error(path + ' answered ' + res.status);
  }
" || {
  cat "$work/serve.log" >&2
  exit 1
}
say "herald $version: imports, --version and serve work from the tarball ($(stat -c %s "$herald_tgz") bytes)"
