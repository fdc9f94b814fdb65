#!/usr/bin/env bash
# The run command: installs what is missing, then starts the whole system (AppHost) with the embedded default job.
set -euo pipefail
cd "$(dirname "$0")"
eng/prereqs.sh
exec dotnet run --project AppHost -c Release -- "$@"
