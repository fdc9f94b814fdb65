#!/usr/bin/env bash
# This build against another build of ft on the bench preset, interleaved (docs/benchmarks/training.md): pairs of
# `ft bench-train --preset bench --seq 512 --batch 2 --rank 16 --steps 15 --json`, this build first, then the build named
# by BASELINE_FT (an ft built from another commit, e.g. `git worktree add /tmp/ft-base <commit>` and a Release build
# there). One line per run: tokens/s, GFLOP/s of the best matmul peak the process measured, MFU, CPU s/step, s/step.
# About 20 s per run on the idle 2-core machine.
# Usage: BASELINE_FT=/tmp/ft-base/services/Cli/bin/Release/net10.0/ft eng/bench/train-build-pairs.sh [pairs] [steps]
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
ft="$repo/services/Cli/bin/Release/net10.0/ft"
[[ -x $ft ]] || dotnet build "$repo/services/Cli/Cli.csproj" -c Release -v q >/dev/null
: "${BASELINE_FT:?set BASELINE_FT to the ft of the build to compare with}"
args=(bench-train --preset bench --seq 512 --batch 2 --rank 16 --steps "${2:-15}" --json)
show() { python3 "$repo/eng/bench/bench-train-line.py" "$1"; }
uptime
for _ in $(seq "${1:-4}"); do
  "$ft" "${args[@]}" 2>/dev/null | show "this build"
  "$BASELINE_FT" "${args[@]}" 2>/dev/null | show "baseline  "
done
uptime
