#!/usr/bin/env bash
# Compares settings, or commits, of the end-to-end run in turns (the machine's speed drifts: compare
# within one invocation only). Each argument is label[@commit][:ENV=VALUE[,ENV=VALUE…]]; every
# variant runs twice, in turns, as `BENCH_ONLY=endToEnd BENCH_MODES=postgres npm run bench`, and one
# line per run is printed:
#   bash bench/in-turns.sh ahead3:HERALD_CLAIM_AHEAD=3 ahead8:HERALD_CLAIM_AHEAD=8
#   bash bench/in-turns.sh before@f913df9 now@HEAD
# IN_TURNS_MODE=pglite compares the embedded mode instead; IN_TURNS_GROUP=publishLatency compares the
# publish latency group (BENCH_ONLY=publishLatency, both storages) instead of the end-to-end run.
# A variant with a commit runs from a git worktree of it (this checkout's node_modules linked in), so
# the checkout may be edited meanwhile; one without runs from this checkout as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${IN_TURNS_MODE:-postgres}
group=${IN_TURNS_GROUP:-endToEnd}
root=$PWD
out=$(mktemp -d)
worktrees=()
cleanup() {
  for w in "${worktrees[@]}"; do git -C "$root" worktree remove --force "$w" >/dev/null 2>&1 || true; done
  git -C "$root" worktree prune
  rm -rf "$out"
}
trap cleanup EXIT

declare -A dirs
for spec in "$@"; do
  head=${spec%%:*}
  label=${head%%@*}
  dirs[$label]=$root
  if [[ $head == *@* ]]; then
    dir="$out/wt-$label"
    git worktree add --detach -q "$dir" "${head#*@}"
    ln -s "$root/node_modules" "$dir/node_modules"
    worktrees+=("$dir")
    dirs[$label]=$dir
  fi
done

for round in 1 2; do
  for spec in "$@"; do
    head=${spec%%:*}
    label=${head%%@*}
    envs=""
    [[ $spec == *:* ]] && envs=${spec#*:}
    # shellcheck disable=SC2046
    (cd "${dirs[$label]}" && env $(echo "$envs" | tr ',' ' ') BENCH_ONLY="$group" BENCH_MODES="$mode" \
      npm run bench >"$out/$label-$round.json" 2>/dev/null)
    if [[ $group == publishLatency ]]; then
      node -e '
const t = require("fs").readFileSync(process.argv[1], "utf8");
const p = JSON.parse(t.slice(t.indexOf("{"))).publishLatency;
const s = p.sequential, q = p.paced1000, f = (c) => `${c.p50Ms} / ${c.p99Ms}`;
console.log(process.argv[2].padEnd(12), "SELECT 1", p.databaseRoundTripMs, "ms | sequential p50 / p99: 0", f(s.endpoints0),
  "| 1", f(s.endpoints1), "| 10", f(s.endpoints10), "| 1,000/s to 1: call p99", q.endpoints1.call.p99Ms, "receipt p99",
  q.endpoints1.receipt.p99Ms, "| to 10: call p99", q.endpoints10.call.p99Ms, "receipt p99", q.endpoints10.receipt.p99Ms,
  "| after burst", p.afterBurst.receipt.p99Ms, "| PGlite", p.pglite.receipt.p99Ms,
  "ms | CPU per call Herald (main thread) / PostgreSQL at 1,000/s to 1", q.endpoints1.cpuMicrosPerCall.herald,
  `(${q.endpoints1.cpuMicrosPerCall.heraldMainThread}) /`, q.endpoints1.cpuMicrosPerCall.postgres, "to 10",
  q.endpoints10.cpuMicrosPerCall.herald, `(${q.endpoints10.cpuMicrosPerCall.heraldMainThread}) /`,
  q.endpoints10.cpuMicrosPerCall.postgres, "µs");
' "$out/$label-$round.json" "$label-$round"
      continue
    fi
    node -e '
const t = require("fs").readFileSync(process.argv[1], "utf8");
const p = JSON.parse(t.slice(t.indexOf("{")))[process.argv[3]];
const c = p.endToEndCpuMicrosPerDelivery;
const k = p.coldEndToEndCpuMicrosPerDelivery;
console.log(process.argv[2].padEnd(12), "SELECT 1", p.databaseRoundTripMs, "ms | ceiling", Math.round(p.ceilingPerSecond),
  "| warm", Math.round(p.endToEndPerSecond), "=", p.endToEndRatioToCeiling, "| cold", Math.round(p.coldEndToEndPerSecond),
  "=", p.coldEndToEndRatioToCeiling, "| CPU herald/postgres warm", c.herald, "/", c.postgres, "cold", k.herald, "/", k.postgres,
  "µs | ÷ durable loop", p.endToEndRatioToDurableLoop);
' "$out/$label-$round.json" "$label-$round" "$mode"
  done
done
