#!/usr/bin/env bash
# Compares settings of the end-to-end run in turns (the machine's speed drifts: compare within one
# invocation only). Each argument is label:ENV=VALUE[,ENV=VALUE…]; every variant runs twice, in turns,
# as `BENCH_ONLY=endToEnd BENCH_MODES=postgres npm run bench`, and one line per run is printed:
#   bash bench/in-turns.sh ahead3:HERALD_CLAIM_AHEAD=3 ahead8:HERALD_CLAIM_AHEAD=8
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
for round in 1 2; do
  for spec in "$@"; do
    label=${spec%%:*}
    envs=${spec#*:}
    # shellcheck disable=SC2046
    env $(echo "$envs" | tr ',' ' ') BENCH_ONLY=endToEnd BENCH_MODES=postgres npm run bench >"$out/$label-$round.json" 2>/dev/null
    node -e '
const t = require("fs").readFileSync(process.argv[1], "utf8");
const p = JSON.parse(t.slice(t.indexOf("{"))).postgres;
const c = p.endToEndCpuMicrosPerDelivery;
console.log(process.argv[2].padEnd(12), "SELECT 1", p.databaseRoundTripMs, "ms | ceiling", Math.round(p.ceilingPerSecond),
  "| warm", Math.round(p.endToEndPerSecond), "=", p.endToEndRatioToCeiling, "| cold", Math.round(p.coldEndToEndPerSecond),
  "| CPU herald/postgres", c.herald, "/", c.postgres, "µs | ÷ durable loop", p.endToEndRatioToDurableLoop);
' "$out/$label-$round.json" "$label-$round"
  done
done
rm -rf "$out"
