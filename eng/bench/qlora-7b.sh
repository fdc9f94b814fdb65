#!/usr/bin/env bash
# 7B-class QLoRA benchmark (docs/benchmarks/training.md, "7B-class QLoRA"): one LoRA training step (r16 on all 7
# projections, seq 256, batch 1) over a Llama-2-7B-shaped model whose attention and MLP Linears are quantized to NF4
# (double-quantized scales) on load, from a random BF16 checkpoint. Reports load time, RSS after load, seconds per step
# and the step's peak RSS, and /usr/bin/time's peak RSS of the whole run (load included).
# Usage: eng/bench/qlora-7b.sh [model-dir] [extra bench-train options, e.g. --gradient-checkpointing]
# The checkpoint (13.5 GB, eng/bench/configs/llama2-7b.json) is written once if the folder is absent (~4 min here).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
model="${1:-/work/bigmodels/llama2-7b}"
shift || true
dotnet build "$repo/services/Cli/Cli.csproj" -c Release -v q >/dev/null
ft="$repo/services/Cli/bin/Release/net10.0/ft"
if [ ! -f "$model/model.safetensors.index.json" ]; then
  "$ft" init --config "$repo/eng/bench/configs/llama2-7b.json" --dtype bf16 --out "$model"
fi
uptime
# --warmup 0: the bench's own untimed step and its memory step already precede the timed one (3 steps in all).
/usr/bin/time -v "$ft" bench-train --model "$model" --quantization nf4 --seq 256 --batch 1 --steps 1 --warmup 0 "$@" 2>&1 \
  | grep -E "^load|, seq [0-9]+, batch|Elapsed|Maximum resident"
uptime
