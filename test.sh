#!/usr/bin/env bash
# The test command: installs what is missing, builds everything, runs every test project,
# and closes with one summary line "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")"
eng/prereqs.sh || exit 1
dotnet build FineTune.Aspire.sln -c Release -v q -nologo || exit 1

# One test project at a time, in the solution's order: the process-heavy ones (AppHost, trainer replicas, the main job)
# each start real Redis servers, AppHosts and worker processes, and on 2 cores two of them at once starve each other's
# shutdown and lease timings. Every project runs even when an earlier one fails; the exit status says if any did.
log="$(mktemp)"
status=0
# Without ../shared (the reference tokenizers, templates and schemas CI has beside the clone), the test classes that read
# it (trait Needs=shared) are skipped, and the summary says so.
filter=()
if [ ! -d ../shared/reference ]; then
  filter=(--filter "Needs!=shared")
  echo "test.sh: ../shared is absent: skipping the test classes that read it (trait Needs=shared: reference tokenizers, chat templates, manifest schemas)" >&2
fi
for project in $(dotnet sln FineTune.Aspire.sln list | grep -E '^tests/.*\.Tests\.csproj$'); do
  dotnet test "$project" -c Release --no-build -nologo -p:FullSuite=true "${filter[@]}" "$@" 2>&1 | tee -a "$log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
done

# Sum VSTest's per-project lines: "Passed!  - Failed:     0, Passed:    12, Skipped:     0, Total: ..."
read -r passed failed skipped < <(grep -E '(Passed|Failed)! +- ' "$log" | sed -E 's/.*Failed: *([0-9]+), Passed: *([0-9]+), Skipped: *([0-9]+).*/\2 \1 \3/' \
  | awk '{p+=$1; f+=$2; s+=$3} END {print p+0, f+0, s+0}')
rm -f "$log"
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ ${#filter[@]} -eq 0 ] || echo "tests: the classes with trait Needs=shared were not run: ../shared is absent"
exit "$status"
