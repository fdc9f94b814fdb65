#!/usr/bin/env bash
# The OpenMP wait policy's effect on a LoRA step (docs/benchmarks/training.md, "Toward 60 % MFU"): interleaved pairs of
# `ft bench-train` on the bench preset with OMP_WAIT_POLICY=ACTIVE (libtorch's OpenMP threads spin between parallel
# regions) against libgomp's default (spin briefly, then sleep). One line per run: policy, tokens/s, GFLOP/s, the
# process's matmul peak, MFU, CPU s/step, s/step. About 10 s per run on the idle 2-core machine. ACTIVE under contention
# is many times slower, which is why ft does not set it.
# Usage: eng/bench/omp-wait-pairs.sh [pairs]      (default 3)
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
ft="$repo/services/Cli/bin/Release/net10.0/ft"
[[ -x $ft ]] || dotnet build "$repo/services/Cli/Cli.csproj" -c Release -v q >/dev/null
args=(bench-train --preset bench --seq 512 --batch 2 --rank 16 --steps 5 --json)
show() { python3 "$repo/eng/bench/bench-train-line.py" "$1"; }
uptime
for _ in $(seq "${1:-3}"); do
  OMP_WAIT_POLICY=ACTIVE "$ft" "${args[@]}" 2>/dev/null | show ACTIVE
  env -u OMP_WAIT_POLICY "$ft" "${args[@]}" 2>/dev/null | show default
done
uptime
