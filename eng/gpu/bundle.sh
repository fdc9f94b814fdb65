#!/usr/bin/env bash
# Packs what the GPU machine (no NuGet, no .NET; PyTorch with CUDA) needs into .device/ (gitignored, carried by the
# device tool): the .NET runtime as a tarball, and framework-dependent publishes of the given projects with every
# libtorch native removed (PyTorch's own libtorch is used there through LD_LIBRARY_PATH; see docs/benchmarks/gpu.md).
# Usage: eng/gpu/bundle.sh <name>=<project.csproj> [...]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/.device"
mkdir -p "$out"
if [ ! -f "$out/dotnet-runtime.tar.xz" ]; then
  dn="$(dirname "$(readlink -f "$(command -v dotnet)")")"
  tar -C "$dn" -cJf "$out/dotnet-runtime.tar.xz" dotnet host shared/Microsoft.NETCore.App
fi
for spec in "$@"; do
  name="${spec%%=*}"; project="${spec#*=}"
  rm -rf "$out/$name"
  dotnet publish "$root/$project" -c Release -o "$out/$name" -p:UseAppHost=false -v q -nologo
  # keep only linux-x64, and of its natives only libLibTorchSharp.so
  find "$out/$name/runtimes" -mindepth 1 -maxdepth 1 ! -name linux-x64 -exec rm -rf {} +
  find "$out/$name/runtimes/linux-x64/native" -type f ! -name libLibTorchSharp.so -delete 2>/dev/null || true
  du -sh "$out/$name"
done
