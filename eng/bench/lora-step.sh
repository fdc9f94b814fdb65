#!/usr/bin/env bash
# Runs the PyTorch-eager LoRA step baseline (lora_step.py) with Debian's python3-torch, installing it if missing.
# Usage: eng/bench/lora-step.sh --config MODEL_DIR_OR_CONFIG_JSON [--seq 512 --batch 2 --rank 16 --steps 5 --warmup 2 --threads N --gradient-checkpointing]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python=/usr/bin/python3
if ! "$python" -c 'import torch' 2>/dev/null; then
  echo "lora-step.sh: installing python3-torch (apt-get)" >&2
  apt-get install -y python3-torch >&2
fi
# Debian's torch is built against the generic libblas.so.3; the reference BLAS behind it runs a matmul ~50x slower
# than OpenBLAS, which would make the baseline meaningless. Install OpenBLAS and load it for this process.
openblas=/usr/lib/x86_64-linux-gnu/openblas-pthread
if [[ ! -e $openblas/libblas.so.3 ]]; then
  echo "lora-step.sh: installing libopenblas0-pthread (apt-get)" >&2
  apt-get install -y libopenblas0-pthread >&2
fi
export LD_LIBRARY_PATH="$openblas${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
exec "$python" "$here/lora_step.py" "$@"
