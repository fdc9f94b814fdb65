#!/usr/bin/env bash
# Installs what the run and test commands need on a fresh Debian 12 that has only the .NET SDK.
# Idempotent: each step checks first and does nothing when the thing is already there.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
# A CJK font, so Chinese text (the seeds' language) renders in the browser tests' screenshots instead of boxes.
dpkg -s fonts-wqy-microhei >/dev/null 2>&1 || missing+=(fonts-wqy-microhei)
if [ ${#missing[@]} -gt 0 ]; then
  echo "prereqs: installing ${missing[*]} (Debian packages)" >&2
  sudo_if_needed apt-get update -qq
  DEBIAN_FRONTEND=noninteractive sudo_if_needed apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node reference engines: no lock file (the feed lacks other platforms' optional packages, so npm ci refuses).
node_dir="$root/eng/node"
stamp="$node_dir/node_modules/.ft-installed"
if [ ! -f "$stamp" ] || [ "$node_dir/package.json" -nt "$stamp" ]; then
  echo "prereqs: installing node packages in eng/node" >&2
  (cd "$node_dir" && NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install --omit=optional --no-package-lock --no-audit --no-fund --loglevel=error >/dev/null)
  touch "$stamp"
fi
