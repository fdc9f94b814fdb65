#!/usr/bin/env bash
# Export benchmark (docs/benchmarks/export.md): GGUF Q8_0 and Q4_K_M export throughput in MB/s of input weights,
# against the same run's raw disk-write speed (dd with fsync of the same byte count), and the merge time of a rank-16
# adapter on every Linear.
# Usage: eng/bench/export-bench.sh [preset] [work-dir]
#   preset: an init-tiny preset (bench = 4×512 F32, the default), or 0.5b: a random Qwen2.5-0.5B-shaped F16 checkpoint
#   (eng/bench/configs/export-0.5b.json, 0.99 GB, written once by `ft init` into $FT_BIGMODELS, default /work/bigmodels,
#   and reused; no merge step), followed each time by llama.cpp's quantizer on the same tensors
#   (eng/bench/ggml_quantize_baseline.py: ggml_quantize_chunk, no file reading) and by llama-quantize itself from an
#   f16 GGUF of ours (eng/bench/llama_quantize_baseline.py). BASELINE_FT=<path to another build's ft> also runs the exports with that build
#   (before/after in the same run). Takes about 1 minute for bench, 2–4 minutes for 0.5b on an idle 2-core machine.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
preset="${1:-bench}"
work="${2:-/tmp/ft-export-bench}"
rm -rf "$work" && mkdir -p "$work"
dotnet build "$repo/services/Cli/Cli.csproj" -c Release -v q >/dev/null
ft="$repo/services/Cli/bin/Release/net10.0/ft"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"

# One export of type $2 by build $1 (label $3): prints seconds, MB/s of input and the share of the raw write speed.
export_once() {
  rm -rf "$work/out"
  "$1" export "$base" --out "$work/out" --type "$2" --no-register --json 2>/dev/null \
    | python3 -c "import json,sys; m=json.load(sys.stdin); s=m['ggufInputMegabytesPerSecond']; print(f\"$3 $2: GGUF {m['ggufSeconds']:.2f} s, {s:.1f} MB/s of input weights = {100*s/$disk_mbs:.0f} % of raw write\")"
}

# llama.cpp's own quantizer (ggml_quantize_chunk from node-llama-cpp, both cores) on the tensors of the file just
# exported, each with the type ft chose: seconds, MB/s of input, and whether its bytes equal ft's.
llama_cpp_once() {
  local lib="$repo/eng/node/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64"
  if [ ! -f "$lib/libggml-base.so" ]; then echo "llama.cpp $1: skipped (node-llama-cpp not installed: eng/prereqs.sh)"; return; fi
  python3 "$repo/eng/bench/ggml_quantize_baseline.py" "$base" "$work"/out/*.gguf --lib "$lib" --out "$work/ggml.bin" \
    | python3 -c "import json,sys; m=json.load(sys.stdin); s=m['inputMegabytesPerSecond']; print(f\"llama.cpp's quantizer $1: {m['seconds']:.2f} s, {s:.1f} MB/s of input weights = {100*s/$disk_mbs:.0f} % of raw write; bytes equal to ft's: {m['bytesEqualToFtExport']}\")"
  rm -f "$work/ggml.bin"
}

# llama-quantize itself (llama_model_quantize from node-llama-cpp's libllama, all cores) from the f16 GGUF written
# before the loop to the same file type: seconds, MB/s of input, and whether every tensor equals ft's in type and bytes.
llama_quantize_once() {
  local lib="$repo/eng/node/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64"
  if [ ! -f "$lib/libggml-base.so" ]; then echo "llama-quantize $1: skipped (node-llama-cpp not installed: eng/prereqs.sh)"; return; fi
  python3 "$repo/eng/bench/llama_quantize_baseline.py" "$work"/f16/*.gguf "$work"/out/*.gguf --type "$1" --input-bytes "$bytes" \
      --lib "$lib" --out "$work/llama-quantize.gguf" 2>/dev/null \
    | python3 -c "import json,sys; m=json.load(sys.stdin); s=m['inputMegabytesPerSecond']; print(f\"llama-quantize $1: {m['seconds']:.2f} s, {s:.1f} MB/s of input weights = {100*s/$disk_mbs:.0f} % of raw write; same tensors as ft's: {m['sameTensorsAsFtExport']}\")"
  rm -f "$work/llama-quantize.gguf"
}

# Raw write of the input's byte count with dd (fsync), in MB/s.
raw_write() {
  local bytes=$1 mb=$(( ($1 + 999999) / 1000000 )) t0 t1
  t0=$(date +%s.%N); dd if=/dev/zero of="$work/dd.bin" bs=1M count="$mb" conv=fsync status=none; t1=$(date +%s.%N)
  rm -f "$work/dd.bin"
  python3 -c "print(f'{$mb * 1048576 / 1e6 / ($t1 - $t0):.1f}')"
}

if [ "$preset" = "0.5b" ]; then
  base="${FT_BIGMODELS:-/work/bigmodels}/export-0.5b-f16"
  if [ ! -f "$base/model.safetensors" ]; then
    "$ft" init --config "$repo/eng/bench/configs/export-0.5b.json" --dtype f16 --out "$base" --force >/dev/null
    "$ft" init-tiny "$work/tok" --preset bench >/dev/null 2>&1   # any BPE tokenizer: padding tokens fill the 151,936 rows
    cp "$work/tok/tokenizer.json" "$work/tok/tokenizer_config.json" "$base/"
  fi
  bytes=$(stat -c %s "$base/model.safetensors")
  cat "$base/model.safetensors" >/dev/null   # in the page cache, as a just-merged model is
  disk_mbs=$(raw_write "$bytes")
  echo "input weights: $bytes bytes (F16); raw disk write of as many bytes (dd bs=1M conv=fsync): $disk_mbs MB/s"
  "$ft" export "$base" --out "$work/f16" --type f16 --no-register >/dev/null 2>&1   # llama-quantize's input, not timed
  for type in q8_0 q4_k_m; do
    export_once "$ft" "$type" "this build"
    llama_cpp_once "$type"
    llama_quantize_once "$type"
    if [ -n "${BASELINE_FT:-}" ]; then export_once "$BASELINE_FT" "$type" "baseline"; fi
  done
  echo "machine: $(nproc) cores, load average after $(cut -d' ' -f1-3 /proc/loadavg)"
  exit 0
fi

base="$work/base"
"$ft" init-tiny "$work/base" --preset "$preset" >/dev/null 2>&1

# A PEFT adapter with random A and B (rank 16) for every Linear, written with the Python standard library only.
python3 - "$work/base" "$work/adapter" <<'PY'
import json, os, random, struct, sys
base, out = sys.argv[1], sys.argv[2]
cfg = json.load(open(os.path.join(base, "config.json")))
h, ff, L = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]
hd = cfg.get("head_dim") or h // cfg["num_attention_heads"]
q, kv = cfg["num_attention_heads"] * hd, cfg["num_key_value_heads"] * hd
shapes = {"self_attn.q_proj": (q, h), "self_attn.k_proj": (kv, h), "self_attn.v_proj": (kv, h), "self_attn.o_proj": (h, q),
          "mlp.gate_proj": (ff, h), "mlp.up_proj": (ff, h), "mlp.down_proj": (h, ff)}
r, rng = 16, random.Random(0)
header, blobs, offset = {}, [], 0
for i in range(L):
    for m, (o, n) in shapes.items():
        for name, shape in ((f"base_model.model.model.layers.{i}.{m}.lora_A.weight", (r, n)), (f"base_model.model.model.layers.{i}.{m}.lora_B.weight", (o, r))):
            count = shape[0] * shape[1]
            data = struct.pack(f"<{count}f", *(rng.gauss(0, 0.02) for _ in range(count)))
            header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + len(data)]}
            blobs.append(data); offset += len(data)
os.makedirs(out, exist_ok=True)
h_bytes = json.dumps(header, separators=(",", ":")).encode()
h_bytes += b" " * ((8 - len(h_bytes) % 8) % 8)
with open(os.path.join(out, "adapter_model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(h_bytes))); f.write(h_bytes); [f.write(b) for b in blobs]
json.dump({"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": r, "lora_alpha": 32, "lora_dropout": 0.0, "bias": "none",
           "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]},
          open(os.path.join(out, "adapter_config.json"), "w"))
PY

bytes=$(stat -c %s "$work/base/model.safetensors")
disk_mbs=$(raw_write "$bytes")
echo "input weights: $bytes bytes (F32); raw disk write of as many bytes (dd bs=1M conv=fsync): $disk_mbs MB/s"
for type in q8_0 q4_k_m; do
  export_once "$ft" "$type" "this build"
  if [ -n "${BASELINE_FT:-}" ]; then export_once "$BASELINE_FT" "$type" "baseline"; fi
done
"$ft" export "$work/base" --adapter "$work/adapter" --out "$work/out-merge" --type f16 --no-register --json 2>/dev/null \
  | python3 -c "import json,sys; m=json.load(sys.stdin); print(f\"merge (rank 16, all Linear): {m['mergeSeconds']:.2f} s; f16 GGUF of the merged model {m['ggufSeconds']:.2f} s\")"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
