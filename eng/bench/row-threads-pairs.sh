#!/usr/bin/env bash
# Row threads against one batch on the bench preset (docs/benchmarks/training.md, "Row threads"): interleaved pairs of
# `ft bench-train` with the micro-batch's rows split over single-threaded shards (--row-threads 0, the default: as many
# as torch's intra-op threads) and with the batch run as one over the intra-op threads (--row-threads 1). One line per
# run: mode, tokens/s, GFLOP/s, the best matmul peak the process measured, MFU, CPU s/step, s/step. About 20 s per run
# on the idle 2-core machine.
# Usage: eng/bench/row-threads-pairs.sh [pairs] [steps]      (default 4 pairs of 15 timed steps)
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
ft="$repo/services/Cli/bin/Release/net10.0/ft"
[[ -x $ft ]] || dotnet build "$repo/services/Cli/Cli.csproj" -c Release -v q >/dev/null
args=(bench-train --preset bench --seq 512 --batch 2 --rank 16 --steps "${2:-15}" --json)
show() { python3 "$repo/eng/bench/bench-train-line.py" "$1"; }
uptime
for _ in $(seq "${1:-4}"); do
  "$ft" "${args[@]}" --row-threads 0 2>/dev/null | show "rows on threads"
  "$ft" "${args[@]}" --row-threads 1 2>/dev/null | show "one batch      "
done
uptime
