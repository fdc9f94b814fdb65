#!/usr/bin/env bash
# LoRA training scale curve on a Qwen2.5-0.5B-shaped random model: `ft bench-train` at seq 256/512/1024, batch 1,
# rank 16, with and without gradient checkpointing, with and without an NF4 base (12 runs), and the PyTorch-eager
# baseline (eng/bench/lora_step.py, Debian's python3-torch) on the same shapes, with and without checkpointing.
# Prints one markdown table (tokens/s, MFU against each process's own matmul peak, step and peak memory, ours/PyTorch).
#
# Usage: eng/bench/scale-curve.sh [MODEL_DIR]        (default /work/bigmodels/qwen2.5-0.5b)
# The model is written once by `ft init --config eng/bench/configs/qwen2.5-0.5b.json --dtype f32` and reused.
# Environment: CONFIG (another config.json, e.g. a small one for a quick check), SEQS ("256 512 1024"), STEPS (1 timed
# step), WARMUP (0 untimed steps beyond the warm-up and memory steps), THREADS (nproc), PYTORCH_CHECKPOINTING (0; 1 adds the baseline with checkpointing, ~+4 min idle),
# BENCH_PRESET (1: also the bench preset against PyTorch), RESULTS (folder for the JSON of each run; default a new temp folder), FT (the ft binary; built if missing).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
model="${1:-/work/bigmodels/qwen2.5-0.5b}"
config="${CONFIG:-$root/eng/bench/configs/qwen2.5-0.5b.json}"
seqs="${SEQS:-256 512 1024}"
steps="${STEPS:-1}"
warmup="${WARMUP:-0}"
threads="${THREADS:-$(nproc)}"
results="${RESULTS:-$(mktemp -d /tmp/scale-curve.XXXXXX)}"
ft="${FT:-$root/services/Cli/bin/Release/net10.0/ft}"
mkdir -p "$results"
start=$(date +%s)

if [[ ! -x $ft ]]; then
  echo "scale-curve: building the CLI" >&2
  nice -n 19 dotnet build "$root/services/Cli/Cli.csproj" -c Release -m:1 -v q -nologo >&2
fi
if [[ ! -f $model/config.json ]]; then
  echo "scale-curve: writing the random model to $model (once)" >&2
  "$ft" init --config "$config" --dtype f32 --out "$model" >&2
fi

run() {   # name, then the command; keeps the JSON line and the load before the run
  local name=$1; shift
  echo "scale-curve: $name (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  echo "$(cut -d' ' -f1 /proc/loadavg)" > "$results/$name.load"
  "$@" | tail -n 1 > "$results/$name.json"
}

# The bench preset (4 layers, 512 wide, seq 512, batch 2) against the same step in PyTorch, first: it takes ~1 minute.
if [[ ${BENCH_PRESET:-1} == 1 ]]; then
  "$ft" init-tiny "$results/bench-model" --preset bench --force > /dev/null
  preset=(--seq 512 --batch 2 --rank 16 --steps 5 --threads "$threads")
  run "bench-ft" "$ft" bench-train --preset bench "${preset[@]}" --json
  run "bench-pt" "$root/eng/bench/lora-step.sh" --config "$results/bench-model" "${preset[@]}"
fi

common=(--seq SEQ --batch 1 --rank 16 --steps "$steps" --warmup "$warmup" --threads "$threads")
for seq in $seqs; do
  args=("${common[@]/SEQ/$seq}")
  for q in none nf4; do
    run "ft-$seq-$q-off" "$ft" bench-train --model "$model" "${args[@]}" --quantization "$q" --json
    run "ft-$seq-$q-on" "$ft" bench-train --model "$model" "${args[@]}" --quantization "$q" --gradient-checkpointing --json
  done
  run "pt-$seq-none-off" "$root/eng/bench/lora-step.sh" --config "$model" "${args[@]}"
  if [[ ${PYTORCH_CHECKPOINTING:-0} == 1 ]]; then
    run "pt-$seq-none-on" "$root/eng/bench/lora-step.sh" --config "$model" "${args[@]}" --gradient-checkpointing
  fi
done

/usr/bin/python3 - "$results" "$seqs" <<'EOF'
import json, os, sys
results, seqs = sys.argv[1], sys.argv[2].split()
def load(name):
    path = os.path.join(results, name + ".json")
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return None
    with open(path) as f:
        r = json.load(f)
    with open(os.path.join(results, name + ".load")) as f:
        r["load"] = float(f.read())
    return r
def rate(x):
    return f"{x:,.1f}" if x < 100 else f"{x:,.0f}"
def mib(x):
    return "n/a" if x is None or x != x else f"{x:,.0f}"
print("| seq | checkpointing | base | ft tok/s | ft MFU | ft CPU s/step | ft step peak / peak RSS MiB | PyTorch tok/s | PyTorch MFU "
      "| PyTorch CPU s/step "
      "| PyTorch step peak / peak RSS MiB | ours / PyTorch | load (ft, PyTorch) |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for seq in seqs:
    for ck in ("off", "on"):
        for q in ("none", "nf4"):
            ours, pt = load(f"ft-{seq}-{q}-{ck}"), load(f"pt-{seq}-{q}-{ck}")
            if ours is None:
                continue
            cells = [seq, ck, "F32" if q == "none" else "NF4", rate(ours['tokens_per_second']), f"{ours['mfu']:.1%}", f"{ours['cpu_seconds_per_step']:.1f}",
                     f"{mib(ours['step_peak_mib'])} / {mib(ours['peak_rss_mib'])}"]
            if pt is None:
                cells += ["", "", "", "", "", f"{ours['load']:.1f}"]
            else:
                cells += [rate(pt['tokens_per_second']), f"{pt['mfu']:.1%}", f"{pt['cpu_seconds_per_step']:.1f}", f"{mib(pt['step_peak_mib'])} / {mib(pt['peak_rss_mib'])}",
                          f"{ours['tokens_per_second'] / pt['tokens_per_second']:.2f}", f"{ours['load']:.1f}, {pt['load']:.1f}"]
            print("| " + " | ".join(cells) + " |")
bench = [load("bench-ft"), load("bench-pt")]
if None not in bench:
    print("\n| bench preset, seq 512, batch 2 | tok/s | MFU | CPU s/step | step peak / peak RSS MiB | load |")
    print("|---|---|---|---|---|---|")
    for name, r in zip(("ft", "PyTorch eager"), bench):
        print(f"| {name} | {rate(r['tokens_per_second'])} | {r['mfu']:.1%} | {r['cpu_seconds_per_step']:.2f} "
              f"| {mib(r['step_peak_mib'])} / {mib(r['peak_rss_mib'])} | {r['load']:.1f} |")
    print(f"\nbench preset, ours / PyTorch: {bench[0]['tokens_per_second'] / bench[1]['tokens_per_second']:.2f} in tokens/s, "
          f"{bench[1]['cpu_seconds_per_step'] / bench[0]['cpu_seconds_per_step']:.2f} in CPU s/step")
one = load(f"ft-{seqs[0]}-none-off")
if one is not None:
    print(f"\nft: {one['threads']} threads, matmul peak {one['peak_gflops']:.1f} GFLOP/s (seq {seqs[0]}); FLOPs per token "
          f"{one['flops_per_token'] / 1e9:.2f} G at seq {seqs[0]}; results in {results}")
EOF
echo "scale-curve: $(( $(date +%s) - start )) s in all, load now $(cut -d' ' -f1-3 /proc/loadavg)"
