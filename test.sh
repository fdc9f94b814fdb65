#!/usr/bin/env bash
# The test command: installs what is missing, builds everything, runs every test project,
# and closes with one summary line "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")"
eng/prereqs.sh || exit 1
dotnet build FineTune.Aspire.sln -c Release -v q -nologo || exit 1

log="$(mktemp)"
dotnet test FineTune.Aspire.sln -c Release --no-build -nologo "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# Sum VSTest's per-project lines: "Passed!  - Failed:     0, Passed:    12, Skipped:     0, Total: ..."
read -r passed failed skipped < <(grep -E '(Passed|Failed)! +- ' "$log" | sed -E 's/.*Failed: *([0-9]+), Passed: *([0-9]+), Skipped: *([0-9]+).*/\2 \1 \3/' \
  | awk '{p+=$1; f+=$2; s+=$3} END {print p+0, f+0, s+0}')
rm -f "$log"
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit "$status"
